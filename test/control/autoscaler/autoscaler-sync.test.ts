/**
 * The emulated HPA's sync loop, with its scale injected (a scale that the test lets finish): a
 * sync asks for the scale and returns, so the next syncs go on deciding while replicas start.
 */
import { describe, expect, it } from 'vitest';
import type { TimelineEvent } from '../../../electron/contract.js';
import { Autoscaler } from '../../../electron/control/autoscaler/autoscaler.js';
import { instanceSample, quietSample } from '../../support/sample-fixture.js';

describe('the autoscaler sync loop', () => {
  it('goes on deciding while a scale starts its replicas, from the count it asked for', async () => {
    let now = 1_700_000_000_000;
    let specReplicas = 1;
    const asked: number[] = [];
    const release: (() => void)[] = [];
    const events: string[] = [];
    // One ready replica at 120 req/s, and the ones a scale added, still starting (not ready).
    const sample = () => {
      const starting = Math.max(0, (asked.at(-1) ?? 1) - 1);
      return quietSample(now, [
        instanceSample({ id: 'api-1', rps: 120 }),
        ...Array.from({ length: starting }, (_, i) => instanceSample({ id: `api-${i + 2}`, ready: false, phase: 'starting', rps: null })),
      ]);
    };
    const autoscaler = new Autoscaler({
      latest: sample,
      running: () => true,
      current: () => specReplicas,
      scale: (_service, replicas) => {
        asked.push(replicas);
        return new Promise<void>((resolve) =>
          release.push(() => {
            specReplicas = replicas;
            resolve();
          }),
        );
      },
      record: (e: Omit<TimelineEvent, 't'>) => events.push(e.message),
      now: () => now,
    });
    autoscaler.configure({ service: 'api', preset: 'demo', minReplicas: 1, maxReplicas: 4, metrics: { rps: 30 } });
    try {
      const first = await autoscaler.sync('api');
      expect(first).toMatchObject({ currentReplicas: 1, desired: 4 });
      expect(asked).toEqual([4]);
      // The scale has not finished: the next sync still decides, from the 4 asked for, and asks for nothing more.
      now += 3_000;
      const second = await autoscaler.sync('api');
      expect(second, 'a sync while the scale runs').toBeDefined();
      expect(second!.currentReplicas).toBe(4);
      expect(asked).toEqual([4]);
      expect(events.filter((m) => m.startsWith('api 1 → 4'))).toHaveLength(1);
      release.shift()!();
      await autoscaler.settled();
      // Once it finished, the count is the runtime's again.
      now += 3_000;
      expect((await autoscaler.sync('api'))!.currentReplicas).toBe(4);
    } finally {
      autoscaler.close();
    }
  });

  it('a scale that fails goes on the timeline; the next sync starts from the runtime count and asks again', async () => {
    let now = 1_700_000_000_000;
    const events: string[] = [];
    const asked: number[] = [];
    const autoscaler = new Autoscaler({
      latest: () => quietSample(now, [instanceSample({ id: 'api-1', rps: 120 })]),
      running: () => true,
      current: () => 1,
      scale: (_service, replicas) => {
        asked.push(replicas);
        return Promise.reject(new Error('the runtime refused'));
      },
      record: (e) => events.push(e.message),
      now: () => now,
    });
    autoscaler.configure({ service: 'api', preset: 'demo', minReplicas: 1, maxReplicas: 4, metrics: { rps: 30 } });
    try {
      expect(await autoscaler.sync('api')).toMatchObject({ currentReplicas: 1, desired: 4 });
      await autoscaler.settled();
      await new Promise((r) => setImmediate(r));
      expect(events).toContain('autoscaler api: the runtime refused');
      // Not capped by a scale-up policy counting the change that never happened.
      now += 3_000;
      expect(await autoscaler.sync('api')).toMatchObject({ currentReplicas: 1, desired: 4 });
      expect(asked).toEqual([4, 4]);
    } finally {
      autoscaler.close();
    }
  });
});
