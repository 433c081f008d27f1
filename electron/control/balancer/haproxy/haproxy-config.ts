/**
 * The HAProxy configuration of a stack's front door: what ScaleLab's own balancer does
 * (balancer.ts), said in HAProxy's words, so the request path runs in a proxy written for it.
 *
 * - Upstreams are slots of one `server-template` (every slot starts in maintenance); the control
 *   plane fills a slot with a replica's address and sets its state over the runtime API. Slots,
 *   not `add server`: HAProxy 2.6 keeps no idle connections to dynamic servers, which costs a new
 *   TCP connection per request (a third of the throughput, measured).
 * - `leastconn`: the ready replica with the fewest outstanding requests.
 * - Retries: a connection that fails before the request was sent goes to another replica; an
 *   idempotent request without a body whose connection broke is sent once more, elsewhere.
 * - Refuses what is not for the replicas, as request-guard.ts does: a missing (400) or foreign
 *   Host (421), a target that is not a plain path (400), a malformed %-escape (400), and any path
 *   with an `admin` segment, %-decoded and case-folded (404) — stricter than the Node balancer's
 *   first-segment rule, which needs a normaliser HAProxy does not have.
 * - Forwarding headers written afresh (a client's X-Forwarded-For, Forwarded and X-Real-IP
 *   dropped, X-Forwarded-For set to the socket's address) and the dashboard's cookie removed, as
 *   forward-headers.ts does.
 * - Latency: one log line per sampled request to the control plane's UDP receiver, prefixed with a
 *   secret so nothing else on the machine can write into the figures; counts come from the exact
 *   counters of `show stat`. Below 1,000 req/s every request is logged; above, 1 in 4, 16 or 64,
 *   and each line carries its weight.
 * - No `maxconn`: HAProxy derives it from the file-descriptor limit it finds (about half of it),
 *   so it starts under a desktop's 1,024 as under a server's 20,000.
 * - One thread: on a laptop the replicas need the other cores more than the proxy does.
 */

import { DASHBOARD_COOKIE } from '../forward-headers.js';

/** Upstream slots: the most api replicas a stack runs. */
export const HAPROXY_SLOTS = 20;
/** The backend's name in the runtime API and `show stat`. */
export const BACKEND = 'api';
/** The frontend's name in `show stat`. */
export const FRONTEND = 'stack';

/** A slot's server name: `r1` … `r20`. */
export function slotName(slot: number): string {
  return `r${slot}`;
}

/** What a configuration needs. */
export interface HaproxyConfigInput {
  /** Public port on 127.0.0.1. */
  port: number;
  /** The runtime API's unix socket (mode 0600). */
  socket: string;
  /** UDP port of the latency receiver on 127.0.0.1. */
  logPort: number;
  /** Prefix of every log line: the receiver drops lines without it. Letters and digits only. */
  secret: string;
  /** Longest wait for a replica's answer (504 after it). @defaultValue 30000 */
  upstreamTimeoutMs?: number;
}

/** Sampling tiers: above this frontend request rate (per second), 1 request in `weight` is logged. */
const TIERS: readonly { above: number; weight: number }[] = [
  { above: 1_000, weight: 4 },
  { above: 4_000, weight: 16 },
  { above: 16_000, weight: 64 },
];

/** The configuration file's text. */
export function haproxyConfig(input: HaproxyConfigInput): string {
  if (!/^[A-Za-z0-9]{16,}$/.test(input.secret)) throw new Error('the log secret must be 16 or more letters and digits');
  const timeout = input.upstreamTimeoutMs ?? 30_000;
  const tiers = TIERS.map((t) => `  http-request set-var(txn.w) int(${t.weight}) if { fe_req_rate gt ${t.above} }`);
  return `# Written by ScaleLab for one stack; it is rewritten at every start.
global
  nbthread 1
  stats socket ${input.socket} mode 600 level admin
  stats timeout 10s
  hard-stop-after 30s
  log 127.0.0.1:${input.logPort} len 256 format raw local0

defaults
  mode http
  log global
  option dontlognull
  option http-keep-alive
  option forwardfor
  timeout connect 1s
  timeout client 65s
  timeout http-request 10s
  timeout http-keep-alive 65s
  timeout server ${timeout}ms
  timeout queue 5s
  retries 1
  option redispatch 1
  retry-on conn-failure empty-response

frontend ${FRONTEND}
  bind 127.0.0.1:${input.port}
  log-format "${input.secret} %[var(txn.w)] %s %ST %[date(0,us),sub(txn.t0)]"
  http-request set-var(txn.t0) date(0,us)
  http-request set-var(txn.w) int(1)
${tiers.join('\n')}
  http-request set-var(txn.keep) rand(64),mod(txn.w)
  http-request set-log-level silent unless { var(txn.keep) -m int 0 }
  acl loopback_host req.hdr(host) -m reg -i ^(127\\.0\\.0\\.1|localhost|\\[::1\\])(:[0-9]{1,5})?$
  acl origin_form url -m reg ^/[!-~]*$
  acl bad_escape path -m reg %([^0-9A-Fa-f]|[0-9A-Fa-f][^0-9A-Fa-f]|[0-9A-Fa-f]?$)
  acl admin_segment path,url_dec,lower -m reg (^|[/\\\\;])admin([/\\\\;]|$)
  http-request deny deny_status 400 unless { req.hdr_cnt(host) eq 1 }
  http-request deny deny_status 421 unless loopback_host
  http-request deny deny_status 400 unless origin_form
  http-request deny deny_status 400 if bad_escape
  http-request deny deny_status 404 if admin_segment
  # Written afresh, as the Node balancer does (forward-headers.ts): a client's own forwarding
  # headers would choose the address replicas rate-limit by (option forwardfor adds the socket's).
  http-request del-header x-forwarded-for
  http-request del-header forwarded
  http-request del-header x-real-ip
  # The dashboard's cookie (browsers send it to every 127.0.0.1 port) is no replica's business.
  http-request replace-header cookie ^(.*?)(?:^|;)\\s*${DASHBOARD_COOKIE}=[^;]*(.*)$ \\1\\2 if { req.hdr(cookie) -m sub ${DASHBOARD_COOKIE}= }
  http-request replace-header cookie ^\\s*;\\s*(.*)$ \\1
  http-request del-header cookie if { req.hdr(cookie) -m reg ^\\s*$ }
  acl idempotent method GET HEAD OPTIONS DELETE PUT TRACE
  acl has_body req.hdr(transfer-encoding) -m found
  acl has_body req.hdr(content-length) -m reg ^0*[1-9]
  http-request disable-l7-retry if !idempotent or has_body
  default_backend ${BACKEND}

backend ${BACKEND}
  balance leastconn
  http-reuse always
  server-template r 1-${HAPROXY_SLOTS} 127.0.0.1:1 disabled
`;
}
