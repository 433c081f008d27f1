import { createServer } from 'node:net';
import Docker from 'dockerode';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../backend/support/api.js';
import { dockerAvailable, ensureTestImages, type TestImages } from './images.js';

const engine = await dockerAvailable();
if (!engine.ok) console.log(`skipped: no Docker engine (${engine.reason})`);
const describeDocker = engine.ok ? describe : describe.skip;

const LABELS = { 'scalelab.test': 'images' };
const docker = new Docker();
const created: Docker.Container[] = [];
let images: TestImages;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** Creates and starts a labelled container on the host network (removed in afterAll). */
async function start(image: string, cmd: string[], env: string[] = []): Promise<Docker.Container> {
  const container = await docker.createContainer({
    Image: image,
    Cmd: cmd,
    Env: env,
    Labels: LABELS,
    Tty: true, // one raw output stream, nothing to demultiplex
    HostConfig: { NetworkMode: 'host', Init: true },
  });
  created.push(container);
  await container.start();
  return container;
}

/** Runs `cmd` in `image` to the end: its exit code and output. */
async function runToEnd(image: string, cmd: string[]): Promise<{ code: number; output: string }> {
  const container = await start(image, cmd);
  const { StatusCode } = (await container.wait()) as { StatusCode: number };
  const output = (await container.logs({ stdout: true, stderr: true, follow: false })) as unknown as Buffer;
  return { code: StatusCode, output: output.toString().trim() };
}

beforeAll(async () => {
  if (!engine.ok) return;
  const started = Date.now();
  images = await ensureTestImages((line) => {
    if (line.startsWith('[images]')) console.log(line);
  });
  console.log(`test images ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}, 900_000);

afterAll(async () => {
  await Promise.all(created.map((c) => c.remove({ force: true, v: true }).catch(() => undefined)));
});

describeDocker('test images', () => {
  it('service image runs as a non-root user, with no ENTRYPOINT', async () => {
    const info = await docker.getImage(images.service).inspect();
    expect(info.Config.Entrypoint ?? []).toEqual([]);
    expect(info.Config.Cmd).toEqual(['node', '--max-semi-space-size=64', 'api.mjs']);
    expect(info.Config.WorkingDir).toBe('/app');
    const { code, output } = await runToEnd(images.service, ['id', '-u']);
    expect(code).toBe(0);
    expect(Number(output)).not.toBe(0);
  });

  it('service image holds /app/api.mjs and /app/worker.mjs', async () => {
    const { code, output } = await runToEnd(images.service, ['ls', '/app']);
    expect(code).toBe(0);
    expect(output.split(/\s+/)).toEqual(expect.arrayContaining(['api.mjs', 'worker.mjs', 'node_modules', 'package.json']));
  });

  it('service image stays under 350 MB', async () => {
    const { Size } = await docker.getImage(images.service).inspect();
    console.log(`${images.service}: ${(Size / 1e6).toFixed(0)} MB`);
    expect(Size).toBeLessThan(350e6);
  });

  it('postgres image honours -c port and listen_addresses and accepts only POSTGRES_PASSWORD', async () => {
    const port = await freePort();
    const container = await start(
      images.postgres,
      ['postgres', '-c', `port=${port}`, '-c', 'listen_addresses=127.0.0.1'],
      ['POSTGRES_PASSWORD=images-test-secret'],
    );
    const url = (password: string) => `postgres://postgres:${password}@127.0.0.1:${port}/postgres`;
    await eventually(
      'postgres accepts connections',
      async () => {
        const client = new pg.Client({ connectionString: url('images-test-secret') });
        try {
          await client.connect();
          return (await client.query<{ one: number }>('SELECT 1 AS one')).rows[0]?.one === 1;
        } finally {
          await client.end().catch(() => undefined);
        }
      },
      60_000,
    );
    const wrong = new pg.Client({ connectionString: url('wrong') });
    await expect(wrong.connect()).rejects.toThrow(/password authentication failed/);
    await wrong.end().catch(() => undefined);
    // SIGTERM (the default stop signal of docker kill) shuts PostgreSQL down cleanly.
    await container.kill({ signal: 'SIGTERM' });
    expect(((await container.wait()) as { StatusCode: number }).StatusCode).toBe(0);
  });

  it('redis image passes --port and --bind to redis-server and answers PING', async () => {
    const port = await freePort();
    await start(images.redis, ['redis-server', '--port', String(port), '--bind', '127.0.0.1']);
    await eventually(
      'redis answers PING',
      async () => {
        const redis = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
        redis.on('error', () => undefined); // a refused connection rejects connect() below
        try {
          await redis.connect();
          return (await redis.ping()) === 'PONG';
        } finally {
          redis.disconnect();
        }
      },
      30_000,
    );
  });
});
