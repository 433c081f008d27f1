import type { Instance, Phase } from '../../../contract.js';
import type { BackendProgram } from './backend-process.js';
import { hasExited, terminate } from './child.js';
import type { ProcessLike } from './adopted-process.js';

/** Options of {@link Replica}. */
export interface ReplicaOptions {
  /** e.g. `api-2`. */
  id: string;
  service: BackendProgram;
  /** The api's PORT, or the worker's METRICS_PORT: what the readiness probe calls. */
  port: number;
  /** Service environment (DATABASE_URL, …); PORT or METRICS_PORT and INSTANCE_ID are added. */
  env: Record<string, string>;
  /** Where its output goes (named in errors). */
  logFile: string;
  /** Starts one incarnation (a child process, a container) with this environment. */
  launch: (env: Record<string, string>) => ProcessLike;
  /** Called on every phase change, restart or exit. */
  onChange: (replica: Replica) => void;
  /** Longest graceful stop before SIGKILL. @defaultValue 15000 */
  stopGraceMs?: number;
}

/**
 * Wait before restarting after the `crashes`-th consecutive crash (1 = the first), as a
 * ReplicaSet's CrashLoopBackOff but faster: 250 ms, 500 ms, 1 s, … up to 30 s.
 */
export function restartDelay(crashes: number): number {
  return Math.min(30_000, 250 * 2 ** Math.min(Math.max(crashes - 1, 0), 7));
}

/** A run that stayed up this long resets the backoff. */
const STABLE_MS = 60_000;
const PROBE_STARTING_MS = 150;
const PROBE_READY_MS = 1_000;
/** Consecutive failed probes that make a ready replica unready. */
const FAILURE_THRESHOLD = 2;

/**
 * One api or worker replica, supervised like a pod: started, probed for readiness
 * (api: /readyz, worker: its metrics server's /healthz), restarted with backoff when it exits on
 * its own, stopped gracefully on request.
 */
export class Replica {
  phase: Phase = 'starting';
  restarts = 0;
  startedAt = Date.now();
  private process: ProcessLike | undefined;
  private consecutive = 0;
  private stopping = false;
  private paused = false;
  private probeTimer: NodeJS.Timeout | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  private readonly readyWaiters = new Set<() => void>();

  constructor(readonly options: ReplicaOptions) {}

  get id(): string {
    return this.options.id;
  }

  get service(): BackendProgram {
    return this.options.service;
  }

  get port(): number {
    return this.options.port;
  }

  get pid(): number | undefined {
    return this.process?.pid;
  }

  get origin(): string {
    return `http://127.0.0.1:${this.options.port}`;
  }

  /** The instance as the contract shows it. */
  toInstance(): Instance {
    return {
      id: this.id,
      service: this.service,
      phase: this.phase,
      restarts: this.restarts,
      pid: this.pid,
      port: this.port,
      startedAt: this.startedAt,
    };
  }

  /** Launches an incarnation and starts probing it. */
  start(): void {
    const env: Record<string, string> = { ...this.options.env, INSTANCE_ID: this.id, LOG_LEVEL: this.options.env.LOG_LEVEL ?? 'info' };
    env[this.service === 'api' ? 'PORT' : 'METRICS_PORT'] = String(this.options.port);
    this.watch(this.options.launch(env));
  }

  /** Supervises an incarnation a previous control plane started. */
  adopt(process: ProcessLike, restarts: number, startedAt: number): void {
    this.restarts = restarts;
    this.startedAt = startedAt;
    this.watch(process);
  }

  /** Resolves once ready; rejects after `timeoutMs` or when the replica is stopped. */
  waitReady(timeoutMs: number): Promise<void> {
    if (this.phase === 'ready') return Promise.resolve();
    return new Promise((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        this.readyWaiters.delete(done);
        if (this.phase === 'ready') resolve();
        else reject(new Error(`${this.id} was stopped before it became ready`));
      };
      const timer = setTimeout(() => {
        this.readyWaiters.delete(done);
        reject(
          new Error(
            `${this.id} did not become ready within ${timeoutMs / 1000} s (phase ${this.phase}, ${this.restarts} restarts); see ${this.options.logFile}`,
          ),
        );
      }, timeoutMs);
      this.readyWaiters.add(done);
    });
  }

  /** SIGTERM (the service drains), SIGKILL after the grace period; no restart follows. Safe twice. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    clearTimeout(this.probeTimer);
    const process = this.process;
    if (process && !hasExited(process)) {
      this.setPhase('terminating');
      await terminate(process, 'SIGTERM', this.options.stopGraceMs ?? 15_000);
    }
    this.setPhase('stopped');
    for (const waiter of [...this.readyWaiters]) waiter();
  }

  /** Hits the process from outside, as chaos does: kill and stop are followed by a restart. */
  signal(how: 'kill' | 'stop' | 'pause' | 'resume'): void {
    const process = this.process;
    if (!process || hasExited(process)) return;
    if (how === 'pause') {
      this.paused = true;
      process.kill('SIGSTOP');
      this.setPhase('paused');
    } else if (how === 'resume') {
      this.paused = false;
      process.kill('SIGCONT');
      this.failures = 0;
      this.setPhase('starting');
      this.probe();
    } else {
      if (this.paused) process.kill('SIGCONT');
      this.paused = false;
      process.kill(how === 'kill' ? 'SIGKILL' : 'SIGTERM');
    }
  }

  private watch(process: ProcessLike): void {
    this.process = process;
    this.failures = 0;
    this.setPhase('starting');
    const started = Date.now();
    process.once('exit', (code, signal) => {
      clearTimeout(this.probeTimer);
      if (this.stopping) return;
      this.paused = false;
      // A run that stayed up resets the count: this crash is the first of a new series.
      this.consecutive = Date.now() - started > STABLE_MS ? 1 : this.consecutive + 1;
      this.restarts += 1;
      this.exitReason = signal ?? `code ${code}`;
      this.setPhase('crashed');
      this.restartTimer = setTimeout(() => {
        if (this.stopping) return;
        this.startedAt = Date.now();
        this.start();
      }, restartDelay(this.consecutive));
    });
    this.probe();
  }

  /** Why the last incarnation exited (`SIGKILL`, `code 1`), for the timeline. */
  exitReason: string | undefined;

  private probe(): void {
    clearTimeout(this.probeTimer);
    const process = this.process;
    if (!process || hasExited(process) || this.stopping || this.paused) return;
    const path = this.service === 'api' ? '/readyz' : '/healthz';
    fetch(`${this.origin}${path}`, { signal: AbortSignal.timeout(1_000) })
      .then((response) => response.ok)
      .catch(() => false)
      .then((ok) => {
        if (this.process !== process || hasExited(process) || this.stopping || this.paused) return;
        if (ok) {
          this.failures = 0;
          if (this.phase !== 'ready') this.setPhase('ready');
        } else if (this.phase === 'ready' && ++this.failures >= FAILURE_THRESHOLD) {
          this.setPhase('starting');
        }
        this.probeTimer = setTimeout(() => this.probe(), this.phase === 'ready' ? PROBE_READY_MS : PROBE_STARTING_MS);
      });
  }

  private setPhase(phase: Phase): void {
    const changed = phase !== this.phase;
    this.phase = phase;
    if (phase === 'ready') for (const waiter of [...this.readyWaiters]) waiter();
    if (changed || phase === 'crashed') this.options.onChange(this);
  }
}
