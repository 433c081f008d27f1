/**
 * charts/scalelab/dashboards/scalelab.json against a real local stack: every metric name its panels,
 * variables and annotations query exists in what the control plane's /metrics and every api and
 * worker replica's /metrics actually serve. A misspelt or renamed metric fails here.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StackStatus } from '../../../electron/contract.js';
import { ControlPlane } from '../../../electron/control/control-plane.js';
import { freePort } from '../../../electron/control/runtimes/local/ports.js';
import { postgresDataDir } from '../../../electron/control/runtimes/local/postgres.js';
import { parsePrometheusText } from '../../../electron/control/telemetry/prometheus-text.js';
import { startHeadless, type Headless } from '../../../electron/headless.js';
import { eventually } from '../../backend/support/api.js';
import { ok } from '../support/envelope.js';
import { removeTempHome } from '../../support/temp-home.js';

const DASHBOARD_FILE = path.resolve(import.meta.dirname, '../../../charts/scalelab/dashboards/scalelab.json');
const STACK = 'grafana';

type Obj = Record<string, any>;

/** PromQL functions, aggregations and keywords: identifiers that are not metric names. */
const PROMQL_WORDS = new Set([
  // aggregation operators and their modifiers
  'sum',
  'min',
  'max',
  'avg',
  'group',
  'stddev',
  'stdvar',
  'count',
  'count_values',
  'bottomk',
  'topk',
  'quantile',
  'limitk',
  'limit_ratio',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'and',
  'or',
  'unless',
  'offset',
  'atan2',
  'inf',
  'nan',
  // functions
  'abs',
  'absent',
  'absent_over_time',
  'ceil',
  'changes',
  'clamp',
  'clamp_max',
  'clamp_min',
  'day_of_month',
  'day_of_week',
  'day_of_year',
  'days_in_month',
  'delta',
  'deriv',
  'exp',
  'floor',
  'histogram_avg',
  'histogram_count',
  'histogram_sum',
  'histogram_fraction',
  'histogram_quantile',
  'histogram_stddev',
  'histogram_stdvar',
  'holt_winters',
  'double_exponential_smoothing',
  'hour',
  'idelta',
  'increase',
  'irate',
  'label_join',
  'label_replace',
  'ln',
  'log2',
  'log10',
  'minute',
  'month',
  'predict_linear',
  'rate',
  'resets',
  'round',
  'scalar',
  'sgn',
  'sort',
  'sort_desc',
  'sort_by_label',
  'sort_by_label_desc',
  'sqrt',
  'time',
  'timestamp',
  'vector',
  'year',
  'avg_over_time',
  'min_over_time',
  'max_over_time',
  'sum_over_time',
  'count_over_time',
  'quantile_over_time',
  'stddev_over_time',
  'stdvar_over_time',
  'last_over_time',
  'present_over_time',
  'mad_over_time',
  'acos',
  'acosh',
  'asin',
  'asinh',
  'atan',
  'atanh',
  'cos',
  'cosh',
  'sin',
  'sinh',
  'tan',
  'tanh',
  'deg',
  'rad',
  'pi',
  // Grafana's label_values() in variable queries
  'label_values',
]);

/**
 * Metric names a PromQL expression selects: identifiers left once strings, label matchers,
 * ranges, `by (...)`-style label lists and numbers are taken out, minus functions and keywords;
 * and names given as `{__name__=~"a|b"}`.
 */
export function metricNames(expr: string): string[] {
  const names = new Set<string>();
  for (const m of expr.matchAll(/__name__\s*=~?\s*"([^"]*)"/g)) for (const n of m[1]!.split('|')) names.add(n);
  const stripped = expr
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/"(?:[^"\\]|\\.)*"/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\$\w+/g, ' ');
  for (const m of stripped.matchAll(/(?<![\w.$])[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    if (PROMQL_WORDS.has(m[0])) continue;
    // label_values(metric, label): the label after the comma is no metric.
    if (/label_values\s*\([^,()]*,\s*$/.test(stripped.slice(0, m.index!))) continue;
    names.add(m[0]);
  }
  return [...names];
}

/** Every PromQL expression of the dashboard, with where it is: panel targets, variables, annotations. */
export function expressions(dashboard: Obj): Array<{ where: string; expr: string }> {
  const out: Array<{ where: string; expr: string }> = [];
  for (const panel of dashboard.panels as Obj[])
    for (const t of panel.targets ?? []) out.push({ where: `panel ${panel.id} "${panel.title}" ${t.refId}`, expr: t.expr });
  for (const v of dashboard.templating.list as Obj[])
    if (v.type === 'query') out.push({ where: `variable $${v.name}`, expr: typeof v.query === 'string' ? v.query : v.query.query });
  for (const a of dashboard.annotations.list as Obj[]) if (a.expr) out.push({ where: `annotation "${a.name}"`, expr: a.expr });
  return out;
}

/** Names the dashboard uses that no scrape serves. */
function missing(dashboard: Obj, served: Set<string>): string[] {
  const gaps: string[] = [];
  for (const { where, expr } of expressions(dashboard))
    for (const name of metricNames(expr)) if (!served.has(name)) gaps.push(`${name} (${where})`);
  return gaps;
}

const dashboard = JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8')) as Obj;

describe('the dashboard JSON', () => {
  it('has the shape Grafana imports: schemaVersion 39+, unique panel ids and gridPos, targets on the datasource variable', () => {
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(39);
    expect(dashboard.uid).toMatch(/^[\w-]{1,40}$/);
    expect(typeof dashboard.title).toBe('string');
    const panels = dashboard.panels as Obj[];
    const ids = panels.map((p) => p.id);
    expect(ids.every((id) => Number.isInteger(id) && id > 0)).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    const vars = dashboard.templating.list as Obj[];
    expect(vars.find((v) => v.name === 'datasource')).toMatchObject({ type: 'datasource', query: 'prometheus' });
    expect(vars.map((v) => v.name)).toEqual(expect.arrayContaining(['job', 'instance']));
    const charts = panels.filter((p) => p.type !== 'row');
    expect(charts.length).toBeGreaterThanOrEqual(20);
    for (const p of panels) {
      expect(p.gridPos, `panel ${p.id}`).toMatchObject({
        x: expect.any(Number),
        y: expect.any(Number),
        w: expect.any(Number),
        h: expect.any(Number),
      });
      expect(p.gridPos.x + p.gridPos.w, `panel ${p.id} fits 24 columns`).toBeLessThanOrEqual(24);
    }
    for (const p of charts) {
      expect(p.datasource, `panel ${p.id}`).toEqual({ type: 'prometheus', uid: '${datasource}' });
      expect(p.targets.length, `panel ${p.id} has targets`).toBeGreaterThan(0);
      const refIds = p.targets.map((t: Obj) => t.refId);
      expect(new Set(refIds).size, `panel ${p.id} refIds`).toBe(refIds.length);
      for (const t of p.targets) {
        expect(t.datasource, `panel ${p.id} ${t.refId}`).toEqual({ type: 'prometheus', uid: '${datasource}' });
        expect(t.expr, `panel ${p.id} ${t.refId}`).toMatch(/\S/);
        // Balanced brackets: a cheap check that the expression parses at all.
        for (const [open, close] of [
          ['(', ')'],
          ['{', '}'],
          ['[', ']'],
        ])
          expect(t.expr.split(open).length, `${t.expr} ${open}${close}`).toBe(t.expr.split(close).length);
      }
    }
    const annotations = (dashboard.annotations.list as Obj[]).filter((a) => a.expr);
    expect(annotations.map((a) => a.expr).join('\n')).toMatch(/scalelab_chaos_/);
    for (const a of annotations) expect(a.datasource).toEqual({ type: 'prometheus', uid: '${datasource}' });
  });

  it('finds metric names in PromQL and misses nothing a misspelling would hide', () => {
    expect(
      metricNames(
        'histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{job=~"$api_job",route="/users"}[$__rate_interval])))',
      ),
    ).toEqual(['http_request_duration_seconds_bucket']);
    expect(metricNames('sum(rate(cache_hits_total{a="b"}[5m])) / clamp_min(sum(rate(cache_misses_total[1m])) + up, 1e-9)').sort()).toEqual([
      'cache_hits_total',
      'cache_misses_total',
      'up',
    ]);
    expect(metricNames('label_values(scalelab_sample_timestamp_seconds{job=~"$job"}, stack)')).toEqual([
      'scalelab_sample_timestamp_seconds',
    ]);
    expect(metricNames('label_values({__name__=~"a_total|b_count", job=~"$x"}, instance)').sort()).toEqual(['a_total', 'b_count']);
    const misspelt = {
      panels: [{ id: 1, title: 't', targets: [{ refId: 'A', expr: 'sum(rate(http_request_totals[1m]))' }] }],
      templating: { list: [] },
      annotations: { list: [] },
    };
    expect(missing(misspelt, new Set(['http_requests_total']))).toEqual(['http_request_totals (panel 1 "t" A)']);
  });
});

describe('the dashboard against a running local stack', () => {
  let home: string;
  let controlPlane: ControlPlane;
  let headless: Headless;
  let status: StackStatus;
  let firing = true;
  let traffic: Promise<void> = Promise.resolve();

  beforeAll(async () => {
    home = await mkdtemp(path.join(os.tmpdir(), 'scalelab-grafana-'));
    controlPlane = new ControlPlane({ home });
    headless = await startHeadless({ controlPlane, port: 0 });
    // Every data-layer pattern on, so the replica and stream series exist.
    status = await ok<StackStatus>(
      controlPlane.handle('stack:up', {
        name: STACK,
        port: await freePort(),
        replicas: { api: 2, worker: 1 },
        data: { readReplica: true, events: true, partitions: 2 },
      }),
    );
    await ok(
      controlPlane.handle('autoscaler:configure', {
        service: 'api',
        preset: 'demo',
        minReplicas: 2,
        maxReplicas: 3,
        metrics: { rps: 10_000 },
      }),
    );
    await ok(controlPlane.handle('chaos:inject', { action: 'latency', target: 'all', dbMs: 1 }));
    const balancer = status.endpoints!.balancer;
    // Steady requests (writes, reads, a send-email job each), so every per-interval figure has a value.
    traffic = (async () => {
      for (let n = 0; firing; n++) {
        const created = await fetch(`${balancer}/users`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ name: `Grafana ${n}`, email: `grafana-${n}-${Date.now()}@example.com` }),
        }).catch(() => undefined);
        const id = created?.ok ? ((await created.json()) as { id: number }).id : 1;
        await Promise.all(
          [
            fetch(`${balancer}/users/${id}`),
            fetch(`${balancer}/users/${id}`),
            fetch(`${balancer}/users/${id}/send-email`, { method: 'POST' }),
          ].map((p) => p.then((r) => r.arrayBuffer()).catch(() => undefined)),
        );
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
  }, 180_000);

  afterAll(async () => {
    firing = false;
    await traffic;
    await headless?.close();
    await controlPlane?.close();
    await rm(postgresDataDir(path.join(home, 'stacks', STACK, 'postgres')), { recursive: true, force: true });
    await removeTempHome(home);
  }, 60_000);

  /** Sample and family names of one /metrics body; a histogram counts by its _bucket, _sum and _count too. */
  async function scrape(url: string, headers: Record<string, string> = {}): Promise<Set<string>> {
    const response = await fetch(url, { headers });
    expect(response.status, url).toBe(200);
    const names = new Set<string>();
    for (const [family, { samples }] of parsePrometheusText(await response.text())) {
      if (samples.length > 0) names.add(family);
      for (const s of samples) names.add(s.name);
    }
    return names;
  }

  it('uses only metric names that the control plane and the replicas serve', async () => {
    const { instances } = await ok<StackStatus>(controlPlane.handle('stack:status', {}));
    const replicas = instances.filter((i) => (i.service === 'api' || i.service === 'worker') && i.port);
    expect(replicas.map((i) => i.service).sort()).toEqual(['api', 'api', 'worker']);
    let gaps: string[] = [];
    const served = new Set<string>();
    const started = Date.now();
    // Per-interval figures (latency, lag) appear once a sample covered some traffic: retry a while.
    await eventually(
      'every dashboard metric in a scrape',
      async () => {
        // Names add up across scrapes, as in Prometheus: a gauge that is unknown (absent) for one
        // sample, such as replica lag between two measures, still has its series.
        for (const n of await scrape(`${headless.url}/metrics`, { authorization: `Bearer ${headless.token}` })) served.add(n);
        for (const r of replicas) for (const n of await scrape(`http://127.0.0.1:${r.port}/metrics`)) served.add(n);
        gaps = missing(dashboard, served);
        return gaps.length === 0;
      },
      30_000,
    ).catch(() => undefined);
    expect(
      gaps,
      `served: ${[...served]
        .filter((n) => !n.startsWith('nodejs_') && !n.startsWith('process_'))
        .sort()
        .join(' ')}`,
    ).toEqual([]);
    const used = new Set(expressions(dashboard).flatMap((e) => metricNames(e.expr)));
    expect(used.size).toBeGreaterThan(40);
    console.log(
      `grafana dashboard: ${used.size} metric names, all served by the control plane and ${replicas.length} replicas (${Date.now() - started} ms)`,
    );
  }, 60_000);

  it('the control plane guards /metrics with its token', async () => {
    expect((await fetch(`${headless.url}/metrics`)).status).toBe(401);
  });
});
