/**
 * The Docker runtime's PostgreSQL read replica (spec data.readReplica), against the real engine
 * with host networking (everything on loopback): one stack start, then the replica's seeding,
 * following, outage, re-seeding through the archive API, and removal with the stack.
 */
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Docker from 'dockerode';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withDefaults, type StackSpec } from '../../electron/contract.js';
import { DockerRuntime } from '../../electron/control/runtimes/docker/docker-runtime.js';
import { postgresContainer, postgresReplicaContainer, type StackLayout } from '../../electron/control/runtimes/docker/container-specs.js';
import { ensureNetwork, sweep } from '../../electron/control/runtimes/docker/docker-objects.js';
import { LABELS } from '../../electron/control/runtimes/docker/labels.js';
import { freePort } from '../../electron/control/runtimes/local/ports.js';
import { postgresAnswers } from '../../electron/control/runtimes/docker/store-container.js';
import { removeReplica, seedReplica } from '../../electron/control/runtimes/docker/replica-seed.js';
import type { DirectEndpoints } from '../../electron/control/runtimes/runtime.js';
import { eventually } from '../backend/support/api.js';
import { dockerAvailable, ensureTestImages, type TestImages } from './images.js';
import { removeTempHome } from '../support/temp-home.js';

const engine = await dockerAvailable();
if (!engine.ok) console.log(`skipped: no Docker engine (${engine.reason})`);
const describeDocker = engine.ok ? describe : describe.skip;

const STACK = 'dr';
const docker = new Docker();
let home: string;
let runtime: DockerRuntime;
let images: TestImages;
let spec: StackSpec;
let endpoints: DirectEndpoints;
const progress: string[] = [];

/** Every object labelled as the test stack's. */
async function labelled(): Promise<string[]> {
  const filter = { label: [`${LABELS.stack}=${STACK}`] };
  const containers = await docker.listContainers({ all: true, filters: JSON.stringify(filter) });
  const volumes = (await docker.listVolumes({ filters: filter })).Volumes ?? [];
  return [...containers.map((c) => c.Names[0]!.slice(1)), ...volumes.map((v) => `volume ${v.Name}`)].sort();
}

async function query<R extends pg.QueryResultRow>(url: string, sql: string, params: unknown[] = []): Promise<R[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return (await client.query<R>(sql, params)).rows;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Creates a user through the balancer (the api writes to the primary); its id. */
async function createUser(name: string): Promise<number> {
  const res = await fetch(`${endpoints.balancer}/users`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name, email: `${name.toLowerCase()}@example.com` }),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { id: number }).id;
}

const onReplica = async (id: number) =>
  (await query(endpoints.replicaUrl!, 'SELECT 1 FROM users WHERE id = $1', [id]).catch(() => [])).length === 1;

async function envOf(instance: string): Promise<Record<string, string>> {
  const [c] = await docker.listContainers({
    filters: JSON.stringify({ label: [`${LABELS.stack}=${STACK}`, `${LABELS.instance}=${instance}`] }),
  });
  const info = await docker.getContainer(c!.Id).inspect();
  return Object.fromEntries(info.Config.Env.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
}

/** `promise`, or a failure naming `what` (with the replica's last log lines) after `ms`. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        void runtime
          .logs('postgres-replica', 15)
          .then((log) => reject(new Error(`${what} within ${ms / 1000} s; the replica's log ends with:\n${log.join('\n')}`))),
      ms,
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Resolves when an outage's onBack is called (with its error, if any). */
function backPromise(): { onBack: (err?: Error) => void; back: Promise<Error | undefined> } {
  let onBack: (err?: Error) => void = () => undefined;
  const back = new Promise<Error | undefined>((resolve) => (onBack = resolve));
  return { onBack, back };
}

describeDocker('docker runtime: the PostgreSQL read replica (real engine, host network)', () => {
  beforeAll(async () => {
    images = await ensureTestImages((line) => console.log(`[test images] ${line}`));
    home = await mkdtemp(path.join(os.tmpdir(), 'scalelab-docker-replica-'));
    runtime = new DockerRuntime({ home });
    // Host networking keeps every byte on loopback; one worker is all the replica needs.
    spec = withDefaults({
      name: STACK,
      runtime: 'docker',
      port: 18_280,
      images,
      docker: { network: 'host' },
      replicas: { api: 2, worker: 1 },
      data: { readReplica: true },
    });
    const started = Date.now();
    endpoints = await runtime.up(spec, (m) => progress.push(m));
    console.log(`stack with a read replica up in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }, 900_000);

  afterAll(async () => {
    await runtime?.down({ keepData: false }).catch(() => undefined);
    await new DockerRuntime({ home }).purge(STACK).catch(() => undefined);
    await removeTempHome(home);
  }, 120_000);

  it('up seeds the replica with pg_basebackup and runs it as postgres-replica, on its own labelled volume, streaming through its slot', async () => {
    const instances = await runtime.instances();
    expect(instances.map((i) => `${i.id} ${i.service} ${i.phase}`).sort()).toEqual([
      'api-1 api ready',
      'api-2 api ready',
      'postgres postgres ready',
      'postgres-replica postgres ready',
      'redis redis ready',
      'worker-1 worker ready',
    ]);
    expect(progress.some((m) => m.startsWith('seeding the read replica: pg_basebackup from the primary at 127.0.0.1:'))).toBe(true);
    expect(progress).toContain('postgres-replica is ready');
    expect(await labelled()).toEqual([
      `scalelab-${STACK}-api-1`,
      `scalelab-${STACK}-api-2`,
      `scalelab-${STACK}-postgres`,
      `scalelab-${STACK}-postgres-replica`,
      `scalelab-${STACK}-redis`,
      `scalelab-${STACK}-worker-1`,
      `volume scalelab-${STACK}-pgdata`,
      `volume scalelab-${STACK}-pgdata-replica`,
    ]);
    const replicaPort = instances.find((i) => i.id === 'postgres-replica')!.port;
    expect(endpoints.replicaUrl).toMatch(new RegExp(`^postgres://scalelab:[^@]+@127\\.0\\.0\\.1:${replicaPort}/scalelab$`));
    expect(await query(endpoints.replicaUrl!, 'SELECT pg_is_in_recovery() AS standby')).toEqual([{ standby: true }]);
    await eventually(
      'the replica streaming from the primary',
      async () =>
        JSON.stringify(await query(endpoints.databaseUrl, 'SELECT application_name, state FROM pg_stat_replication')) ===
        JSON.stringify([{ application_name: 'scalelab-replica', state: 'streaming' }]),
      10_000,
    );
    expect(await query(endpoints.databaseUrl, 'SELECT slot_name, active FROM pg_replication_slots')).toEqual([
      { slot_name: 'scalelab_replica', active: true },
    ]);
    // The password reaches the replica through its environment, never its command line (which ps shows).
    const replica = await docker.getContainer(`scalelab-${STACK}-postgres-replica`).inspect();
    expect(replica.Config.Cmd.join(' ')).not.toContain(new URL(endpoints.databaseUrl).password);
  });

  it('passes the replica URL and the data settings to the api and worker containers, and the admin token to the workers', async () => {
    const replicaPort = new URL(endpoints.replicaUrl!).port;
    for (const instance of ['api-1', 'worker-1']) {
      const env = await envOf(instance);
      expect(env, instance).toMatchObject({ USERS_PARTITIONS: '0', EVENTS: 'true', ADMIN_TOKEN: runtime.adminToken() });
      expect(new URL(env.DATABASE_REPLICA_URL!).host, instance).toBe(`127.0.0.1:${replicaPort}`);
    }
    expect((await envOf('worker-1')).METRICS_PORT).toMatch(/^\d+$/);
  });

  it('a row written on the primary appears on the replica', async () => {
    const id = await createUser('Replicated');
    await eventually(`user ${id} on the replica`, () => onReplica(id), 10_000);
    // And the replica refuses writes: it is a standby.
    await expect(query(endpoints.replicaUrl!, "INSERT INTO users (name, email) VALUES ('x', 'x@example.com')")).rejects.toThrow(
      /read-only/,
    );
  });

  it('a restarted control plane adopts the running replica without seeding it again', async () => {
    const before = (await docker.getContainer(`scalelab-${STACK}-postgres-replica`).inspect()).Id;
    await runtime.dispose();
    runtime = new DockerRuntime({ home });
    const adopted: string[] = [];
    endpoints = await runtime.up(spec, (m) => adopted.push(m));
    expect(adopted).toContain(`adopted scalelab-${STACK}-postgres-replica`);
    expect(adopted.some((m) => m.startsWith('seeding'))).toBe(false);
    expect((await docker.getContainer(`scalelab-${STACK}-postgres-replica`).inspect()).Id).toBe(before);
    expect((await runtime.instances()).find((i) => i.id === 'postgres-replica')?.phase).toBe('ready');
    expect(endpoints.replicaUrl).toMatch(/^postgres:\/\/scalelab:.+@127\.0\.0\.1:\d+\/scalelab$/);
  });

  it('an outage (chaos kill-replica) kills the replica and brings it back with its data; it catches up on what it missed', async () => {
    const { onBack, back } = backPromise();
    await runtime.outage('postgres-replica', 60_000, onBack);
    expect((await runtime.instances()).find((i) => i.id === 'postgres-replica')?.phase).toBe('crashed');
    const missed = await createUser('Missed');
    runtime.endOutage('postgres-replica');
    expect(await within(back, 30_000, 'the replica was not back')).toBeUndefined();
    await eventually(`user ${missed} on the replica after its outage`, () => onReplica(missed), 15_000);
    expect((await runtime.instances()).find((i) => i.id === 'postgres-replica')).toMatchObject({ phase: 'ready', restarts: 1 });
    await expect(
      runtime.outage('postgres-replica', 1_000, () => undefined).then(() => runtime.outage('postgres-replica', 1_000, () => undefined)),
    ).rejects.toThrow(/already down/);
    await eventually(
      'the replica back after the second outage',
      async () => (await runtime.instances()).find((i) => i.id === 'postgres-replica')?.phase === 'ready',
      20_000,
    );
  });

  it('re-seeded by copying the data folder through the archive API (images without pg_basebackup), the replica follows the primary too', async () => {
    const before = await createUser('Before');
    const { onBack, back } = backPromise();
    // Held down while its volume is replaced; the copy runs against the live primary.
    await runtime.outage('postgres-replica', 600_000, onBack);
    // A primary that no longer holds the replica's slot cannot feed it: seeding starts over.
    await eventually(
      "the replica's slot dropped",
      async () => await query(endpoints.databaseUrl, "SELECT pg_drop_replication_slot('scalelab_replica')").then(() => true),
      10_000,
    );
    const primaryUrl = new URL(endpoints.databaseUrl);
    const seeded: string[] = [];
    await seedReplica({
      docker,
      layout: { stack: STACK, mode: 'host', images },
      primary: { container: docker.getContainer(`scalelab-${STACK}-postgres`), url: endpoints.databaseUrl, port: Number(primaryUrl.port) },
      password: decodeURIComponent(primaryUrl.password),
      workDir: home,
      onProgress: (m) => seeded.push(m),
      method: 'copy',
    });
    expect(seeded).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^removing volume scalelab-dr-pgdata-replica$/),
        expect.stringMatching(/^seeding the read replica: copying the primary's data folder/),
        'the read replica is seeded (archive copy)',
      ]),
    );
    expect(await labelled()).not.toContain(`scalelab-${STACK}-postgres-replica-seed`);
    runtime.endOutage('postgres-replica');
    expect(await within(back, 30_000, 'the re-seeded replica was not back')).toBeUndefined();
    const after = await createUser('After');
    await eventually('both users on the re-seeded replica', async () => (await onReplica(before)) && (await onReplica(after)), 15_000);
    expect(await query(endpoints.replicaUrl!, 'SELECT pg_is_in_recovery() AS standby')).toEqual([{ standby: true }]);
    expect(await query(endpoints.databaseUrl, 'SELECT slot_name, active FROM pg_replication_slots')).toEqual([
      { slot_name: 'scalelab_replica', active: true },
    ]);
  });

  it('down --purge removes the replica container and its volume with the rest of the stack', async () => {
    await runtime.down({ keepData: false }, (m) => progress.push(m));
    expect(await labelled()).toEqual([]);
    expect(progress).toContain(`removing volume scalelab-${STACK}-pgdata-replica (the read replica's data)`);
    await expect(runtime.outage('postgres-replica', 1_000, () => undefined)).rejects.toThrow(/no stack is running/);
  });
});

describeDocker('seeding the read replica on a bridge network (two containers, no stack)', () => {
  const BRIDGE = 'drbridge';
  const password = 'bridge-replica-pw';

  afterAll(async () => {
    await sweep(docker, BRIDGE, { volumes: true }, () => undefined).catch(() => undefined);
  }, 120_000);

  it('seeds through the network alias once the primary allows replication from other containers, and follows it', async () => {
    images ??= await ensureTestImages();
    const layout: StackLayout = { stack: BRIDGE, mode: 'bridge', images };
    const ports = { primary: await freePort(), replica: await freePort() };
    const url = (port: number) => `postgres://scalelab:${password}@127.0.0.1:${port}/scalelab`;
    await ensureNetwork(docker, BRIDGE, () => undefined);
    await docker.createVolume({ Name: `scalelab-${BRIDGE}-pgdata`, Labels: { [LABELS.stack]: BRIDGE } });
    const primary = await docker.createContainer(postgresContainer(layout, ports.primary, password));
    await primary.start();
    await eventually('the primary answering', () => postgresAnswers(url(ports.primary)), 60_000);
    const seeded: string[] = [];
    await seedReplica({
      docker,
      layout,
      primary: { container: primary, url: url(ports.primary), port: ports.primary },
      password,
      workDir: os.tmpdir(),
      onProgress: (m) => seeded.push(m),
    });
    expect(seeded).toContain('seeding the read replica: pg_basebackup from the primary at postgres:5432');
    const hba = await query<{ database: string[]; address: string | null }>(
      url(ports.primary),
      "SELECT database, address FROM pg_hba_file_rules WHERE 'replication' = ANY(database)",
    );
    expect(hba).toContainEqual({ database: ['replication'], address: 'all' });
    const replica = await docker.createContainer(postgresReplicaContainer(layout, ports.replica, ports.primary, password));
    await replica.start();
    await eventually('the replica answering on 127.0.0.1', () => postgresAnswers(url(ports.replica)), 60_000);
    const bindings = Object.values((await replica.inspect()).HostConfig.PortBindings ?? {}).flat() as { HostIp: string }[];
    expect(bindings.map((b) => b.HostIp)).toEqual(['127.0.0.1']);
    await query(url(ports.primary), 'CREATE TABLE bridged (n int); INSERT INTO bridged VALUES (42)');
    await eventually(
      'the row on the replica',
      async () => JSON.stringify(await query(url(ports.replica), 'SELECT n FROM bridged').catch(() => [])) === '[{"n":42}]',
      15_000,
    );
    // Seeding again finds the volume following the primary and leaves it alone.
    await replica.remove({ force: true });
    const again: string[] = [];
    await seedReplica({
      docker,
      layout,
      primary: { container: primary, url: url(ports.primary), port: ports.primary },
      password,
      workDir: os.tmpdir(),
      onProgress: (m) => again.push(m),
    });
    expect(again).toEqual(["the read replica's volume follows the primary already"]);
    // data.readReplica off at the next start: the volume goes, and so does the slot holding the primary's WAL.
    const removed: string[] = [];
    await removeReplica(docker, BRIDGE, url(ports.primary), (m) => removed.push(m));
    expect(removed).toEqual([
      `removing volume scalelab-${BRIDGE}-pgdata-replica`,
      'dropped the replication slot scalelab_replica (data.readReplica is off)',
    ]);
    expect(await query(url(ports.primary), 'SELECT slot_name FROM pg_replication_slots')).toEqual([]);
    expect(((await docker.listVolumes({ filters: { label: [`${LABELS.stack}=${BRIDGE}`] } })).Volumes ?? []).map((v) => v.Name)).toEqual([
      `scalelab-${BRIDGE}-pgdata`,
    ]);
  });
});
