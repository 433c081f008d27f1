import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withDefaults, type StackSpec } from '../../electron/contract.js';
import { DockerRuntime } from '../../electron/control/runtimes/docker/docker-runtime.js';
import { removeOwned } from '../../electron/control/runtimes/docker/container-process.js';
import { LABELS, NotOwnedError } from '../../electron/control/runtimes/docker/labels.js';
import { eventually } from '../backend/support/api.js';
import { steadyTraffic } from '../control/support/steady-traffic.js';
import { dockerAvailable, ensureTestImages } from './images.js';
import { removeTempHome } from '../support/temp-home.js';

const engine = await dockerAvailable();
if (!engine.ok) console.log(`skipped: no Docker engine (${engine.reason})`);
const describeDocker = engine.ok ? describe : describe.skip;

const STACK = 'dt';
const DECOY = { 'scalelab.test': 'decoy' };
const docker = new Docker();
let home: string;
let runtime: DockerRuntime;
let spec: StackSpec;
let balancer: string;
const progress: string[] = [];
const events: string[] = [];

/** Objects that must survive everything the runtime does: unlabelled, or another stack's, with names like ours. */
async function createDecoys(image: string): Promise<void> {
  const sleeper = (name: string, labels: Record<string, string>) =>
    docker
      .createContainer({ name, Image: image, Cmd: ['sleep', 'infinity'], Labels: labels, HostConfig: { NetworkMode: 'none', Init: true } })
      .then((c) => c.start());
  await sleeper(`scalelab-${STACK}-api-9`, DECOY);
  await sleeper(`scalelab-${STACK}other-postgres`, { ...DECOY, [LABELS.stack]: `${STACK}other` });
  await docker.createVolume({ Name: `scalelab-${STACK}-pgdata-decoy`, Labels: DECOY });
  await docker.createNetwork({ Name: `scalelab-${STACK}-decoy`, Labels: DECOY });
}

async function decoysAlive(): Promise<string[]> {
  const containers = await docker.listContainers({ filters: JSON.stringify({ label: ['scalelab.test=decoy'] }) });
  const volumes = (await docker.listVolumes({ filters: { label: ['scalelab.test=decoy'] } })).Volumes ?? [];
  const networks = await docker.listNetworks({ filters: { label: ['scalelab.test=decoy'] } });
  return [
    ...containers.map((c) => `${c.Names[0]?.slice(1)} ${c.State}`),
    ...volumes.map((v) => `volume ${v.Name}`),
    ...networks.map((n) => `network ${n.Name}`),
  ].sort();
}

const DECOYS_ALIVE = [
  `network scalelab-${STACK}-decoy`,
  `scalelab-${STACK}-api-9 running`,
  `scalelab-${STACK}other-postgres running`,
  `volume scalelab-${STACK}-pgdata-decoy`,
];

async function removeDecoys(): Promise<void> {
  for (const c of await docker.listContainers({ all: true, filters: JSON.stringify({ label: ['scalelab.test=decoy'] }) }))
    await docker.getContainer(c.Id).remove({ force: true, v: true });
  for (const v of (await docker.listVolumes({ filters: { label: ['scalelab.test=decoy'] } })).Volumes ?? [])
    await docker.getVolume(v.Name).remove();
  for (const n of await docker.listNetworks({ filters: { label: ['scalelab.test=decoy'] } })) await docker.getNetwork(n.Id).remove();
}

/** Every object labelled as the test stack's. */
async function labelled(): Promise<string[]> {
  const filter = { label: [`${LABELS.stack}=${STACK}`] };
  const containers = await docker.listContainers({ all: true, filters: JSON.stringify(filter) });
  const volumes = (await docker.listVolumes({ filters: filter })).Volumes ?? [];
  const networks = await docker.listNetworks({ filters: filter });
  return [
    ...containers.map((c) => c.Names[0]!.slice(1)),
    ...volumes.map((v) => `volume ${v.Name}`),
    ...networks.map((n) => `network ${n.Name}`),
  ].sort();
}

async function containerIdOf(instance: string): Promise<string | undefined> {
  const list = await docker.listContainers({
    all: true,
    filters: JSON.stringify({ label: [`${LABELS.stack}=${STACK}`, `${LABELS.instance}=${instance}`] }),
  });
  return list[0]?.Id;
}

describeDocker('docker runtime (real engine, host network)', () => {
  beforeAll(async () => {
    const images = await ensureTestImages((line) => console.log(`[test images] ${line}`));
    await removeDecoys();
    await createDecoys(images.redis);
    home = await mkdtemp(path.join(os.tmpdir(), 'scalelab-docker-'));
    runtime = new DockerRuntime({ home, onEvent: (e) => events.push(e.message) });
    // Host networking keeps every byte of test traffic on loopback.
    spec = withDefaults({ name: STACK, runtime: 'docker', port: 18_180, images, docker: { network: 'host' } });
    balancer = (await runtime.up(spec, (m) => progress.push(m))).balancer;
  }, 900_000);

  afterAll(async () => {
    await runtime?.down({ keepData: false }).catch(() => undefined);
    await new DockerRuntime({ home }).purge(STACK).catch(() => undefined);
    await removeDecoys().catch(() => undefined);
    await removeTempHome(home);
  }, 120_000);

  it('up brings PostgreSQL, Redis, 2 api and 1 worker containers to ready, each labelled', async () => {
    const instances = await runtime.instances();
    expect(instances.map((i) => `${i.id} ${i.phase}`).sort()).toEqual([
      'api-1 ready',
      'api-2 ready',
      'postgres ready',
      'redis ready',
      'worker-1 ready',
    ]);
    expect(progress).toContain('postgres is ready');
    expect(progress.some((m) => m.includes('api-2 is ready'))).toBe(true);
    expect(await labelled()).toEqual([
      `scalelab-${STACK}-api-1`,
      `scalelab-${STACK}-api-2`,
      `scalelab-${STACK}-postgres`,
      `scalelab-${STACK}-redis`,
      `scalelab-${STACK}-worker-1`,
      `volume scalelab-${STACK}-pgdata`,
    ]);
    const created = await fetch(`${balancer}/users`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Ada', email: 'ada@example.com' }),
    });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: number };
    expect((await fetch(`${balancer}/users/${id}`)).status).toBe(200);
  });

  it('reads cpu and memory of each container from the stats API', async () => {
    await eventually(
      'stats for every container',
      async () => {
        const stats = await runtime.stats();
        return ['api-1', 'api-2', 'worker-1', 'postgres', 'redis'].every((id) =>
          stats.some((s) => s.id === id && s.cpu !== null && (s.rssBytes ?? 0) > 1_000_000),
        );
      },
      20_000,
    );
    expect(runtime.usage().get('api-1')?.rssBytes).toBeGreaterThan(10_000_000);
  });

  it('up again is idempotent: same containers, nothing restarted', async () => {
    const before = await containerIdOf('api-1');
    await runtime.up(spec, () => undefined);
    expect(await containerIdOf('api-1')).toBe(before);
    expect((await runtime.instances()).filter((i) => i.service === 'api')).toHaveLength(2);
  });

  it('scales api 1 → 4 → 1 under continuous requests without failing one', async () => {
    await runtime.scale('api', 1);
    const traffic = steadyTraffic(balancer, 6);
    await new Promise((resolve) => setTimeout(resolve, 500));
    await runtime.scale('api', 4);
    expect((await runtime.instances()).filter((i) => i.service === 'api' && i.phase === 'ready')).toHaveLength(4);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const snapshot = runtime.takeBalancerSnapshot()!;
    expect(Object.values(snapshot.upstreams).filter((u) => u.requests > 0).length).toBe(4);
    await runtime.scale('api', 1);
    await new Promise((resolve) => setTimeout(resolve, 500));
    await traffic.stop();
    expect(traffic.failures).toEqual([]);
    expect(traffic.ok()).toBeGreaterThan(100);
    expect((await labelled()).filter((n) => n.includes('-api-'))).toEqual([`scalelab-${STACK}-api-1`]);
    expect(events).toContain('scaling api 1 → 4');
  });

  it('a killed container comes back, with its restart counted', async () => {
    await runtime.scale('api', 2);
    const before = await containerIdOf('api-2');
    await runtime.kill('api-2', 'kill');
    await eventually(
      'api-2 back and ready',
      async () => {
        const now = (await runtime.instances()).find((i) => i.id === 'api-2');
        return now?.phase === 'ready' && now.restarts === 1;
      },
      30_000,
    );
    expect(await containerIdOf('api-2')).not.toBe(before);
    expect(events.some((e) => e.startsWith('api-2 exited (SIGKILL)'))).toBe(true);
  });

  it('a gracefully stopped worker (SIGTERM through docker-init) exits 0 and comes back', async () => {
    await runtime.kill('worker-1', 'stop');
    await eventually(
      'worker-1 back and ready',
      async () => {
        const now = (await runtime.instances()).find((i) => i.id === 'worker-1');
        return now?.phase === 'ready' && now.restarts === 1;
      },
      30_000,
    );
    // SIGTERM reached node (not just the init): it shut down cleanly rather than being killed.
    expect(events.some((e) => e.startsWith('worker-1 exited (code 0)'))).toBe(true);
  });

  it('pause freezes a container and resume brings it back to ready', async () => {
    await runtime.kill('api-1', 'pause');
    const id = (await containerIdOf('api-1'))!;
    await eventually('paused in the engine', async () => (await docker.getContainer(id).inspect()).State.Paused, 10_000);
    expect((await runtime.instances()).find((i) => i.id === 'api-1')?.phase).toBe('paused');
    await runtime.kill('api-1', 'resume');
    await eventually('api-1 ready again', async () => (await runtime.instances()).find((i) => i.id === 'api-1')?.phase === 'ready', 15_000);
    expect((await docker.getContainer(id).inspect()).State.Paused).toBe(false);
  });

  it('a store outage (chaos kill-cache) holds Redis down for its time, then brings it back', async () => {
    const before = await containerIdOf('redis');
    const killedAt = Date.now();
    let backAt = 0;
    await runtime.outage('redis', 2_000, () => (backAt = Date.now()));
    expect((await runtime.instances()).find((i) => i.id === 'redis')?.phase).toBe('crashed');
    await eventually('redis back', async () => backAt > 0, 20_000);
    expect(backAt - killedAt).toBeGreaterThanOrEqual(2_000);
    expect(await containerIdOf('redis')).not.toBe(before);
    // The api keeps answering meanwhile and after (its cache reconnects).
    expect((await fetch(`${balancer}/users/1`)).status).toBe(200);
  });

  it('a restarted control plane adopts the running stack without restarting it', async () => {
    const ids = await Promise.all(['api-1', 'api-2', 'postgres', 'redis', 'worker-1'].map(containerIdOf));
    await runtime.dispose();
    runtime = new DockerRuntime({ home, onEvent: (e) => events.push(e.message) });
    const lines: string[] = [];
    balancer = (await runtime.up(spec, (m) => lines.push(m))).balancer;
    expect(lines.filter((l) => l.startsWith('adopted')).length).toBe(5);
    expect(await Promise.all(['api-1', 'api-2', 'postgres', 'redis', 'worker-1'].map(containerIdOf))).toEqual(ids);
    expect((await runtime.instances()).find((i) => i.id === 'api-2')?.restarts).toBe(1);
    const created = await fetch(`${balancer}/users`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Grace', email: 'grace@example.com' }),
    });
    expect(created.status).toBe(201);
  });

  it('down leaves no labelled container or network; --purge also removes the volume; decoys survive', async () => {
    expect(await decoysAlive()).toEqual(DECOYS_ALIVE);
    // A container named like the stack's but not labelled as its own is refused, not removed;
    // chaos reaches only the stack's own instances.
    await expect(removeOwned(docker, `scalelab-${STACK}-api-9`, STACK)).rejects.toThrow(NotOwnedError);
    await expect(runtime.kill('api-9', 'kill')).rejects.toThrow('no instance "api-9"');
    await runtime.down({ keepData: true });
    expect(await labelled()).toEqual([`volume scalelab-${STACK}-pgdata`]);
    await expect(fetch(`${balancer}/healthz`)).rejects.toThrow();
    await runtime.purge(STACK);
    expect(await labelled()).toEqual([]);
    expect(await decoysAlive()).toEqual(DECOYS_ALIVE);
  });
});

describeDocker('docker runtime (real engine, bridge network)', () => {
  const BRIDGE = 'dtbridge';
  let bridgeHome: string;
  let bridge: DockerRuntime;

  beforeAll(async () => {
    bridgeHome = await mkdtemp(path.join(os.tmpdir(), 'scalelab-docker-bridge-'));
    bridge = new DockerRuntime({ home: bridgeHome });
  }, 900_000);

  afterAll(async () => {
    await bridge?.down({ keepData: false }).catch(() => undefined);
    if (bridgeHome) await rm(bridgeHome, { recursive: true, force: true });
  }, 120_000);

  it('runs the stack on its own labelled network, reachable only through 127.0.0.1', async () => {
    const images = await ensureTestImages();
    const endpoints = await bridge.up(
      withDefaults({ name: BRIDGE, runtime: 'docker', port: 18_181, images, replicas: { api: 1, worker: 1 } }),
      () => undefined,
    );
    const network = (await docker.listNetworks({ filters: { name: [`scalelab-${BRIDGE}`] } }))[0]!;
    expect(network.Labels?.[LABELS.stack]).toBe(BRIDGE);
    const api = await docker
      .getContainer(
        (await docker.listContainers({ filters: JSON.stringify({ label: [`${LABELS.stack}=${BRIDGE}`, `${LABELS.instance}=api-1`] }) }))[0]!
          .Id,
      )
      .inspect();
    expect(Object.keys(api.NetworkSettings.Networks)).toEqual([`scalelab-${BRIDGE}`]);
    // Published on loopback only.
    expect(
      Object.values(api.HostConfig.PortBindings ?? {})
        .flat()
        .map((b) => (b as { HostIp: string }).HostIp),
    ).toEqual(['127.0.0.1']);
    const created = await fetch(`${endpoints.balancer}/users`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Lin', email: 'lin@example.com' }),
    });
    expect(created.status).toBe(201);
    await bridge.down({ keepData: false });
    expect((await docker.listNetworks({ filters: { label: [`${LABELS.stack}=${BRIDGE}`] } })).length).toBe(0);
    expect((await docker.listVolumes({ filters: { label: [`${LABELS.stack}=${BRIDGE}`] } })).Volumes ?? []).toEqual([]);
  });
});
