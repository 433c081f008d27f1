import type { Sample } from '../../../electron/contract.js';

/** A replica's last minute, oldest first, for its sparklines. */
export interface TileHistory {
  cpu: (number | null)[];
  rps: (number | null)[];
  rssMiB: (number | null)[];
}

/** Seconds of history each tile's sparklines draw. */
const SPARK_SECONDS = 60;

/** Each replica's last minute of cpu, rps and memory, one point per sample (null where it had none). */
export function tileHistories(samples: Sample[]): Map<string, TileHistory> {
  const recent = samples.slice(-SPARK_SECONDS);
  const out = new Map<string, TileHistory>();
  recent.forEach((sample, n) => {
    for (const i of sample.instances) {
      if (i.service !== 'api' && i.service !== 'worker') continue;
      let h = out.get(i.id);
      if (!h) {
        h = {
          cpu: Array<number | null>(n).fill(null),
          rps: Array<number | null>(n).fill(null),
          rssMiB: Array<number | null>(n).fill(null),
        };
        out.set(i.id, h);
      }
      h.cpu.push(i.cpu);
      h.rps.push(i.rps);
      h.rssMiB.push(i.rssBytes == null ? null : i.rssBytes / 2 ** 20);
    }
    // A replica missing from this sample (not started yet, or gone) gets a gap.
    for (const h of out.values()) for (const line of [h.cpu, h.rps, h.rssMiB]) if (line.length < n + 1) line.push(null);
  });
  return out;
}
