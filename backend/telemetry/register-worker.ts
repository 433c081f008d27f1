// The worker's first import: starts tracing (when configured) before pg, ioredis and bullmq are
// loaded, so that their instrumentations see them.
import { startTracingOrExit } from './tracing.js';

startTracingOrExit('worker');
