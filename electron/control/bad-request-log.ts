/**
 * The log line of a refused request (a bad request line, URL, encoding, Host or token), shared by
 * the control plane's servers. Refusals are logged so a probe is visible, but rate-limited so a
 * flood of them cannot fill the disk or drown the log, and never with the query string or headers:
 * a refused URL may carry the token (`/?token=…`) and the log file must never hold it.
 */

/** Options of {@link createBadRequestLog}. */
export interface BadRequestLogOptions {
  /** Which server refused (`dashboard`, `otlp`), at the start of each line. */
  server: string;
  /** Where lines go. @defaultValue console.warn (control.log for a background control plane) */
  write?: (line: string) => void;
  /** Lines per minute before the rest are only counted. @defaultValue 20 */
  perMinute?: number;
  /** The clock. @defaultValue Date.now */
  now?: () => number;
}

/** Logs one refusal: why, and the request target's path (shortened, escaped). */
export type BadRequestLog = (reason: string, target?: string) => void;

/** The request target as it may be logged: the path before any `?`, escaped, at most 80 characters. */
export function loggableTarget(target: string | undefined): string {
  const path = (target ?? '').split('?')[0]!;
  return JSON.stringify(path.length > 80 ? `${path.slice(0, 80)}…` : path);
}

/** See the file's comment. */
export function createBadRequestLog(options: BadRequestLogOptions): BadRequestLog {
  const write = options.write ?? ((line: string) => console.warn(line));
  const now = options.now ?? Date.now;
  const perMinute = options.perMinute ?? 20;
  let windowStart = now();
  let written = 0;
  let suppressed = 0;
  return (reason, target) => {
    const t = now();
    if (t - windowStart >= 60_000) {
      if (suppressed > 0)
        write(`scalelab ${options.server}: ${suppressed} more requests refused in the last minute (not logged one by one)`);
      windowStart = t;
      written = 0;
      suppressed = 0;
    }
    if (written >= perMinute) {
      suppressed += 1;
      return;
    }
    written += 1;
    write(`scalelab ${options.server}: refused a request (${reason})${target === undefined ? '' : ` to ${loggableTarget(target)}`}`);
  };
}
