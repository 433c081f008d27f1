import type Docker from 'dockerode';
import type { CpuCounters, InstanceStats } from '../runtime.js';

/** The part of one stats API reading that cpu %, memory and throttling need. */
export interface StatsReading {
  cpu_stats?: {
    cpu_usage?: { total_usage?: number; percpu_usage?: number[] };
    system_cpu_usage?: number;
    online_cpus?: number;
    /** The container's CFS counters; throttled_time in ns. */
    throttling_data?: { periods?: number; throttled_periods?: number; throttled_time?: number };
  };
  precpu_stats?: { cpu_usage?: { total_usage?: number }; system_cpu_usage?: number };
  memory_stats?: { usage?: number; stats?: Record<string, number> };
}

/**
 * cpu as % of one core (100 = one core busy, as the other runtimes report it) and memory without
 * the page cache, computed the way `docker stats` does.
 */
export function usageOf(reading: StatsReading): { cpu: number | null; rssBytes: number | null } {
  const cpu = reading.cpu_stats;
  const pre = reading.precpu_stats;
  let percent: number | null = null;
  const cpuDelta = (cpu?.cpu_usage?.total_usage ?? 0) - (pre?.cpu_usage?.total_usage ?? 0);
  const systemDelta = (cpu?.system_cpu_usage ?? 0) - (pre?.system_cpu_usage ?? 0);
  if (pre?.system_cpu_usage && systemDelta > 0 && cpuDelta >= 0) {
    const cores = cpu?.online_cpus ?? cpu?.cpu_usage?.percpu_usage?.length ?? 1;
    percent = Math.round((cpuDelta / systemDelta) * cores * 1000) / 10;
  }
  const memory = reading.memory_stats;
  const cache = memory?.stats?.inactive_file ?? memory?.stats?.total_inactive_file ?? memory?.stats?.cache ?? 0;
  const rssBytes = memory?.usage === undefined ? null : Math.max(0, memory.usage - cache);
  return { cpu: percent, rssBytes };
}

/** The CFS counters of a reading (totals since the container started); undefined when it has none. */
export function throttlingOf(reading: StatsReading): CpuCounters | undefined {
  const t = reading.cpu_stats?.throttling_data;
  if (!t || t.periods === undefined) return undefined;
  return { periods: t.periods, throttledPeriods: t.throttled_periods ?? 0, throttledSeconds: (t.throttled_time ?? 0) / 1e9 };
}

/**
 * Keeps one streaming stats connection per running container (the engine sends a reading a
 * second), so {@link DockerStats.read} answers at once with the latest figures.
 */
export class DockerStats {
  private readonly streams = new Map<string, { containerId: string; stream: NodeJS.ReadableStream }>();
  private readonly latest = new Map<string, { cpu: number | null; rssBytes: number | null }>();
  private readonly counters = new Map<string, CpuCounters>();

  constructor(private readonly docker: Docker) {}

  /** Follows the containers in `running` (instance id → container id) and stops following the rest. */
  track(running: Map<string, string>): void {
    for (const [id, entry] of this.streams) {
      if (running.get(id) === entry.containerId) continue;
      (entry.stream as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
      this.streams.delete(id);
      this.latest.delete(id);
      this.counters.delete(id);
    }
    for (const [id, containerId] of running) {
      if (this.streams.has(id)) continue;
      const placeholder = { containerId, stream: undefined as unknown as NodeJS.ReadableStream };
      this.streams.set(id, placeholder);
      this.docker
        .getContainer(containerId)
        .stats({ stream: true })
        .then((stream) => {
          if (this.streams.get(id) !== placeholder) {
            (stream as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
            return;
          }
          placeholder.stream = stream;
          let buffer = '';
          stream.on('data', (chunk: Buffer) => {
            buffer += chunk.toString('utf8');
            let newline = buffer.indexOf('\n');
            while (newline >= 0) {
              const line = buffer.slice(0, newline);
              buffer = buffer.slice(newline + 1);
              try {
                const reading = JSON.parse(line) as StatsReading;
                this.latest.set(id, usageOf(reading));
                const counters = throttlingOf(reading);
                if (counters) this.counters.set(id, counters);
              } catch {
                // A partial line is completed by the next chunk.
              }
              newline = buffer.indexOf('\n');
            }
          });
          const forget = () => {
            if (this.streams.get(id) === placeholder) this.streams.delete(id);
          };
          stream.on('end', forget);
          stream.on('error', forget);
        })
        .catch(() => {
          if (this.streams.get(id) === placeholder) this.streams.delete(id);
        });
    }
  }

  /** The latest cpu % and memory of each followed instance. */
  read(): InstanceStats[] {
    return [...this.latest].map(([id, usage]) => ({ id, ...usage }));
  }

  /** The latest CFS counters of each followed instance (all containers report them; unlimited ones are never throttled). */
  throttling(): Map<string, CpuCounters> {
    return new Map(this.counters);
  }

  /** Stops every stream. Safe to call twice. */
  close(): void {
    this.track(new Map());
  }
}
