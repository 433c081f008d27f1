import type Docker from 'dockerode';
import type { ScalableService } from '../../electron/contract.js';
import { replicaContainer, type StackLayout } from '../../electron/control/runtimes/docker/container-specs.js';
import { assertOwned } from '../../electron/control/runtimes/docker/labels.js';
import { postgresAnswers, redisAnswers } from '../../electron/control/runtimes/docker/store-container.js';
import { acceptsConnections, answers200, sleep } from './bare.js';

/**
 * Containers started bare for the Docker benchmark's floors: the create options the runtime uses
 * (container-specs.ts), created and started with plain dockerode calls and polled every 20 ms
 * until they answer. No event stream, no log copy, no stats stream, no probe timer, no balancer.
 */

/** What to create and how to tell it answers. */
export interface FloorContainerSpec {
  create: Docker.ContainerCreateOptions;
  ready: () => Promise<boolean>;
}

/** How often an unanswered container is inspected, to fail fast when it exited. */
const INSPECT_EVERY_MS = 2_000;

/** api: /readyz, worker: /healthz on its metrics port; a TCP connect first, as bare.ts's waitAnswering. */
export function replicaReady(service: ScalableService, port: number): () => Promise<boolean> {
  const url = `http://127.0.0.1:${port}${service === 'api' ? '/readyz' : '/healthz'}`;
  return async () => (await acceptsConnections(port)) && (await answers200(url));
}

/** PostgreSQL runs a query (the runtime's own check), once its port accepts connections. */
export function postgresReady(port: number, url: string): () => Promise<boolean> {
  return async () => (await acceptsConnections(port)) && (await postgresAnswers(url));
}

/** Redis answers PING after AUTH (a TCP connect in itself). */
export function redisReady(port: number, password: string): () => Promise<boolean> {
  return () => redisAnswers(port, password);
}

/**
 * An api or worker container as the runtime creates it: the environment ReplicaSet gives it
 * (`base`: DATABASE_URL, REDIS_URL, …) plus what Replica.start adds (INSTANCE_ID, LOG_LEVEL,
 * PORT or METRICS_PORT).
 */
export function replicaSpec(
  layout: StackLayout,
  id: string,
  service: ScalableService,
  port: number,
  base: Record<string, string>,
): FloorContainerSpec {
  const env: Record<string, string> = { ...base, INSTANCE_ID: id, LOG_LEVEL: base.LOG_LEVEL ?? 'info' };
  env[service === 'api' ? 'PORT' : 'METRICS_PORT'] = String(port);
  return { create: replicaContainer(layout, id, service, port, env), ready: replicaReady(service, port) };
}

/** The last lines of a container's output, for an error message. */
async function lastLines(container: Docker.Container): Promise<string> {
  const raw = (await container.logs({ stdout: true, stderr: true, tail: 15 }).catch(() => Buffer.alloc(0))) as unknown as Buffer;
  // Multiplexed stream: an 8-byte header before each frame; drop the headers' control bytes.
  return raw
    .toString('utf8')
    .replace(/[\x00-\x08\x0e-\x1f]/g, '')
    .trim();
}

async function waitAnswers(container: Docker.Container, spec: FloorContainerSpec, pollMs: number, timeoutMs: number): Promise<void> {
  const name = spec.create.name ?? container.id;
  const deadline = Date.now() + timeoutMs;
  let nextInspect = Date.now() + INSPECT_EVERY_MS;
  for (;;) {
    if (await spec.ready()) return;
    if (Date.now() > deadline)
      throw new Error(`${name} did not answer within ${timeoutMs / 1000} s; its output ends:\n${await lastLines(container)}`);
    if (Date.now() > nextInspect) {
      nextInspect = Date.now() + INSPECT_EVERY_MS;
      const state = (await container.inspect()).State;
      if (!state.Running)
        throw new Error(`${name} exited (code ${state.ExitCode}) before answering; its output ends:\n${await lastLines(container)}`);
    }
    await sleep(pollMs);
  }
}

/**
 * Creates and starts every container at once and resolves when every one answers. Each created
 * container is added to `live` at once, so a failure or Ctrl-C can remove it.
 */
export async function startFloor(
  docker: Docker,
  specs: FloorContainerSpec[],
  live: Set<Docker.Container>,
  pollMs = 20,
  timeoutMs = 90_000,
): Promise<Docker.Container[]> {
  return Promise.all(
    specs.map(async (spec) => {
      const container = await docker.createContainer(spec.create);
      live.add(container);
      await container.start();
      await waitAnswers(container, spec, pollMs, timeoutMs);
      return container;
    }),
  );
}

/** Removes the containers (force, with anonymous volumes), refusing any not labelled as `stack`'s. */
export async function removeFloor(containers: Iterable<Docker.Container>, stack: string, live: Set<Docker.Container>): Promise<void> {
  await Promise.all(
    [...containers].map(async (container) => {
      const info = await container.inspect().catch(() => undefined);
      if (info) {
        assertOwned(info.Config.Labels, stack, `container ${info.Name}`);
        await container.remove({ force: true, v: true }).catch((err: { statusCode?: number }) => {
          if (err.statusCode !== 404) throw err;
        });
      }
      live.delete(container);
    }),
  );
}
