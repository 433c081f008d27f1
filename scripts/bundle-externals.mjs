// What the service bundles (scripts/bundle.mjs, scripts/bundle-service.mjs) leave out, and how.
//
// Tracing (backend/telemetry/tracing.ts) patches pg and ioredis as they are require()d
// (require-in-the-middle): code inlined into a bundle is never require()d, and an ES module
// import of them would need an import-in-the-middle loader. So the bundles load these two from
// node_modules with require, which their instrumentations see, and only after the entry's first
// import has started tracing. Everything else stays inlined: Fastify is traced through its
// diagnostics channel, http through the built-in module, BullMQ through its telemetry option.
// The OpenTelemetry packages are never bundled: tracing.ts requires them only when tracing is on.

/** Packages loaded with require from node_modules, so that their instrumentations can patch them. */
export const INSTRUMENTED = ['pg', 'ioredis'];

/** Left out entirely: swagger-ui serves its static files from its own package folder; pg-native is optional. */
export const EXTERNAL = ['@fastify/swagger-ui', 'pg-native'];

/** Packages the bundles load from node_modules at run time, which an image must therefore ship. */
export const RUNTIME_PACKAGES = [
  '@fastify/swagger-ui',
  ...INSTRUMENTED,
  '@opentelemetry/api',
  '@opentelemetry/sdk-trace-node',
  '@opentelemetry/exporter-trace-otlp-http',
  '@opentelemetry/resources',
  '@opentelemetry/semantic-conventions',
  '@opentelemetry/instrumentation',
  '@opentelemetry/instrumentation-http',
  '@opentelemetry/instrumentation-pg',
  '@opentelemetry/instrumentation-ioredis',
  'bullmq-otel',
];

const PATTERN = new RegExp(`^(${INSTRUMENTED.map((name) => name.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')).join('|')})$`);

/**
 * esbuild plugin: every import of an INSTRUMENTED package becomes a small CommonJS module
 * `module.exports = require('<name>')` whose require stays external, so the ES module bundle
 * gets the package through Node's require (the banner defines one) at the importing module's place.
 */
export const requireInstrumented = {
  name: 'require-instrumented',
  setup(build) {
    build.onResolve({ filter: PATTERN }, (args) =>
      args.kind === 'require-call' ? { path: args.path, external: true } : { path: args.path, namespace: 'require-instrumented' },
    );
    build.onLoad({ filter: /.*/, namespace: 'require-instrumented' }, (args) => ({
      contents: `module.exports = require(${JSON.stringify(args.path)});`,
      loader: 'js',
      resolveDir: process.cwd(),
    }));
  },
};
