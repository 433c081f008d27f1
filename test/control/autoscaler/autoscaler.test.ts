import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SEND_EMAIL_QUEUE, WELCOME_EMAIL_JOB } from '../../../backend/queue.js';
import type { AutoscalerDecision, AutoscalerStatus, StackStatus, TimelineEvent } from '../../../electron/contract.js';
import { ControlPlane } from '../../../electron/control/control-plane.js';
import { freePort } from '../../../electron/control/runtimes/local/ports.js';
import { loadSecrets } from '../../../electron/control/runtimes/local/state.js';
import { postgresDataDir } from '../../../electron/control/runtimes/local/postgres.js';
import { eventually } from '../../backend/support/api.js';
import { ok } from '../support/envelope.js';
import { removeTempHome } from '../../support/temp-home.js';

let home: string;
let controlPlane: ControlPlane;
let balancer: string;
const decisions: (AutoscalerDecision & { at: number })[] = [];
const events: TimelineEvent[] = [];

async function replicas(service: 'api' | 'worker'): Promise<number> {
  const status = await ok<StackStatus>(controlPlane.handle('stack:status', {}));
  return status.spec?.replicas[service] ?? 0;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  home = await mkdtemp(path.join(os.tmpdir(), 'scalelab-autoscaler-'));
  controlPlane = new ControlPlane({ home });
  controlPlane.on('decision', (d) => decisions.push({ ...d, at: Date.now() }));
  controlPlane.on('event', (e) => events.push(e));
  const status = await ok<StackStatus>(
    controlPlane.handle('stack:up', { name: 'autoscale', port: await freePort(), replicas: { api: 1, worker: 1 } }),
  );
  balancer = status.endpoints!.balancer;
}, 120_000);

afterAll(async () => {
  await controlPlane?.close();
  await rm(postgresDataDir(path.join(home, 'stacks', 'autoscale', 'postgres')), { recursive: true, force: true });
  await removeTempHome(home);
});

describe('autoscaler on the local runtime (demo preset: 3 s sync, 30 s scale-down window)', () => {
  it('refuses a configuration it cannot run, saying why', async () => {
    const bad = await controlPlane.handle('autoscaler:configure', { service: 'api', minReplicas: 5, maxReplicas: 2 });
    expect(bad).toMatchObject({ ok: false, error: { name: 'AutoscalerConfigError', message: 'minReplicas (5) is above maxReplicas (2)' } });
    const wrongMetric = await controlPlane.handle('autoscaler:configure', { service: 'api', metrics: { queuePerWorker: 10 } });
    expect(wrongMetric).toMatchObject({ ok: false, error: { message: expect.stringContaining('queuePerWorker scales the workers') } });
  });

  it('load above the target raises api replicas within two sync periods; they fall only after the window', async () => {
    await ok(
      controlPlane.handle('traffic:start', {
        profile: { kind: 'constant', rps: 120 },
        mix: { read: 100, write: 0, list: 0, missing: 0, sendEmail: 0 },
      }),
    );
    // Telemetry needs a couple of samples of the load before the first sync sees it.
    await sleep(2_500);
    const loadSeenAt = Date.now();
    const status = await ok<AutoscalerStatus>(
      controlPlane.handle('autoscaler:configure', { service: 'api', preset: 'demo', minReplicas: 1, maxReplicas: 4, metrics: { rps: 30 } }),
    );
    expect(status).toMatchObject({ mode: 'emulated', api: { config: { syncPeriodSeconds: 3, minReplicas: 1, maxReplicas: 4 } } });
    expect(status.api!.config.behavior.scaleDown.stabilizationWindowSeconds).toBe(30);

    await eventually(
      'a decision to scale api up',
      async () => decisions.some((d) => d.service === 'api' && d.decision.desired > d.decision.currentReplicas),
      15_000,
    );
    const up = decisions.find((d) => d.service === 'api' && d.decision.desired > d.decision.currentReplicas)!;
    // Two sync periods (6 s) from the moment the load was visible, with a second of slack for the sample cadence.
    expect(up.at - loadSeenAt).toBeLessThan(7_000);
    expect(up.decision.explanation).toMatch(/rps [\d.]+.* vs target 30/);
    expect(up.decision.proposals[0]).toMatchObject({ kind: 'rps', target: 30 });
    await eventually('api scaled up', async () => (await replicas('api')) >= 3, 20_000);
    expect(events.some((e) => e.kind === 'autoscaler' && /api 1 → \d/.test(e.message))).toBe(true);
    // Let the last scale up finish first, so the count the window holds is the peak's.
    await eventually(
      'api at its last desired count, every replica ready',
      async () => {
        const status = await ok<StackStatus>(controlPlane.handle('stack:status', {}));
        const desired = decisions.filter((d) => d.service === 'api').at(-1)?.decision.desired;
        const ready = status.instances.filter((i) => i.service === 'api' && i.phase === 'ready').length;
        return status.spec?.replicas.api === desired && ready === desired;
      },
      30_000,
    );
    // Two more syncs under the load, so the newest high recommendation, where the window starts, is the load's end.
    await sleep(7_000);
    const peak = await replicas('api');

    await ok(controlPlane.handle('traffic:stop', {}));
    const stoppedAt = Date.now();
    // Inside the 30 s window the highest recent recommendation holds the count.
    await sleep(15_000);
    expect(await replicas('api')).toBe(peak);
    const held = decisions.filter((d) => d.service === 'api' && d.at > stoppedAt + 5_000);
    expect(held.length).toBeGreaterThan(0);
    expect(held.every((d) => d.decision.desired === peak && d.decision.metricReplicas < peak)).toBe(true);
    // Then it falls.
    await eventually('api scaled back down', async () => (await replicas('api')) < peak, 40_000);
    expect(Date.now() - stoppedAt).toBeGreaterThan(25_000);
    await ok(controlPlane.handle('autoscaler:configure', { service: 'api', enabled: false }));
  }, 120_000);

  it('a queue burst scales the workers up, and back down once it is drained', async () => {
    const created = await fetch(`${balancer}/users`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Burst', email: 'burst@example.com' }),
    });
    const { id } = (await created.json()) as { id: number };
    const status = await ok<StackStatus>(controlPlane.handle('stack:status', {}));
    const redisPort = status.instances.find((i) => i.id === 'redis')!.port!;
    await ok(
      controlPlane.handle('autoscaler:configure', {
        service: 'worker',
        preset: 'demo',
        minReplicas: 1,
        maxReplicas: 4,
        metrics: { queuePerWorker: 20 },
      }),
    );
    // The stack's Redis wants its password (kept in the stack's 0600 secrets file).
    const { redisPassword } = await loadSecrets(path.join(home, 'stacks', 'autoscale'));
    const queue = new Queue(SEND_EMAIL_QUEUE, { connection: { host: '127.0.0.1', port: redisPort, password: redisPassword } });
    try {
      await queue.addBulk(
        Array.from({ length: 600 }, (_, n) => ({
          name: WELCOME_EMAIL_JOB,
          data: { userId: id, kind: WELCOME_EMAIL_JOB },
          opts: { jobId: `burst-${n}` },
        })),
      );
      await eventually('workers scaled up', async () => (await replicas('worker')) >= 3, 20_000);
      const up = decisions.find((d) => d.service === 'worker' && d.decision.desired > d.decision.currentReplicas)!;
      expect(up.decision.explanation).toMatch(/queue \d+ jobs? .*target 20/);
      await eventually('the burst drained', async () => (await queue.getWaitingCount()) + (await queue.getActiveCount()) === 0, 40_000);
      await eventually('workers back to 1', async () => (await replicas('worker')) === 1, 60_000);
    } finally {
      await queue.close();
    }
  }, 150_000);
});
