/**
 * The dashboard on the Kubernetes runtime, against a FAKE Kubernetes API server (no cluster can
 * run on these machines; see test/kubernetes/support/fake-kube-api.ts). A real local HTTP server
 * stands in for the pods' containers behind the fake's service and pod proxies.
 */
import { writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import { runScalelab } from '../control/support/scalelab-cli.js';
import { FakeKubeApi } from '../kubernetes/support/fake-kube-api.js';
import { artifacts, serveDashboard, type Served, fullPageShot } from './serve.js';

let api: FakeKubeApi;
let standIn: Server;
let served: Served;

test.beforeAll(async () => {
  console.log('kubernetes e2e: against a FAKE Kubernetes API server (no cluster can run here)');
  standIn = createServer((req, res) =>
    res.writeHead(req.method === 'POST' ? 201 : 200, { 'content-type': 'application/json' }).end(req.url === '/metrics' ? '' : '{}'),
  );
  await new Promise<void>((resolve) => standIn.listen(0, '127.0.0.1', () => resolve()));
  const url = `http://127.0.0.1:${(standIn.address() as AddressInfo).port}`;
  api = await FakeKubeApi.start({ podReadyAfterMs: 500, podBackend: () => url, hpaSyncMs: 1000 });
  const kubeconfig = path.join(artifacts, '..', 'fake-kubeconfig');
  await writeFile(kubeconfig, api.kubeConfig('fake'));
  process.env.KUBECONFIG = kubeconfig;
  served = await serveDashboard('scalelab-e2e-kube-');
});

test.afterAll(async () => {
  await served?.stop();
  delete process.env.KUBECONFIG;
  await api?.close();
  standIn?.close();
});

test('on Kubernetes, the dashboard shows the pods and the real HPA: its status, conditions and rescale events', async ({ page }) => {
  await page.goto(served.dashboard);
  await page.getByLabel('Runtime').selectOption('kubernetes');
  // The label is the version; the context has its own picker (and is in the picker's title).
  await expect(page.getByLabel('Runtime').locator('option[value="kubernetes"]')).toHaveText('kubernetes · Kubernetes v1.31.0-fake');
  await expect(page.getByLabel('Runtime')).toHaveAttribute('title', 'Kubernetes v1.31.0-fake (context fake)');
  await expect(page.getByRole('combobox', { name: /^Context/ })).toHaveValue('fake');
  // The service image is built locally, and only Minikube can load one: Start says what to do instead.
  await page.getByRole('button', { name: 'Start', exact: true }).click();
  await expect(page.getByRole('alert')).toContainText('only Minikube can load a local image');
  await expect(page.getByRole('alert')).toContainText('--image-service');

  // With a registry image (here from the CLI, talking to the same control plane) the stack starts.
  const up = await runScalelab(served.home, [
    'up',
    '--runtime',
    'kubernetes',
    '--image-service',
    'registry.example.com/scalelab/service:1.0',
    '--api',
    '2',
  ]);
  expect(up.code, up.stderr).toBe(0);
  await expect(page.getByTestId('stack-state')).toHaveText('running');
  const pods = page.locator('[data-testid^="tile-scalelab-api-"]');
  await expect(pods).toHaveCount(2);
  await expect(pods.first().locator('.tile-id')).toHaveText(/^api-[a-z0-9]{5}$/);

  const panel = page.getByRole('region', { name: 'Autoscaler' });
  await expect(panel.getByTestId('autoscaler-mode')).toHaveText('Kubernetes HPA');
  const card = panel.getByTestId('hpa-api');
  await expect(card).toContainText('No HPA');
  await card.getByRole('switch', { name: 'Autoscale api' }).click();
  await expect(card).toContainText('HorizontalPodAutoscaler scalelab-api · cpu 50 %');
  expect(api.objects('HorizontalPodAutoscaler').map((h) => h.metadata?.name)).toEqual(['scalelab-api']);

  // Busy pods (as metrics-server would report them): the HPA scales up and says why.
  const busy = setInterval(() => {
    for (const pod of api.objects('Pod', 'scalelab-default'))
      if (pod.metadata?.name?.startsWith('scalelab-api-'))
        api.setPodMetrics('scalelab-default', pod.metadata.name, { cpu: '200m', memory: '80Mi' });
  }, 300);
  try {
    await expect(card.getByRole('list', { name: 'api HPA conditions' })).toContainText('ScalingActive True');
    await expect(card.getByRole('list', { name: 'api HPA events' })).toContainText('SuccessfulRescale', { timeout: 30_000 });
    await expect(card.getByRole('list', { name: 'api HPA events' })).toContainText('above target');
    await expect.poll(async () => pods.count(), { timeout: 30_000 }).toBeGreaterThan(2);
    await expect(page.getByTestId('autoscaler-note')).toContainText('Kubernetes HPA on');
  } finally {
    clearInterval(busy);
  }
  await page.mouse.move(0, 0);
  await page.waitForTimeout(1500);
  await fullPageShot(page, path.join(artifacts, 'kubernetes-full.png'));
  await panel.screenshot({ path: path.join(artifacts, 'kubernetes-hpa.png') });

  await page.getByRole('button', { name: 'Stop' }).click();
  await expect(page.getByTestId('stack-state')).toHaveText('stopped');
});
