import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LABELS } from '../../electron/control/runtimes/docker/labels.js';
import { freePort } from '../../electron/control/runtimes/local/ports.js';
import { eventually } from '../backend/support/api.js';
import { runScalelab } from '../control/support/scalelab-cli.js';
import { dockerAvailable, ensureTestImages } from './images.js';
import { removeTempHome } from '../support/temp-home.js';

const engine = await dockerAvailable();
if (!engine.ok) console.log(`skipped: no Docker engine (${engine.reason})`);
const describeDocker = engine.ok ? describe : describe.skip;

const STACK = 'dcli';
const docker = new Docker();
let home: string;
let images: { service: string; postgres: string; redis: string };

interface StatusJson {
  runtime: string;
  instances: { id: string; phase: string }[];
  endpoints: { balancer: string } | null;
  sample: { instances: { id: string; cpu: number | null; rssBytes: number | null }[] } | null;
}

async function labelledContainers(stack: string): Promise<string[]> {
  const list = await docker.listContainers({ all: true, filters: JSON.stringify({ label: [`${LABELS.stack}=${stack}`] }) });
  return list.map((c) => c.Names[0]!.slice(1)).sort();
}

describeDocker('scalelab CLI on the docker runtime', () => {
  beforeAll(async () => {
    images = await ensureTestImages((line) => console.log(`[test images] ${line}`));
    home = await mkdtemp(path.join(os.tmpdir(), 'scalelab-docker-cli-'));
  }, 900_000);

  afterAll(async () => {
    await runScalelab(home, ['down', '--purge', '--name', STACK]);
    await removeTempHome(home);
  }, 120_000);

  it('up --runtime docker starts the stack, status shows it with container stats, down --purge removes it', async () => {
    const port = await freePort();
    const imageArgs = ['--image-service', images.service, '--image-postgres', images.postgres, '--image-redis', images.redis];
    const up = await runScalelab(
      home,
      [
        'up',
        '--runtime',
        'docker',
        '--network',
        'host',
        '--name',
        STACK,
        '--port',
        String(port),
        '--api',
        '1',
        '--workers',
        '1',
        ...imageArgs,
      ],
      300_000,
    );
    expect(up.stderr + up.stdout).toContain(`starting stack "${STACK}" on Docker`);
    expect(up.code).toBe(0);
    expect(up.stdout).toMatch(/is up in [\d.]+ s with 1 api replica ready/);
    expect(await labelledContainers(STACK)).toEqual([
      `scalelab-${STACK}-api-1`,
      `scalelab-${STACK}-postgres`,
      `scalelab-${STACK}-redis`,
      `scalelab-${STACK}-worker-1`,
    ]);

    const status = JSON.parse((await runScalelab(home, ['status', '--json'])).stdout) as StatusJson;
    expect(status.runtime).toBe('docker');
    expect(status.instances.map((i) => `${i.id} ${i.phase}`).sort()).toEqual([
      'api-1 ready',
      'postgres ready',
      'redis ready',
      'worker-1 ready',
    ]);
    expect(status.endpoints?.balancer).toBe(`http://127.0.0.1:${port}`);
    // Telemetry's per-instance cpu and memory come from the engine's stats API.
    await eventually(
      'container stats in the sample',
      async () => {
        const now = JSON.parse((await runScalelab(home, ['status', '--json'])).stdout) as StatusJson;
        const api = now.sample?.instances.find((i) => i.id === 'api-1');
        return api?.cpu !== null && api?.cpu !== undefined && (api.rssBytes ?? 0) > 10_000_000;
      },
      20_000,
    );

    const mistake = await runScalelab(home, ['up', '--network', 'host']);
    expect(mistake.code).toBe(2);
    expect(mistake.stderr).toContain('--network applies to --runtime docker');

    const down = await runScalelab(home, ['down', '--purge', '--name', STACK], 120_000);
    expect(down.code).toBe(0);
    expect(await labelledContainers(STACK)).toEqual([]);
    const volumes = (await docker.listVolumes({ filters: { label: [`${LABELS.stack}=${STACK}`] } })).Volumes ?? [];
    expect(volumes).toEqual([]);
  });
});
