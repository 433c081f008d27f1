/**
 * Text helpers of the HTML report: escaping and the formats of numbers, clock times and
 * durations. Dates are formatted by hand (not `toLocaleString`) so a report reads the same
 * whatever locale the control plane runs under; times are the machine's local time, with its
 * UTC offset shown once in the header.
 */

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/**
 * Escapes text for HTML and SVG, in element content and in quoted attributes alike. Every string
 * that comes from data (names, messages, labels, ids) goes through here.
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

const pad = (n: number, width = 2) => String(Math.trunc(Math.abs(n))).padStart(width, '0');

/** `2026-11-25` in local time. */
export function formatDate(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** `04:50:07` in local time. */
export function formatClock(ms: number): string {
  const d = new Date(ms);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** `UTC+01:00`: the local offset at that instant (it changes with daylight saving time). */
export function formatUtcOffset(ms: number): string {
  // getTimezoneOffset is minutes *behind* UTC, hence the flipped sign.
  const offset = -new Date(ms).getTimezoneOffset();
  return `UTC${offset < 0 ? '−' : '+'}${pad(offset / 60)}:${pad(offset % 60)}`;
}

/** `2026-11-25 04:50:00 – 04:55:00`, repeating the date only when the window crosses midnight. */
export function formatWindow(from: number, to: number): string {
  const end = formatDate(from) === formatDate(to) ? formatClock(to) : `${formatDate(to)} ${formatClock(to)}`;
  return `${formatDate(from)} ${formatClock(from)} – ${end}`;
}

/** `2026-11-25T04-50-00`: local time with no characters a file system could object to. */
export function fileStamp(ms: number): string {
  return `${formatDate(ms)}T${formatClock(ms).replace(/:/g, '-')}`;
}

/** `45 s`, `5 min`, `5 min 30 s`, `1 h 2 min`. */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  if (h > 0) return m > 0 ? `${h} h ${m} min` : `${h} h`;
  if (m > 0) return s > 0 ? `${m} min ${s} s` : `${m} min`;
  return `${s} s`;
}

/** A number with at most `digits` decimals, trailing zeros dropped, thousands grouped: `1,234.5`. */
export function formatNumber(value: number, digits = 1): string {
  if (!Number.isFinite(value)) return '—';
  const factor = 10 ** digits;
  const rounded = Math.round(value * factor) / factor;
  const [int, frac] = Math.abs(rounded).toFixed(digits).split('.') as [string, string | undefined];
  const grouped = int.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const decimals = frac?.replace(/0+$/, '');
  return `${rounded < 0 ? '−' : ''}${grouped}${decimals ? `.${decimals}` : ''}`;
}

/** A fraction as a percentage: 0.0123 → `1.23 %` (more decimals for small rates, where they matter). */
export function formatPercent(fraction: number): string {
  if (!Number.isFinite(fraction)) return '—';
  const pct = fraction * 100;
  const digits = pct !== 0 && Math.abs(pct) < 1 ? 3 : pct < 10 ? 2 : 1;
  return `${formatNumber(pct, digits)} %`;
}

/** Axis labels: `0`, `250`, `1.5k`, `2M`, `0.25`. */
export function formatCompact(value: number): string {
  const abs = Math.abs(value);
  if (abs >= 1e6) return `${formatNumber(value / 1e6, 1)}M`;
  if (abs >= 1e4) return `${formatNumber(value / 1e3, 0)}k`;
  if (abs >= 1e3) return `${formatNumber(value / 1e3, 1)}k`;
  return formatNumber(value, abs < 1 ? 2 : 1);
}

/** Seconds from the window start: `12 s`, `12.5 s`. */
export function formatSeconds(s: number): string {
  return `${formatNumber(s, 1)} s`;
}
