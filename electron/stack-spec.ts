/**
 * The stack spec: what to run and where. Part of the contract (electron/contract.ts re-exports
 * it); a file of its own so other parts of the contract (scenarios) can embed it.
 */
import Type, { type Static } from 'typebox';
import { parseCpu, formatCpu } from './cpu-quantity.js';

export * from './cpu-quantity.js';

/** Runtimes a stack can run on. */
export const RUNTIMES = ['local', 'docker', 'kubernetes'] as const;
export type RuntimeName = (typeof RUNTIMES)[number];

/** Services of the stack. api and worker scale; redis and postgres are single. */
export const SERVICES = ['api', 'worker', 'redis', 'postgres'] as const;
export type ServiceName = (typeof SERVICES)[number];
export type ScalableService = 'api' | 'worker';

/** Most replicas of one service a stack may ask for. */
export const MAX_REPLICAS = 20;
/** Fewest replicas a service may have: the api serves, so at least one; workers may all stop. */
export const MIN_REPLICAS = { api: 1, worker: 0 } as const;

export const StackNameSchema = Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,39}$', description: 'lowercase letters, digits and dashes' });

/** A container image reference: `redis:7-bookworm`, `registry.example.com/team/api:1.2`, `app@sha256:…`. */
export const ImageRefSchema = Type.String({
  pattern: '^[a-z0-9][a-z0-9._/:-]{0,199}(@sha256:[a-f0-9]{64})?$',
  description: 'an image reference such as redis:7-bookworm',
});

/**
 * The service image built from this ScaleLab's backend/Dockerfile (tagged by the content it was
 * built from); any other reference is used as it is, and pulled when missing.
 */
export const BUILT_SERVICE_IMAGE = 'scalelab/service';

/** Images of the Docker and Kubernetes runtimes. */
export const DEFAULT_IMAGES = { service: BUILT_SERVICE_IMAGE, postgres: 'postgres:16-bookworm', redis: 'redis:7-bookworm' } as const;

/**
 * A cpu quantity in a spec: a string ("250m", "0.5"), a number of cores (YAML's `cpu: 0.5`), or
 * null for none. One refinement over the union, so a bad value gets one message, not three.
 */
export const CpuQuantitySchema = Type.Refine(
  Type.Union([Type.String({ maxLength: 32 }), Type.Number(), Type.Null()]),
  (value) => {
    if (value === null) return true;
    try {
      parseCpu(value);
      return true;
    } catch {
      return false;
    }
  },
  // Read after the field's name: `resources.api.cpu "25x" is not a cpu quantity: …`.
  (value) => {
    try {
      parseCpu(value ?? '');
      return 'is not a cpu quantity';
    } catch (err) {
      return (err as Error).message;
    }
  },
);

/** The cpu each replica of a service may use, like a pod's cpu request and limit (set to the same value). */
const ServiceResourcesSchema = Type.Object(
  {
    /** Cores per replica, e.g. "250m", "0.5", "1"; null (or left out): no limit. @defaultValue null */
    cpu: Type.Optional(CpuQuantitySchema),
  },
  { additionalProperties: false },
);

/** Whether the runtime holds each replica to its cpu limit, and how, or plainly why not. */
export interface CpuLimitStatus {
  /** Millicores per replica of each service; null: no limit. */
  api: number | null;
  worker: number | null;
  /** How it is enforced ("cgroup v2 cpu.max", "cgroup v1 cpu.cfs_quota_us", "Docker NanoCpus", …); null when it is not. */
  enforcedBy: string | null;
  /** "cpu limit not enforced here (why)" when a limit is set and not enforced; null otherwise. */
  notEnforced: string | null;
}

/** Docker networking: a private bridge network with the balancer on 127.0.0.1, or everything on the host's loopback. */
export type DockerNetworkMode = 'bridge' | 'host';

/** What to run. Every field has a default, so `{}` is a valid spec. */
export const StackSpecSchema = Type.Object(
  {
    /** @defaultValue 'default' */
    name: Type.Optional(StackNameSchema),
    /** @defaultValue 'local' */
    runtime: Type.Optional(Type.Enum(RUNTIMES)),
    replicas: Type.Optional(
      Type.Object(
        {
          /** @defaultValue 2 */
          api: Type.Optional(Type.Integer({ minimum: MIN_REPLICAS.api, maximum: MAX_REPLICAS })),
          /** @defaultValue 1 */
          worker: Type.Optional(Type.Integer({ minimum: MIN_REPLICAS.worker, maximum: MAX_REPLICAS })),
        },
        { additionalProperties: false },
      ),
    ),
    cache: Type.Optional(
      Type.Object(
        {
          /** @defaultValue 60 */
          ttlSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 86_400 })),
        },
        { additionalProperties: false },
      ),
    ),
    autoscaler: Type.Optional(
      Type.Object(
        {
          /** @defaultValue false */
          enabled: Type.Optional(Type.Boolean()),
        },
        { additionalProperties: false },
      ),
    ),
    /** The data-layer patterns, each on or off. */
    data: Type.Optional(
      Type.Object(
        {
          /** A PostgreSQL streaming replica serving cache misses and lists (read-your-writes kept). @defaultValue false */
          readReplica: Type.Optional(Type.Boolean()),
          /** Outbox → Redis Stream `user-events` → projector (the CQRS read model at GET /stats/users). @defaultValue true */
          events: Type.Optional(Type.Boolean()),
          /** Hash partitions of the users table by id; 0 keeps one table. @defaultValue 0 */
          partitions: Type.Optional(Type.Integer({ minimum: 0, maximum: 64 })),
        },
        { additionalProperties: false },
      ),
    ),
    /** cpu per api and worker replica, enforced by every runtime (cgroups, NanoCpus, resources.limits). */
    resources: Type.Optional(
      Type.Object(
        { api: Type.Optional(ServiceResourcesSchema), worker: Type.Optional(ServiceResourcesSchema) },
        { additionalProperties: false },
      ),
    ),
    /** Port of the balancer on 127.0.0.1; a free one is used when it is taken. @defaultValue 8080 */
    port: Type.Optional(Type.Integer({ minimum: 1024, maximum: 65_535 })),
    /** Images for the Docker and Kubernetes runtimes. @defaultValue {@link DEFAULT_IMAGES} */
    images: Type.Optional(
      Type.Object(
        { service: Type.Optional(ImageRefSchema), postgres: Type.Optional(ImageRefSchema), redis: Type.Optional(ImageRefSchema) },
        { additionalProperties: false },
      ),
    ),
    docker: Type.Optional(
      Type.Object(
        {
          /** `bridge`: a private network, the balancer on 127.0.0.1. `host`: every container on the host's loopback. @defaultValue 'bridge' */
          network: Type.Optional(Type.Union([Type.Literal('bridge'), Type.Literal('host')])),
        },
        { additionalProperties: false },
      ),
    ),
    kubernetes: Type.Optional(
      Type.Object(
        {
          /** The kubeconfig context to deploy to. @defaultValue null: the kubeconfig's current context */
          context: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 253, pattern: '^[^\\s]+$' }), Type.Null()])),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type StackSpecInput = Static<typeof StackSpecSchema>;

/** The data-layer patterns of a stack. */
export interface DataSpec {
  readReplica: boolean;
  events: boolean;
  partitions: number;
}

/** A spec with every default filled in. */
export interface StackSpec {
  name: string;
  runtime: RuntimeName;
  replicas: { api: number; worker: number };
  cache: { ttlSeconds: number };
  autoscaler: { enabled: boolean };
  data: DataSpec;
  /** cpu per replica as Kubernetes prints it ("250m", "1"); null: no limit. */
  resources: { api: { cpu: string | null }; worker: { cpu: string | null } };
  port: number;
  images: { service: string; postgres: string; redis: string };
  docker: { network: DockerNetworkMode };
  kubernetes: { context: string | null };
}

const cpuOf = (value: string | number | null | undefined): string | null =>
  value === null || value === undefined ? null : formatCpu(parseCpu(value));

/** Millicores per replica of `service` in a spec with defaults filled in; null: no limit. */
export function cpuMillicores(spec: Pick<StackSpec, 'resources'>, service: ScalableService): number | null {
  const cpu = spec.resources?.[service]?.cpu;
  return cpu ? parseCpu(cpu) : null;
}

/** Fills in a validated spec's defaults. */
export function withDefaults(input: StackSpecInput): StackSpec {
  return {
    name: input.name ?? 'default',
    runtime: input.runtime ?? 'local',
    replicas: { api: input.replicas?.api ?? 2, worker: input.replicas?.worker ?? 1 },
    cache: { ttlSeconds: input.cache?.ttlSeconds ?? 60 },
    autoscaler: { enabled: input.autoscaler?.enabled ?? false },
    data: { readReplica: input.data?.readReplica ?? false, events: input.data?.events ?? true, partitions: input.data?.partitions ?? 0 },
    resources: { api: { cpu: cpuOf(input.resources?.api?.cpu) }, worker: { cpu: cpuOf(input.resources?.worker?.cpu) } },
    port: input.port ?? 8080,
    images: { ...DEFAULT_IMAGES, ...input.images },
    docker: { network: input.docker?.network ?? 'bridge' },
    kubernetes: { context: input.kubernetes?.context ?? null },
  };
}
