import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Redis } from 'ioredis';
import type pg from 'pg';
import type { Logger } from 'pino';
import Type, { type Static } from 'typebox';
import { Value } from 'typebox/value';
import { ADMIN_AUTH_HEADER } from '../api/routes/admin.js';
import type { ApplyResult } from '../db/read-model.js';
import { Projector, rebuildReadModel, type ProjectorOptions } from './projector.js';
import { OutboxRelay, type OutboxRelayOptions } from './relay.js';

/** The two halves of the event stream that chaos can kill. */
export const STREAM_COMPONENTS = ['relay', 'projector'] as const;
export type StreamComponent = (typeof STREAM_COMPONENTS)[number];

const Component = Type.Union(STREAM_COMPONENTS.map((c) => Type.Literal(c)));
/** Body of POST /admin/stream/kill. */
export const StreamKillSchema = Type.Object(
  {
    component: Component,
    /** How long it stays down before it restarts. @defaultValue 10 */
    forSeconds: Type.Optional(Type.Number({ minimum: 0, maximum: 600 })),
  },
  { additionalProperties: false },
);
export type StreamKill = Static<typeof StreamKillSchema>;
/** Body of POST /admin/stream/revive. */
export const StreamReviveSchema = Type.Object({ component: Component }, { additionalProperties: false });

/** Options of {@link StreamComponents}. */
export interface StreamComponentsOptions {
  pool: pg.Pool;
  databaseUrl: string;
  redisUrl: string;
  streamMaxLen: number;
  /** Prefix of the projector's consumer names; each (re)start adds a fresh suffix. */
  instanceId: string;
  log: Logger;
  onRelayed?: (rows: number) => void;
  onApplied?: (result: ApplyResult) => void;
  /** Settings passed to every relay, for tests. */
  relay?: Partial<OutboxRelayOptions>;
  /** Settings passed to every projector, for tests. */
  projector?: Partial<ProjectorOptions>;
}

interface Slot {
  /** The running instance; undefined while it is down. */
  current: { stop(): Promise<void>; kill(): Promise<void> } | undefined;
  /** Set while a kill is in force: when the component comes back (epoch ms). */
  until: number | undefined;
  timer: NodeJS.Timeout | undefined;
  /** Resolves when the killed instance has died. */
  dying: Promise<void> | undefined;
}

/**
 * Runs the outbox relay and the projector of one worker process, and lets chaos kill either for a
 * while: it dies at its worst point, stays down, then comes back (the projector under a new
 * consumer name, as a restarted process would).
 */
export class StreamComponents {
  private readonly slots: Record<StreamComponent, Slot> = {
    relay: { current: undefined, until: undefined, timer: undefined, dying: undefined },
    projector: { current: undefined, until: undefined, timer: undefined, dying: undefined },
  };
  private readonly relayRedis: Redis;
  private closed = false;
  private generation = 0;

  constructor(private readonly options: StreamComponentsOptions) {
    // Commands time out instead of queueing while Redis is down: the relay holds row locks meanwhile.
    this.relayRedis = new Redis(options.redisUrl, {
      maxRetriesPerRequest: 2,
      commandTimeout: 5_000,
      retryStrategy: (times) => Math.min(200 * times, 2_000),
    });
    this.relayRedis.on('error', () => undefined);
  }

  /** Starts both components. */
  start(): void {
    for (const component of STREAM_COMPONENTS) this.launch(component);
  }

  /** 1 while the component runs and is not condemned, else 0 (the stream_component_up gauge). */
  isUp(component: StreamComponent): boolean {
    const slot = this.slots[component];
    return slot.current !== undefined && slot.until === undefined;
  }

  /** Both components' state, for GET /admin/stream. */
  snapshot(): Record<StreamComponent, { up: boolean; until: number | null }> {
    const of = (c: StreamComponent) => ({ up: this.isUp(c), until: this.slots[c].until ?? null });
    return { relay: of('relay'), projector: of('projector') };
  }

  /**
   * Kills a component for `forSeconds` (a second kill moves the end); returns when it comes back,
   * in epoch ms. It dies at its worst point (see OutboxRelay.kill, Projector.kill), then restarts.
   */
  kill(component: StreamComponent, forSeconds: number): number {
    const slot = this.slots[component];
    const until = Date.now() + forSeconds * 1_000;
    slot.until = until;
    clearTimeout(slot.timer);
    if (!slot.dying) {
      const victim = slot.current;
      slot.dying = (victim ? victim.kill() : Promise.resolve())
        .catch(() => undefined)
        .then(() => {
          if (slot.current === victim) slot.current = undefined;
          slot.dying = undefined;
          this.options.log.warn({ component }, 'stream component killed (chaos)');
        });
    }
    const dying = slot.dying;
    slot.timer = setTimeout(() => void dying?.then(() => this.revive(component)), Math.max(0, until - Date.now()));
    return until;
  }

  /** Ends a kill early: the component restarts as soon as it has died. A running one is left alone. */
  async revive(component: StreamComponent): Promise<void> {
    const slot = this.slots[component];
    clearTimeout(slot.timer);
    slot.timer = undefined;
    await slot.dying;
    slot.until = undefined;
    if (!slot.current && !this.closed) this.launch(component);
  }

  /** Stops both components gracefully and closes their connections. Safe to call twice. */
  async close(): Promise<void> {
    this.closed = true;
    for (const slot of Object.values(this.slots)) clearTimeout(slot.timer);
    await Promise.allSettled(
      Object.values(this.slots).map(async (slot) => {
        await slot.dying;
        await slot.current?.stop();
        slot.current = undefined;
      }),
    );
    await this.relayRedis.quit().catch(() => undefined);
    this.relayRedis.disconnect();
  }

  /** Rebuilds the read model from the stream (see rebuildReadModel). */
  rebuild() {
    return rebuildReadModel(this.options.pool, this.relayRedis);
  }

  private launch(component: StreamComponent): void {
    const { pool, log } = this.options;
    if (component === 'relay') {
      const relay = new OutboxRelay({
        pool,
        databaseUrl: this.options.databaseUrl,
        redis: this.relayRedis,
        streamMaxLen: this.options.streamMaxLen,
        log,
        onRelayed: this.options.onRelayed,
        ...this.options.relay,
      });
      this.slots.relay.current = relay;
      relay.start();
    } else {
      const consumer = `${this.options.instanceId}-${++this.generation}-${randomBytes(3).toString('hex')}`;
      // Blocking reads need their own connection, and no retry limit: a blocked read is not a failure.
      const redis = new Redis(this.options.redisUrl, {
        maxRetriesPerRequest: null,
        retryStrategy: (times) => Math.min(200 * times, 2_000),
      });
      redis.on('error', () => undefined);
      const projector = new Projector({ pool, redis, consumer, log, onApplied: this.options.onApplied, ...this.options.projector });
      this.slots.projector.current = projector;
      projector.start();
      log.info({ consumer }, 'projector started');
    }
  }
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

function send(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(body));
}

function fail(response: ServerResponse, status: number, error: string, message: string): void {
  send(response, status, { statusCode: status, error, message });
}

const BODY_LIMIT_BYTES = 16 * 1024;

async function readJson(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > BODY_LIMIT_BYTES) throw new Error(`body must be at most ${BODY_LIMIT_BYTES} bytes`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return JSON.parse(text);
  } catch {
    throw new Error('body must be JSON');
  }
}

function invalid(schema: typeof StreamKillSchema | typeof StreamReviveSchema, value: unknown): string | undefined {
  if (Value.Check(schema, value)) return undefined;
  const [first] = [...Value.Errors(schema, value)];
  return `body${first?.instancePath ?? ''} ${first?.message ?? 'is invalid'}`;
}

/** POST /admin/stream/kill and /revive: the body validated, then the component killed or revived. */
async function command(route: string, request: IncomingMessage, response: ServerResponse, components: StreamComponents): Promise<void> {
  let body: unknown;
  try {
    body = await readJson(request);
  } catch (err) {
    return fail(response, 400, 'Bad Request', (err as Error).message);
  }
  const schema = route === 'POST /admin/stream/kill' ? StreamKillSchema : StreamReviveSchema;
  const problem = invalid(schema, body);
  if (problem) return fail(response, 400, 'Bad Request', problem);
  if (route === 'POST /admin/stream/kill') {
    const { component, forSeconds = 10 } = body as StreamKill;
    send(response, 202, { component, until: components.kill(component, forSeconds) });
  } else {
    const { component } = body as Static<typeof StreamReviveSchema>;
    await components.revive(component);
    send(response, 200, { component, up: components.isUp(component) });
  }
}

/**
 * The worker's /admin routes (on its metrics server, only when ADMIN_TOKEN is set). Every request
 * needs `Authorization: Bearer <ADMIN_TOKEN>` (or the same in X-Scalelab-Authorization, as the api):
 * - `GET /admin/stream`: both components' state
 * - `POST /admin/stream/kill` `{component, forSeconds?}`: 202 `{component, until}`
 * - `POST /admin/stream/revive` `{component}`: 200 `{component, up}`
 * - `POST /admin/read-model/rebuild`: 200 `{entries, applied, skipped}`
 * `components` is undefined when events are off (EVENTS=false): the stream routes answer 409.
 * Returns false for a path it does not serve.
 */
export function streamAdminHandler(token: string, components: StreamComponents | undefined) {
  const expected = digest(`Bearer ${token}`);
  return async (request: IncomingMessage, response: ServerResponse): Promise<boolean> => {
    const path = (request.url ?? '').split('?')[0]!;
    if (!path.startsWith('/admin/')) return false;
    const header = request.headers[ADMIN_AUTH_HEADER] ?? request.headers.authorization ?? '';
    // Comparing digests keeps the comparison constant-time whatever the header's length.
    if (!timingSafeEqual(digest(Array.isArray(header) ? (header[0] ?? '') : header), expected)) {
      fail(response, 401, 'Unauthorized', 'admin routes need Authorization: Bearer <ADMIN_TOKEN>');
      return true;
    }
    const route = `${request.method} ${path}`;
    const known = ['GET /admin/stream', 'POST /admin/stream/kill', 'POST /admin/stream/revive', 'POST /admin/read-model/rebuild'];
    if (!known.includes(route)) {
      fail(response, 404, 'Not Found', `no route ${route}`);
      return true;
    }
    if (!components) {
      fail(response, 409, 'Conflict', 'events are off in this worker (EVENTS=false): no relay or projector runs');
      return true;
    }
    try {
      if (route === 'GET /admin/stream') send(response, 200, components.snapshot());
      else if (route === 'POST /admin/read-model/rebuild') send(response, 200, await components.rebuild());
      else await command(route, request, response, components);
    } catch (err) {
      fail(response, 500, 'Internal Server Error', (err as Error).message);
    }
    return true;
  };
}
