/**
 * The control plane and the CLI on the Kubernetes runtime, against a FAKE Kubernetes API server
 * (no cluster can run here; see test/kubernetes/support/fake-kube-api.ts). A real local HTTP
 * server stands in for the pods' containers behind the fake's service and pod proxies.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AutoscalerStatus, ChaosStatus, Probe, StackStatus } from '../../electron/contract.js';
import { ControlPlane } from '../../electron/control/control-plane.js';
import { freePort } from '../../electron/control/runtimes/local/ports.js';
import { ok } from '../control/support/envelope.js';
import { runScalelab } from '../control/support/scalelab-cli.js';
import { FakeKubeApi } from './support/fake-kube-api.js';
import { removeTempHome } from '../support/temp-home.js';

console.log('control plane on Kubernetes: against a FAKE Kubernetes API server (no cluster can run here)');

const IMAGE = 'registry.example.com/scalelab/service:1.0';
let api: FakeKubeApi;
let standIn: Server;
let home: string;
let kubeconfig: string;

beforeAll(async () => {
  // Answers like the api's pods: 200, /metrics in Prometheus text, the admin hooks.
  standIn = createServer((req, res) => {
    if (req.url === '/metrics') res.writeHead(200, { 'content-type': 'text/plain' }).end('# TYPE up gauge\nup 1\n');
    else res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
  await new Promise<void>((resolve) => standIn.listen(0, '127.0.0.1', () => resolve()));
  const url = `http://127.0.0.1:${(standIn.address() as AddressInfo).port}`;
  api = await FakeKubeApi.start({ podReadyAfterMs: 100, podBackend: () => url, hpaSyncMs: 300 });
  home = await mkdtemp(path.join(tmpdir(), 'scalelab-kube-cp-'));
  kubeconfig = path.join(home, 'kubeconfig');
  await writeFile(kubeconfig, api.kubeConfig('fake'));
});

afterAll(async () => {
  await api?.close();
  standIn?.close();
  await removeTempHome(home);
});

describe('control plane on Kubernetes (fake API server)', () => {
  it('probes, starts, autoscales with a real HPA object, refuses what it cannot do, and purges', async () => {
    const controlPlane = new ControlPlane({ home, kubeconfig });
    try {
      const probes = await ok<Probe[]>(controlPlane.handle('runtime:probe', {}));
      expect(probes.find((p) => p.runtime === 'kubernetes')).toMatchObject({
        available: true,
        kubernetes: { context: 'fake', contexts: ['fake'] },
      });

      const status = await ok<StackStatus>(
        controlPlane.handle('stack:up', {
          runtime: 'kubernetes',
          name: 'cp',
          port: await freePort(),
          images: { service: IMAGE },
          replicas: { api: 2, worker: 1 },
        }),
      );
      expect(status.runtime).toBe('kubernetes');
      expect(status.instances.filter((i) => i.service === 'api' && i.phase === 'ready')).toHaveLength(2);

      const autoscaler = await ok<AutoscalerStatus>(
        controlPlane.handle('autoscaler:configure', { service: 'api', minReplicas: 2, maxReplicas: 6, metrics: { cpu: 60 } }),
      );
      expect(autoscaler.mode).toBe('hpa');
      expect(autoscaler.hpa?.api).toMatchObject({ name: 'scalelab-api', min: 2, max: 6, targetCpu: 60 });
      expect(api.objects('HorizontalPodAutoscaler').map((h) => h.metadata?.name)).toEqual(['scalelab-api']);
      await expect
        .poll(async () => (await ok<StackStatus>(controlPlane.handle('stack:status', {}))).sample?.autoscaler?.mode, { timeout: 10_000 })
        .toBe('hpa');

      const pause = await controlPlane.handle('chaos:inject', {
        action: 'pause',
        target: status.instances.find((i) => i.service === 'api')!.id,
      });
      expect(pause).toMatchObject({ ok: false, error: { message: expect.stringMatching(/cannot pause/) } });
      const latency = await ok<ChaosStatus>(controlPlane.handle('chaos:inject', { action: 'latency', target: 'all', dbMs: 50 }));
      expect(latency.faults).toEqual([expect.objectContaining({ action: 'latency', target: 'all' })]);
      await ok(controlPlane.handle('chaos:clear', {}));
      const verify = await controlPlane.handle('writes:verify', {});
      expect(verify).toMatchObject({ ok: false, error: { message: expect.stringMatching(/inside the cluster/) } });

      await ok(controlPlane.handle('stack:down', { purge: true }));
      expect(api.objects('Namespace').map((n) => n.metadata?.name)).not.toContain('scalelab-cp');
    } finally {
      await controlPlane.close();
    }
  });
});

describe('scalelab CLI on Kubernetes (fake API server)', () => {
  it('up --runtime kubernetes --context, status, scale and down --purge', async () => {
    const cliHome = await mkdtemp(path.join(tmpdir(), 'scalelab-kube-cli-'));
    process.env.KUBECONFIG = kubeconfig;
    try {
      const port = String(await freePort());
      const up = await runScalelab(cliHome, [
        'up',
        '--runtime',
        'kubernetes',
        '--context',
        'fake',
        '--name',
        'cli',
        '--port',
        port,
        '--image-service',
        IMAGE,
        '--api',
        '1',
      ]);
      expect(up.stderr).toBe('');
      expect(up.code).toBe(0);
      expect(up.stdout).toContain('starting stack "cli" on Kubernetes');
      expect(up.stdout).toMatch(/applied Deployment scalelab-api/);
      expect(up.stdout).toMatch(/Stack "cli" is up in [\d.]+ s with 1 api replica ready/);
      const status = await runScalelab(cliHome, ['status']);
      expect(status.stdout).toContain('on kubernetes: running');
      expect(status.stdout).toMatch(/scalelab-api-[a-z0-9]+/);
      const scale = await runScalelab(cliHome, ['scale', 'api', '3']);
      expect(scale.stdout).toContain('api: 3 of 3 ready');
      const wrong = await runScalelab(cliHome, ['up', '--runtime', 'local', '--context', 'fake']);
      expect(wrong.code).toBe(2);
      expect(wrong.stderr).toContain('--context applies to --runtime kubernetes');
      const down = await runScalelab(cliHome, ['down', '--purge']);
      expect(down.code).toBe(0);
      expect(api.objects('Namespace').map((n) => n.metadata?.name)).not.toContain('scalelab-cli');
    } finally {
      delete process.env.KUBECONFIG;
      await runScalelab(cliHome, ['down']).catch(() => undefined);
      await removeTempHome(cliHome);
    }
  });
});
