/**
 * The report's text sections as HTML strings: header and result banner, the assertions, steps and
 * events tables, the stack spec and the versions. Every value from data is escaped here.
 */
import type { AssertMetric, AssertionResult, ScenarioStatus, StackSpec, StepStatus, TimelineEvent } from '../../contract.js';
import { MARKER_COLORS } from './report-charts.js';
import {
  escapeHtml,
  formatClock,
  formatDate,
  formatDuration,
  formatNumber,
  formatPercent,
  formatSeconds,
  formatUtcOffset,
  formatWindow,
} from './report-format.js';

/** Most rows of the events table (and markers on each chart); past this the report notes the cut. */
export const MAX_EVENT_ROWS = 2000;

/** What the header says about the window. */
export interface HeaderInfo {
  title: string;
  generatedAt: number;
  from: number;
  to: number;
  samples: number;
  events: number;
  spec: StackSpec | null;
}

const plural = (n: number, noun: string) => `${formatNumber(n, 0)} ${noun}${n === 1 ? '' : 's'}`;

/** Title, window (local time and length), stack and counts. */
export function renderHeader(h: HeaderInfo): string {
  const stack = h.spec ? ` · stack <strong>${escapeHtml(h.spec.name)}</strong> on ${escapeHtml(h.spec.runtime)}` : '';
  return (
    `<header><h1>${escapeHtml(h.title)}</h1>` +
    `<p class="meta">Window <strong>${escapeHtml(formatWindow(h.from, h.to))}</strong> (${escapeHtml(formatUtcOffset(h.from))}) · ${escapeHtml(formatDuration(h.to - h.from))}${stack}</p>` +
    `<p class="meta">${plural(h.samples, 'sample')} · ${plural(h.events, 'event')} · generated ${escapeHtml(`${formatDate(h.generatedAt)} ${formatClock(h.generatedAt)}`)}</p></header>`
  );
}

const VERDICTS: Partial<Record<ScenarioStatus['state'], { text: string; tone: 'pass' | 'fail' }>> = {
  passed: { text: 'PASSED', tone: 'pass' },
  failed: { text: 'FAILED', tone: 'fail' },
  aborted: { text: 'ABORTED', tone: 'fail' },
};

/** `3 held · 1 failed`, plus any still pending or live (a report exported mid-run). */
function assertionCounts(assertions: AssertionResult[]): string {
  const count = (state: AssertionResult['state']) => assertions.filter((a) => a.state === state).length;
  const parts = [`${count('held')} held`, `${count('failed')} failed`];
  for (const state of ['passing', 'failing', 'pending'] as const) if (count(state) > 0) parts.push(`${count(state)} ${state}`);
  return `${parts.join(' · ')} of ${assertions.length} assertion${assertions.length === 1 ? '' : 's'}`;
}

/**
 * The result banner: PASSED green, FAILED / ABORTED red; any other state (not finished) neutral.
 * A failed assertion makes it FAILED whatever the state says: a report must never show a false green.
 */
export function renderBanner(scenario: ScenarioStatus): string {
  const anyFailed = scenario.assertions.some((a) => a.state === 'failed');
  const state = scenario.state === 'passed' && anyFailed ? 'failed' : scenario.state;
  const verdict = VERDICTS[state] ?? { text: state.toUpperCase(), tone: 'neutral' as const };
  const name = scenario.name ?? scenario.id ?? 'scenario';
  const provisional = verdict.tone === 'neutral' ? ' <span class="muted">(not finished: assertions are provisional)</span>' : '';
  const error = scenario.error ? `<p class="banner-error">${escapeHtml(scenario.error)}</p>` : '';
  const description = scenario.description ? `<p class="banner-description">${escapeHtml(scenario.description)}</p>` : '';
  return (
    `<section class="banner banner-${verdict.tone}" role="status"><div class="banner-line"><span class="verdict">${escapeHtml(verdict.text)}</span>` +
    `<span><strong>${escapeHtml(name)}</strong> · ${escapeHtml(assertionCounts(scenario.assertions))} · ${escapeHtml(formatSeconds(scenario.elapsedS))} of ${escapeHtml(formatSeconds(scenario.durationS))}${provisional}</span></div>` +
    `${description}${error}</section>`
  );
}

/** An assertion's figure in its metric's unit: latencies in ms, rates as %, counts as numbers. */
export function formatMetric(metric: AssertMetric, value: number | null): string {
  if (value === null || !Number.isFinite(value)) return '—';
  switch (metric) {
    case 'p50_ms':
    case 'p95_ms':
    case 'p99_ms':
      return `${formatNumber(value, value < 10 ? 2 : 1)} ms`;
    case 'error_rate':
    case 'cache_hit_rate':
      return formatPercent(value);
    case 'rps':
      return `${formatNumber(value, 1)}/s`;
    default:
      return formatNumber(value, 2);
  }
}

const state = (s: string) => `<td><span class="state state-${escapeHtml(s)}">${escapeHtml(s)}</span></td>`;
const cell = (text: string, cls = '') => `<td${cls ? ` class="${cls}"` : ''}>${escapeHtml(text)}</td>`;
const table = (caption: string, head: string[], rows: string[]) =>
  `<table><caption class="visually-hidden">${escapeHtml(caption)}</caption><thead><tr>${head.map((h) => `<th scope="col">${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table>`;

/** Each assertion: its text, state, the figure it was judged on, the target and the detail. */
export function renderAssertions(assertions: AssertionResult[]): string {
  if (assertions.length === 0) return `<section><h2>Assertions</h2><p class="muted">This scenario has no assertions.</p></section>`;
  const rows = assertions.map((a) => {
    const label = a.assertion.label ? `<div class="muted">${escapeHtml(a.assertion.label)}</div>` : '';
    return (
      `<tr><td><code>${escapeHtml(a.text)}</code>${label}</td>${state(a.state)}` +
      `${cell(formatMetric(a.assertion.metric, a.value), 'num')}${cell(`${a.assertion.op} ${formatMetric(a.assertion.metric, a.assertion.value)}`, 'num')}${cell(a.detail ?? '')}</tr>`
    );
  });
  return `<section><h2>Assertions</h2>${table('Assertions', ['assertion', 'state', 'value', 'target', 'detail'], rows)}</section>`;
}

/** The scenario's steps: when, what, whether it ran, and its error. */
export function renderSteps(steps: StepStatus[]): string {
  if (steps.length === 0) return '';
  const rows = steps.map((s) => `<tr>${cell(formatSeconds(s.at), 'num')}${cell(s.text)}${state(s.state)}${cell(s.error ?? '')}</tr>`);
  return `<section><h2>Steps</h2>${table('Steps', ['at', 'step', 'state', 'error'], rows)}</section>`;
}

/** A coloured key of the chart markers, so the vertical lines can be read without hovering. */
export function renderMarkerKey(): string {
  const keys: [string, string][] = [
    ['chaos', MARKER_COLORS.chaos],
    ['scaling', MARKER_COLORS.scaling],
    ['scenario', MARKER_COLORS.scenario],
    ['other events', MARKER_COLORS.lifecycle],
  ];
  const items = keys.map(([name, color]) => `<li><span class="swatch dashed" style="border-top-color:${color}"></span>${name}</li>`);
  return `<div class="marker-key"><span class="muted">Vertical lines are timeline events:</span><ul class="legend">${items.join('')}</ul></div>`;
}

/** The window's events, oldest first, at most {@link MAX_EVENT_ROWS} rows. */
export function renderEvents(events: TimelineEvent[], from: number): string {
  if (events.length === 0) return `<section><h2>Events</h2><p class="muted">No events in this window.</p></section>`;
  const shown = events.slice(0, MAX_EVENT_ROWS);
  const rows = shown.map((e) => {
    const color = MARKER_COLORS[e.kind] ?? MARKER_COLORS.lifecycle;
    const instance = e.instance ? ` <span class="muted">(${escapeHtml(e.instance)})</span>` : '';
    return (
      `<tr>${cell(formatSeconds((e.t - from) / 1000), 'num')}${cell(formatClock(e.t), 'num')}` +
      `<td><span class="dot" style="border-color:${color}"></span>${escapeHtml(e.kind)}</td>` +
      `<td class="level-${escapeHtml(e.level)}">${escapeHtml(e.level)}</td><td class="message">${escapeHtml(e.message)}${instance}</td></tr>`
    );
  });
  const cut =
    events.length > shown.length
      ? `<p class="cut">Showing the first ${formatNumber(shown.length, 0)} of ${formatNumber(events.length, 0)} events (here and on the charts); the JSON file has them all.</p>`
      : '';
  return `<section><h2>Events</h2>${cut}${table('Events', ['+time', 'clock', 'kind', 'level', 'message'], rows)}</section>`;
}

/** The stack spec as pretty JSON. */
export function renderSpec(spec: StackSpec | null): string {
  const body = spec ? `<pre>${escapeHtml(JSON.stringify(spec, null, 2))}</pre>` : `<p class="muted">No stack spec recorded.</p>`;
  return `<section><h2>Stack spec</h2>${body}</section>`;
}

/** Component versions (ScaleLab, Node, runtime, images…). */
export function renderVersions(versions: Record<string, string>): string {
  const entries = Object.entries(versions);
  const body = entries.length
    ? `<table class="versions"><tbody>${entries.map(([k, v]) => `<tr><th scope="row">${escapeHtml(k)}</th>${cell(String(v))}</tr>`).join('')}</tbody></table>`
    : `<p class="muted">No versions recorded.</p>`;
  return `<section><h2>Versions</h2>${body}</section>`;
}
