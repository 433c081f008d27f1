/**
 * The scenario report: one self-contained HTML file (inline CSS and SVG, no script, no network, a
 * strict CSP, so it opens the same in a browser, a mail client or a CI artifact viewer) and a JSON
 * file with the raw samples and events of the same window.
 *
 * Pure string building: no 'electron', no DOM, no I/O; the `report:export` command writes or
 * returns what these functions give.
 */
import type { CapacityStatus, Sample, ScenarioStatus, StackSpec, TimelineEvent } from '../../contract.js';
import { renderCapacity } from './report-capacity.js';
import { renderLineChart } from './report-charts.js';
import { escapeHtml, fileStamp, formatClock, formatDate } from './report-format.js';
import { reportCharts } from './report-series.js';
import {
  MAX_EVENT_ROWS,
  renderAssertions,
  renderBanner,
  renderEvents,
  renderHeader,
  renderMarkerKey,
  renderSpec,
  renderSteps,
  renderVersions,
} from './report-sections.js';
import { REPORT_CSS } from './report-style.js';
import { renderSummary, summarize } from './report-summary.js';
import { NamedError } from '../../../backend/named-error.js';

/** Everything a report shows. Times are ms since epoch. */
export interface ReportInput {
  title: string;
  /** When the report was made. */
  generatedAt: number;
  /** The window: samples and events outside [from, to] are left out of both files. */
  from: number;
  to: number;
  samples: Sample[];
  events: TimelineEvent[];
  /** The scenario the window covers; null for a plain telemetry export (no banner, no assertions). */
  scenario: ScenarioStatus | null;
  spec: StackSpec | null;
  /** Component versions, e.g. `{ scalelab: '0.1.0', node: 'v20.19.0' }`. */
  versions: Record<string, string>;
  /** A capacity search that ran in the window (its curve, table and steps); absent or null when none did. */
  capacity?: CapacityStatus | null;
}

/** The input cannot make a report: a time that is not a number, or a window that ends before it starts. */
export class ReportInputError extends NamedError {}

/**
 * The CSP of the report: nothing may load, only inline styles and data: images apply. With no
 * script allowed at all, a message that slipped past escaping still could not run.
 */
export const REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

function checkInput(input: ReportInput): void {
  for (const key of ['generatedAt', 'from', 'to'] as const) {
    if (!Number.isFinite(input[key]))
      throw new ReportInputError(`report ${key} must be a time in ms since epoch, got ${String(input[key])}`);
  }
  if (input.to < input.from)
    throw new ReportInputError(`the report window ends (${input.to}) before it starts (${input.from}); swap from and to`);
}

/** The window's samples and events, oldest first. */
function windowed(input: ReportInput): { samples: Sample[]; events: TimelineEvent[] } {
  const inside = (t: number) => t >= input.from && t <= input.to;
  // Array.prototype.sort is stable, so events of the same millisecond keep their recorded order.
  return {
    samples: input.samples.filter((s) => inside(s.t)).sort((a, b) => a.t - b.t),
    events: input.events.filter((e) => inside(e.t)).sort((a, b) => a.t - b.t),
  };
}

/**
 * The report as one HTML document: header with the window and (for a scenario) the result
 * banner, headline figures, six charts with the events marked, the assertions and steps, the
 * events table, the stack spec and the versions.
 * @throws {ReportInputError} when a time is not finite or `to` is before `from`
 */
export function renderReport(input: ReportInput): string {
  checkInput(input);
  const { samples, events } = windowed(input);
  const title = input.title.trim() || 'ScaleLab report';
  const charts = reportCharts(samples, events.slice(0, MAX_EVENT_ROWS), input.from, input.to).map(renderLineChart);
  const scenario = input.scenario;
  const body = [
    renderHeader({
      title,
      generatedAt: input.generatedAt,
      from: input.from,
      to: input.to,
      samples: samples.length,
      events: events.length,
      spec: input.spec,
    }),
    scenario ? renderBanner(scenario) : '',
    renderSummary(summarize(samples)),
    `<section class="charts"><h2>Charts</h2>${renderMarkerKey()}${charts.join('\n')}</section>`,
    scenario ? renderAssertions(scenario.assertions) : '',
    scenario ? renderSteps(scenario.steps) : '',
    renderCapacity(input.capacity ?? null),
    renderEvents(events, input.from),
    renderSpec(input.spec),
    renderVersions(input.versions),
    `<footer>Made by ScaleLab on ${escapeHtml(`${formatDate(input.generatedAt)} ${formatClock(input.generatedAt)}`)}. This file is self-contained: no scripts, nothing loaded from the network. The raw samples are in the JSON file exported with it.</footer>`,
  ];
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${REPORT_CSP}">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="color-scheme" content="light">',
    '<meta name="generator" content="ScaleLab">',
    `<title>${escapeHtml(title)}</title>`,
    `<style>${REPORT_CSS}</style>`,
    '</head>',
    '<body><main>',
    body.filter(Boolean).join('\n'),
    '</main></body>',
    '</html>',
    '',
  ].join('\n');
}

/**
 * The raw data of the same window as pretty JSON:
 * `{ title, generatedAt, window: { from, to }, versions, spec, scenario, events, samples }`.
 * Unlike the HTML, events are never capped.
 * @throws {ReportInputError} when a time is not finite or `to` is before `from`
 */
export function reportJson(input: ReportInput): string {
  checkInput(input);
  const { samples, events } = windowed(input);
  const doc = {
    title: input.title,
    generatedAt: input.generatedAt,
    window: { from: input.from, to: input.to },
    versions: input.versions,
    spec: input.spec,
    scenario: input.scenario,
    capacity: input.capacity ?? null,
    events,
    samples,
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}

/**
 * A file name for the report: `scalelab-cache-outage-2026-11-25T04-50-00.html` (local time of
 * `at`). Only `a-z 0-9 - .` so it is safe on every file system and in a URL; accents are folded,
 * anything else becomes a dash.
 * @param ext `json` for the samples file. @defaultValue 'html'
 * @throws {ReportInputError} when `at` is not a finite time
 */
export function reportFileName(title: string, at: number, ext: 'html' | 'json' = 'html'): string {
  if (!Number.isFinite(at)) throw new ReportInputError(`report time must be ms since epoch, got ${String(at)}`);
  const slug = title
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    // The prefix is added below; a title that starts with the product name would say it twice.
    .replace(/^scalelab(-|$)/, '')
    .slice(0, 60)
    .replace(/-+$/, '');
  return `scalelab-${slug || 'report'}-${fileStamp(at)}.${ext}`;
}
