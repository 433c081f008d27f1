import type { IncomingMessage } from 'node:http';

/** Why the balancer answers a request itself instead of passing it on. */
export interface Refusal {
  status: 400 | 404 | 405 | 421;
  message: string;
}

/**
 * The names this balancer answers to. It listens on 127.0.0.1 only, so any other Host is a page
 * elsewhere that had its own name resolve to 127.0.0.1 (DNS rebinding): refused.
 */
const LOOPBACK_HOST = /^(?:127\.0\.0\.1|localhost|\[::1\])(?::\d{1,5})?$/i;

/** True for a Host header naming this machine's loopback (with or without a port). */
export function isLoopbackHost(host: string | undefined): boolean {
  return host !== undefined && LOOPBACK_HOST.test(host);
}
/** Origin-form targets of visible ASCII only: absolute-form, `*`, spaces and raw non-ASCII are refused. */
const ORIGIN_FORM = /^\/[\x21-\x7e]*$/;
/** Cheap pre-test: only targets that could spell `admin` (or hide it in %-escapes) are normalised. */
const MAYBE_ADMIN = /admin|%/i;

/**
 * What the balancer refuses before a replica sees it, undefined when the request may pass:
 * a missing or foreign Host (400, 421), a target that is not a plain path (400), and the
 * replicas' fault hooks under `/admin` (404). Chaos calls those on each replica's own port,
 * never through the balancer, so an outside caller has no business there.
 */
export function refusalOf(req: IncomingMessage): Refusal | undefined {
  const host = req.headers.host;
  if (host === undefined || host === '') return { status: 400, message: 'a Host header is required' };
  if (!isLoopbackHost(host)) return { status: 421, message: 'this balancer answers for 127.0.0.1 and localhost only' };
  const target = req.url ?? '';
  if (!ORIGIN_FORM.test(target)) return { status: 400, message: 'the request target must be a path (origin-form) of visible ASCII' };
  if (!MAYBE_ADMIN.test(target)) return undefined;
  const first = firstSegment(target);
  if (first === undefined) return { status: 400, message: 'the path holds a malformed %-escape' };
  return first === 'admin' ? { status: 404, message: 'not found' } : undefined;
}

/**
 * The path's first segment as a lenient router could read it: %-decoded, lower-cased, empty and
 * dot segments resolved, matrix parameters (`;x`) dropped. Undefined when an escape is malformed.
 */
export function firstSegment(target: string): string | undefined {
  const end = target.search(/[?#]/);
  let path: string;
  try {
    path = decodeURIComponent(end === -1 ? target : target.slice(0, end));
  } catch {
    return undefined;
  }
  const segments: string[] = [];
  for (const raw of path.toLowerCase().split(/[/\\]/)) {
    const segment = raw.split(';', 1)[0]!;
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  return segments[0] ?? '';
}
