import type { V1ConfigMap, V1Container, V1StatefulSet } from '@kubernetes/client-node';
import type { StackSpec } from '../../../contract.js';
import {
  DATABASE,
  DATABASE_USER,
  fromSecret,
  KUBE_DEFAULTS,
  KUBE_NAMES,
  KUBE_PORTS,
  meta,
  podLabels,
  selectorLabels,
  stackLabels,
  type KubeComponent,
} from './kube-names.js';

/**
 * PostgreSQL on Kubernetes: the primary StatefulSet, its pg_hba.conf, and (spec
 * `data.readReplica`) a streaming replica seeded from it with pg_basebackup.
 * charts/scalelab/templates/postgres-*.yaml render the same objects.
 */

/** Where the data volume is mounted; PGDATA is a subfolder, because a fresh volume's root holds lost+found, which initdb refuses. */
const DATA_MOUNT = '/var/lib/postgresql/data';
const PGDATA = `${DATA_MOUNT}/pgdata`;
/** Where the primary's ConfigMap is mounted. */
const CONFIG_MOUNT = '/etc/scalelab/postgres';

/**
 * The primary's pg_hba.conf: the official image's rules (trust over the pod's own loopback and
 * socket, scram-sha-256 from anywhere else) plus the line the image leaves out: streaming
 * replication from other pods, which the replica's pg_basebackup and walreceiver need.
 */
export const PRIMARY_HBA = [
  '# TYPE  DATABASE     USER  ADDRESS       METHOD',
  'local   all          all                 trust',
  'local   replication  all                 trust',
  'host    all          all   127.0.0.1/32  trust',
  'host    all          all   ::1/128       trust',
  'host    replication  all   127.0.0.1/32  trust',
  'host    replication  all   ::1/128       trust',
  'host    all          all   all           scram-sha-256',
  'host    replication  all   all           scram-sha-256',
  '',
].join('\n');

/**
 * The primary's server settings. wal_keep_size holds back enough WAL for a replica that was down
 * for a while (chaos `kill-replica`) to catch up by streaming; a replication slot would hold it
 * without a bound, and nothing in the cluster could drop a slot left behind by a removed replica.
 */
export const PRIMARY_ARGS = ['-c', 'max_connections=300', '-c', 'wal_keep_size=128MB', '-c', `hba_file=${CONFIG_MOUNT}/pg_hba.conf`];

/** A standby needs max_connections at least the primary's. */
export const REPLICA_ARGS = ['-c', 'max_connections=300'];

/**
 * The replica's init container: on an empty volume, waits for the primary, copies it with
 * pg_basebackup (-R writes standby.signal and primary_conninfo; -X stream takes the WAL the copy
 * needs) into a side folder and renames it into place, so a copy cut short is never mistaken for
 * a seeded one. A volume already seeded is left as it is: the replica resumes streaming.
 */
export const REPLICA_SEED_SCRIPT = [
  'set -e',
  'if [ -s "$PGDATA/PG_VERSION" ]; then exit 0; fi',
  'until pg_isready -q; do echo "waiting for the primary at $PGHOST:$PGPORT"; sleep 2; done',
  'rm -rf "$PGDATA.seed"',
  'pg_basebackup -D "$PGDATA.seed" -R -X stream -c fast --no-password',
  'chown -R postgres:postgres "$PGDATA.seed"',
  'chmod 700 "$PGDATA.seed"',
  'mv "$PGDATA.seed" "$PGDATA"',
  '',
].join('\n');

/** The ConfigMap holding the primary's pg_hba.conf. */
export function postgresConfigMap(stack: string): V1ConfigMap {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: meta(stack, KUBE_NAMES.postgresConfig, 'postgres'),
    data: { 'pg_hba.conf': PRIMARY_HBA },
  };
}

function postgresContainer(spec: StackSpec, component: KubeComponent): V1Container {
  const primary = component === 'postgres';
  return {
    name: 'postgres',
    image: spec.images.postgres,
    args: primary ? PRIMARY_ARGS : REPLICA_ARGS,
    env: [
      // The replica's entrypoint finds PG_VERSION and skips initdb, so these only matter to the primary.
      { name: 'POSTGRES_USER', value: DATABASE_USER },
      { name: 'POSTGRES_DB', value: DATABASE },
      { name: 'PGDATA', value: PGDATA },
      fromSecret('POSTGRES_PASSWORD'),
    ],
    ports: [{ name: 'postgres', containerPort: KUBE_PORTS.postgres, protocol: 'TCP' }],
    readinessProbe: { exec: { command: ['pg_isready', '-U', DATABASE_USER, '-d', DATABASE, '-h', '127.0.0.1'] }, periodSeconds: 5 },
    livenessProbe: { tcpSocket: { port: 'postgres' }, initialDelaySeconds: 30, periodSeconds: 10 },
    resources: KUBE_DEFAULTS.resources.postgres,
    volumeMounts: [
      { name: 'data', mountPath: DATA_MOUNT },
      ...(primary ? [{ name: 'config', mountPath: CONFIG_MOUNT, readOnly: true }] : []),
    ],
  };
}

/** Copies the primary into an empty volume before the replica's server starts. */
function seedContainer(spec: StackSpec): V1Container {
  return {
    name: 'seed',
    image: spec.images.postgres,
    command: ['sh', '-c', REPLICA_SEED_SCRIPT],
    // libpq's variables: pg_isready and pg_basebackup take the primary and the password from them.
    env: [
      { name: 'PGDATA', value: PGDATA },
      { name: 'PGHOST', value: KUBE_NAMES.workload('postgres') },
      { name: 'PGPORT', value: String(KUBE_PORTS.postgres) },
      { name: 'PGUSER', value: DATABASE_USER },
      fromSecret('PGPASSWORD', 'POSTGRES_PASSWORD'),
    ],
    resources: KUBE_DEFAULTS.resources.postgres,
    volumeMounts: [{ name: 'data', mountPath: DATA_MOUNT }],
  };
}

function statefulSet(stack: string, spec: StackSpec, component: 'postgres' | 'postgres-replica'): V1StatefulSet {
  const name = KUBE_NAMES.workload(component);
  const primary = component === 'postgres';
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: meta(stack, name, component),
    spec: {
      serviceName: name,
      replicas: 1,
      selector: { matchLabels: selectorLabels(stack, component) },
      template: {
        metadata: { labels: podLabels(stack, component) },
        spec: {
          ...(primary ? {} : { initContainers: [seedContainer(spec)] }),
          containers: [postgresContainer(spec, component)],
          ...(primary ? { volumes: [{ name: 'config', configMap: { name: KUBE_NAMES.postgresConfig } }] } : {}),
        },
      },
      volumeClaimTemplates: [
        {
          metadata: { name: 'data', labels: stackLabels(stack, component) },
          spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: KUBE_DEFAULTS.postgresStorage } } },
        },
      ],
    },
  };
}

/** The primary's StatefulSet, then the replica's when the spec asks for one. */
export function postgresStatefulSets(spec: StackSpec): V1StatefulSet[] {
  const primary = statefulSet(spec.name, spec, 'postgres');
  return spec.data.readReplica ? [primary, statefulSet(spec.name, spec, 'postgres-replica')] : [primary];
}
