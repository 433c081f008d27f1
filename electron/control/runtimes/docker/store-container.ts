import type Docker from 'dockerode';
import pg from 'pg';
import type { Instance, Phase } from '../../../contract.js';
import { tailFile } from '../local/log-files.js';
import { pingRedis } from '../local/redis.js';
import { restartDelay } from '../local/replica.js';
import type { SignalHow, StoreId } from '../runtime.js';
import { ContainerProcess, type ContainerProcessOptions } from './container-process.js';
import { NamedError } from '../../../../backend/named-error.js';

/** A store container exited or did not become ready in time; the message quotes its log. */
export class StoreStartError extends NamedError {}

/** Options of {@link StoreContainer}. */
export interface StoreContainerOptions extends ContainerProcessOptions {
  /** `postgres-replica` is the read replica, a `postgres` instance of its own. */
  id: StoreId;
  /** Its port on 127.0.0.1. */
  port: number;
  create: Docker.ContainerCreateOptions;
  /** Resolves true once the store answers (a query, a PING). */
  ready: () => Promise<boolean>;
  onChange: (store: StoreContainer) => void;
}

/**
 * PostgreSQL, its read replica or Redis in a container, supervised like a replica: readiness is a real query, and
 * a container that dies (a crash, or chaos) is started again with the same backoff.
 */
export class StoreContainer {
  phase: Phase = 'starting';
  restarts = 0;
  startedAt = Date.now();
  exitReason: string | undefined;
  private process: ContainerProcess | undefined;
  private stopping = false;
  private restartTimer: NodeJS.Timeout | undefined;
  private probeTimer: NodeJS.Timeout | undefined;
  /** Chaos: until when a killed store stays down, and who waits for it to be back. */
  private hold: { until: number; onBack: (err?: Error) => void } | undefined;

  constructor(readonly options: StoreContainerOptions) {}

  get id(): StoreId {
    return this.options.id;
  }

  get port(): number {
    return this.options.port;
  }

  toInstance(): Instance {
    return {
      id: this.id,
      service: this.id === 'redis' ? 'redis' : 'postgres',
      phase: this.phase,
      restarts: this.restarts,
      port: this.port,
      startedAt: this.startedAt,
    };
  }

  /** Creates and starts its container, or supervises `existing` when it already runs. */
  start(existing?: Docker.Container): void {
    this.watch(existing ? ContainerProcess.adopt(this.options, existing) : ContainerProcess.launch(this.options, this.options.create));
  }

  /** Resolves once the store answers; rejects (quoting its log) if it exits first or after `timeoutMs`. */
  async waitReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.phase === 'ready') return;
      if (this.phase === 'crashed' || this.phase === 'stopped') break;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    const log = (await tailFile(this.options.logFile, 12)).join('\n');
    const why =
      this.phase === 'ready'
        ? ''
        : this.phase === 'crashed'
          ? `its container exited (${this.exitReason})`
          : `it did not answer within ${timeoutMs / 1000} s`;
    if (this.phase !== 'ready')
      throw new StoreStartError(`${this.id} did not start: ${why}. Its log (${this.options.logFile}) ends with:\n${log}`);
  }

  /** Chaos: kill and stop are followed by a restart; pause freezes it, resume thaws it. */
  signal(how: SignalHow): void {
    const process = this.process;
    if (!process) return;
    const signal = { kill: 'SIGKILL', stop: 'SIGTERM', pause: 'SIGSTOP', resume: 'SIGCONT' } as const;
    process.kill(signal[how]);
    if (how === 'pause') this.setPhase('paused');
    if (how === 'resume') {
      this.setPhase('starting');
      this.probe();
    }
  }

  /** Chaos: kills the container and keeps it down for `forMs` before the usual restart. */
  async outage(forMs: number, onBack: (err?: Error) => void): Promise<void> {
    if (this.hold) throw new RangeError(`${this.id} is already down; it comes back on its own, or with \`scalelab chaos clear\``);
    const process = this.process;
    if (!process || process.exitCode !== null) throw new RangeError(`${this.id} is not running`);
    this.hold = { until: Date.now() + forMs, onBack };
    const exited = new Promise<void>((resolve) => process.once('exit', () => resolve()));
    process.kill('SIGKILL');
    await exited;
  }

  /** Ends an outage now: the container starts at once. */
  endOutage(): void {
    if (!this.hold) return;
    this.hold.until = 0;
    if (this.phase === 'crashed' && !this.stopping) {
      clearTimeout(this.restartTimer);
      this.startedAt = Date.now();
      this.start();
    }
  }

  /** Stops the container gracefully (no restart follows) and removes it. Safe twice. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    clearTimeout(this.probeTimer);
    const container = this.process?.container;
    if (container && this.process?.exitCode === null) {
      this.setPhase('terminating');
      await container.unpause().catch(() => undefined);
      // postgres' StopSignal is SIGINT (fast shutdown); 20 s before the engine kills it.
      await container.stop({ t: 20 }).catch(() => undefined);
    }
    await container?.remove({ force: true, v: true }).catch(() => undefined);
    this.setPhase('stopped');
  }

  private watch(process: ContainerProcess): void {
    this.process = process;
    this.setPhase('starting');
    process.once('exit', (code: number, signal: NodeJS.Signals | null) => {
      clearTimeout(this.probeTimer);
      if (this.stopping) return;
      this.restarts += 1;
      this.exitReason = signal ?? `code ${code}`;
      this.setPhase('crashed');
      const held = this.hold ? Math.max(0, this.hold.until - Date.now()) : 0;
      this.restartTimer = setTimeout(
        () => {
          if (this.stopping) return;
          this.startedAt = Date.now();
          this.start();
        },
        Math.max(held, restartDelay(Math.min(this.restarts, 5))),
      );
    });
    this.probe();
  }

  private probe(): void {
    clearTimeout(this.probeTimer);
    const process = this.process;
    if (!process || process.exitCode !== null || this.stopping || this.phase === 'paused') return;
    void this.options
      .ready()
      .catch(() => false)
      .then((ok) => {
        if (this.process !== process || process.exitCode !== null || this.stopping || this.phase === 'paused') return;
        if (ok && this.phase !== 'ready') {
          this.setPhase('ready');
          const hold = this.hold;
          this.hold = undefined;
          hold?.onBack();
        }
        if (!ok && this.phase === 'ready') this.setPhase('starting');
        // Quick while starting (Redis answers within milliseconds), relaxed once ready.
        this.probeTimer = setTimeout(() => this.probe(), this.phase === 'ready' ? 2_000 : 50);
      });
  }

  private setPhase(phase: Phase): void {
    const changed = phase !== this.phase;
    this.phase = phase;
    if (changed || phase === 'crashed') this.options.onChange(this);
  }
}

/** True once PostgreSQL at `url` runs a query (the official image restarts once after initdb). */
export async function postgresAnswers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** True once Redis on 127.0.0.1:`port` answers PING with PONG, after AUTH with `password`. */
export function redisAnswers(port: number, password: string): Promise<boolean> {
  return pingRedis(port, password, 1_000);
}
