import { Worker } from 'node:worker_threads';

/** What the fault hooks are doing to this replica right now. */
export interface FaultsSnapshot {
  dbLatencyMs: number;
  cacheLatencyMs: number;
  errorRate: number;
  cpuBurnThreads: number;
  leakedMb: number;
  leakMbPerSecond: number;
}

const MIB = 1024 * 1024;
const SPIN_SOURCE = 'for (;;) {}';

/**
 * Faults injected into one replica by the control plane's chaos features.
 * All of them are undone by {@link Faults.clear} except a block already running.
 */
export class Faults {
  dbLatencyMs = 0;
  cacheLatencyMs = 0;
  errorRate = 0;
  private spinners: Worker[] = [];
  private spinTimer: NodeJS.Timeout | undefined;
  private leaked: Buffer[] = [];
  private leakTimer: NodeJS.Timeout | undefined;
  private leakMbPerSecond = 0;

  /** True when this request should fail on purpose. */
  shouldFail(): boolean {
    return this.errorRate > 0 && Math.random() < this.errorRate;
  }

  /** Spins `threads` cpu-bound threads for `durationMs`, so the replica's cpu use climbs without blocking it. */
  burnCpu(threads: number, durationMs: number): void {
    this.stopCpu();
    for (let i = 0; i < threads; i++) {
      const worker = new Worker(SPIN_SOURCE, { eval: true });
      worker.unref();
      this.spinners.push(worker);
    }
    this.spinTimer = setTimeout(() => this.stopCpu(), durationMs);
    this.spinTimer.unref();
  }

  /** Retains `mbPerSecond` MiB each second until `maxMb` is held or the faults are cleared. */
  leakMemory(mbPerSecond: number, maxMb: number): void {
    this.stopLeak();
    this.leakMbPerSecond = mbPerSecond;
    const perTick = Math.max(1, Math.round((mbPerSecond * MIB) / 10));
    this.leakTimer = setInterval(() => {
      if (this.leaked.length * perTick >= maxMb * MIB) return;
      // Buffer.alloc writes zeros, so the pages are really resident.
      this.leaked.push(Buffer.alloc(perTick, 1));
    }, 100);
    this.leakTimer.unref();
  }

  /** Blocks the event loop for `ms`, once, right after the current tick. */
  blockEventLoop(ms: number): void {
    setImmediate(() => {
      const until = Date.now() + ms;
      while (Date.now() < until) {
        // Deliberately busy: this is the fault.
      }
    });
  }

  snapshot(): FaultsSnapshot {
    return {
      dbLatencyMs: this.dbLatencyMs,
      cacheLatencyMs: this.cacheLatencyMs,
      errorRate: this.errorRate,
      cpuBurnThreads: this.spinners.length,
      leakedMb: Math.round(this.leaked.reduce((sum, b) => sum + b.length, 0) / MIB),
      leakMbPerSecond: this.leakMbPerSecond,
    };
  }

  /** Undoes every reversible fault. Safe to call twice. */
  clear(): void {
    this.dbLatencyMs = 0;
    this.cacheLatencyMs = 0;
    this.errorRate = 0;
    this.stopCpu();
    this.stopLeak();
  }

  private stopCpu(): void {
    clearTimeout(this.spinTimer);
    for (const worker of this.spinners) void worker.terminate();
    this.spinners = [];
  }

  private stopLeak(): void {
    clearInterval(this.leakTimer);
    this.leaked = [];
    this.leakMbPerSecond = 0;
  }
}

/** Resolves after `ms`; resolves at once for 0. */
export function delay(ms: number): Promise<void> {
  return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve();
}
