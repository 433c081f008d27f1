import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withDefaults } from '../../electron/contract.js';
import { DockerRuntime } from '../../electron/control/runtimes/docker/docker-runtime.js';
import { LABELS } from '../../electron/control/runtimes/docker/labels.js';
import { freePort } from '../../electron/control/runtimes/local/ports.js';
import { dockerAvailable, ensureTestImages } from './images.js';
import { makeTempHome, removeTempHome } from '../support/temp-home.js';
import { rawRedisCommand } from '../control/support/raw-redis.js';

const engine = await dockerAvailable();
if (!engine.ok) console.log(`skipped: no Docker engine (${engine.reason})`);
const describeDocker = engine.ok ? describe : describe.skip;

const STACK = 'dredis';
const run = promisify(execFile);
const docker = new Docker();
let home: string;
let runtime: DockerRuntime;
let endpoints: Awaited<ReturnType<DockerRuntime['up']>>;
/** The user the first test wrote, read back after the Redis restart. */
let written: number | undefined;

describeDocker('docker Redis password (real engine, bridge network)', () => {
  beforeAll(async () => {
    const images = await ensureTestImages((line) => console.log(`[test images] ${line}`));
    home = await makeTempHome('scalelab-docker-redis-');
    runtime = new DockerRuntime({ home });
    endpoints = await runtime.up(
      withDefaults({
        name: STACK,
        runtime: 'docker',
        port: await freePort(),
        images,
        replicas: { api: 1, worker: 0 },
        docker: { network: 'bridge' },
      }),
      () => undefined,
    );
  }, 900_000);

  afterAll(async () => {
    await runtime?.down({ keepData: false }).catch(() => undefined);
    await new DockerRuntime({ home }).purge(STACK).catch(() => undefined);
    await removeTempHome(home);
  }, 120_000);

  it('refuses an unauthenticated SET user:N (NOAUTH), and GET /users/N still serves the real row', async () => {
    const created = await fetch(`${endpoints.balancer}/users`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Dora', email: 'dora@example.com' }),
    });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: number };
    written = id;
    expect((await fetch(`${endpoints.balancer}/users/${id}`)).status).toBe(200);
    const port = Number(new URL(endpoints.redisUrl).port);
    const forged = JSON.stringify({ id, name: 'Mallory', email: 'mallory@example.com', createdAt: new Date().toISOString() });
    expect(await rawRedisCommand(port, `SET user:${id} '${forged}'`)).toMatch(/^-NOAUTH/);
    const served = (await (await fetch(`${endpoints.balancer}/users/${id}`)).json()) as { name: string };
    expect(served.name).toBe('Dora');
    // With the password, still no administration or wiping (the ACL).
    const client = new Redis(endpoints.redisUrl, { maxRetriesPerRequest: 0 });
    try {
      await expect(client.flushall()).rejects.toThrow(/NOPERM/);
      await expect(client.config('GET', 'requirepass')).rejects.toThrow(/NOPERM/);
    } finally {
      client.disconnect();
    }
  });

  it("keeps the password off redis-server's command line (host ps, docker inspect's Cmd)", async () => {
    const password = decodeURIComponent(new URL(endpoints.redisUrl).password);
    expect(password.length).toBeGreaterThanOrEqual(24);
    const { stdout } = await run('ps', ['-eo', 'args']);
    expect(stdout.includes(password)).toBe(false);
    const [redis] = await docker.listContainers({
      filters: JSON.stringify({ label: [`${LABELS.stack}=${STACK}`, `${LABELS.instance}=redis`] }),
    });
    const info = await docker.getContainer(redis!.Id).inspect();
    // The container's main process is redis-server itself (signals, chaos pause reach it), started with the config file.
    expect(readFileSync(`/proc/${info.State.Pid}/comm`, 'utf8').trim()).toBe('redis-server');
    expect(readFileSync(`/proc/${info.State.Pid}/cmdline`, 'utf8').includes(password)).toBe(false);
    expect(JSON.stringify([info.Path, info.Args, info.Config.Cmd, info.Config.Entrypoint]).includes(password)).toBe(false);
  });

  it('a stack an older ScaleLab started without a Redis password gets one: its Redis and replicas start afresh, the data stays', async () => {
    const id = async (instance: string) =>
      (
        await docker.listContainers({ filters: JSON.stringify({ label: [`${LABELS.stack}=${STACK}`, `${LABELS.instance}=${instance}`] }) })
      )[0]?.Id;
    const before = { redis: await id('redis'), postgres: await id('postgres') };
    await runtime.dispose();
    // As an older ScaleLab left it: secrets.json without the Redis password.
    const file = path.join(home, 'stacks', STACK, 'secrets.json');
    const { redisPassword: _dropped, ...older } = JSON.parse(await readFile(file, 'utf8')) as Record<string, string>;
    await writeFile(file, JSON.stringify(older));
    runtime = new DockerRuntime({ home });
    const progress: string[] = [];
    const spec = withDefaults({
      name: STACK,
      runtime: 'docker',
      port: Number(new URL(endpoints.balancer).port),
      images: await ensureTestImages(() => undefined),
      replicas: { api: 1, worker: 0 },
      docker: { network: 'bridge' },
    });
    endpoints = await runtime.up(spec, (m) => progress.push(m));
    const restarted = progress.find((m) => m.endsWith(': Redis ran without a password'));
    expect(
      restarted
        ?.replace(/^restarting /, '')
        .split(':')[0]!
        .split(', ')
        .sort(),
    ).toEqual(['api-1', 'redis']);
    expect(await id('postgres')).toBe(before.postgres);
    expect(await id('redis')).not.toBe(before.redis);
    expect(await rawRedisCommand(Number(new URL(endpoints.redisUrl).port), 'GET user:1')).toMatch(/^-NOAUTH/);
    const kept = (await (await fetch(`${endpoints.balancer}/users/${written}`)).json()) as { name: string };
    expect(kept.name).toBe('Dora');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  }, 300_000);
});
