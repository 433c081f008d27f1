/**
 * The load generator's thread: schedules requests by the clock at the profile's rate (open
 * model), sends them over an undici pool, and reports every second. Latency is measured from
 * each request's scheduled time, so a stalled server or a late generator shows up as latency,
 * never as less load (no coordinated omission). Requests that cannot even be queued are counted
 * as dropped by the client.
 */
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import * as hdr from 'hdr-histogram-js';
import { Pool } from 'undici';
import type { Keys, Mix, TrafficErrors, TrafficProfile, TrafficSpec } from '../../traffic-spec.js';
import type { AcknowledgedWrite } from './traffic-run.js';
import { SharedCounts, type CountedField } from './generator-counters.js';
import { peakRate, rateAt } from '../../traffic-profile.js';
import { KeyPicker, Workload } from './workload.js';

/** What the parent sends this thread at start. */
export interface GeneratorInit {
  target: string;
  spec: TrafficSpec;
  keys: number[];
  runId: string;
  /** The run's running totals, shared by all its threads ({@link SharedCounts}). */
  counts: SharedArrayBuffer;
}

/** Messages from the parent. */
export type ToGenerator = { type: 'update'; profile?: TrafficProfile; mix?: Partial<Mix>; keys?: Keys } | { type: 'stop' };

/** One second of figures (counts), and the writes acknowledged in it. */
export interface GeneratorSecond {
  t: number;
  targetRps: number;
  scheduled: number;
  completed: number;
  dropped: number;
  errors: TrafficErrors;
  /** Latencies of the second (µs), hdr-histogram compressed base64, for merging across threads. */
  latency: string;
  acks: AcknowledgedWrite[];
  intervalMs: number;
  /** How late requests were fired against their scheduled times (µs), hdr-histogram compressed base64. */
  lag: string;
  /** This thread's event-loop utilization over the second, 0..1. */
  busy: number;
}

/** The whole run (counts), sent once when it ends. */
export interface GeneratorTotals {
  elapsedMs: number;
  scheduled: number;
  completed: number;
  dropped: number;
  errors: TrafficErrors;
  /** All latencies (µs), hdr-histogram compressed base64. */
  latency: string;
  /** All scheduling lags (µs), hdr-histogram compressed base64. */
  lag: string;
}

/**
 * What this thread sends. Every acknowledged write is sent once, in the second it was
 * acknowledged, or with `done` when the run ends in a fragment of a second that is not reported;
 * the thread keeps none of them, so a long run costs it no memory.
 */
export type FromGenerator =
  { type: 'ready' } | { type: 'second'; data: GeneratorSecond } | { type: 'done'; data: GeneratorTotals; acks: AcknowledgedWrite[] };

const init = workerData as GeneratorInit;
const port = parentPort!;
const histogram = () =>
  hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: 3, autoResize: true });
const noErrors = (): TrafficErrors => ({ timeout: 0, refused: 0, http4xx: 0, http5xx: 0 });

let profile = init.spec.profile;
let keys = new KeyPicker(init.keys, init.spec.keys);
let mix = init.spec.mix;
let workload = new Workload(mix, keys, init.runId);
const timeoutMs = init.spec.timeoutMs ?? 2_000;
const peak = peakRate(profile);
const connections = Math.min(512, Math.max(32, Math.ceil(peak / 40)));
// Beyond this many outstanding requests the generator itself is the bottleneck: drop and count.
const maxInFlight = Math.min(50_000, Math.max(2_000, Math.ceil(peak * (timeoutMs / 1000) * 1.5)));
const pool = new Pool(init.target, {
  connections,
  pipelining: 1,
  keepAliveTimeout: 10_000,
  headersTimeout: timeoutMs,
  bodyTimeout: timeoutMs,
});

let started = performance.now();
let stopped = false;
let inFlight = 0;
let due = 0;
let lastTick = started;
const total = { scheduled: 0, completed: 0, dropped: 0, errors: noErrors(), latency: histogram(), lag: histogram() };
let second = {
  expected: 0,
  scheduled: 0,
  completed: 0,
  dropped: 0,
  errors: noErrors(),
  latency: histogram(),
  lag: histogram(),
  acks: [] as AcknowledgedWrite[],
  since: started,
};
// In a worker thread this measures the thread's own loop (process.cpuUsage() would count the whole process).
let loopSince = performance.eventLoopUtilization();
const shared = new SharedCounts(init.counts);

/** Counts one request in the run's totals, this second's, and the shared running totals. */
function count(field: CountedField): void {
  shared.add(field);
  if (field === 'scheduled' || field === 'completed' || field === 'dropped') {
    total[field] += 1;
    second[field] += 1;
  } else {
    total.errors[field] += 1;
    second.errors[field] += 1;
  }
}

function classify(err: unknown): keyof TrafficErrors {
  const code = (err as { code?: string }).code ?? '';
  return code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT'
    ? 'timeout'
    : 'refused';
}

async function send(scheduledAt: number): Promise<void> {
  const planned = workload.next();
  inFlight += 1;
  try {
    const response = await pool.request({
      path: planned.path,
      method: planned.method,
      headers: planned.body ? { 'content-type': 'application/json' } : undefined,
      body: planned.body,
    });
    let ack: AcknowledgedWrite | undefined;
    if (planned.kind === 'write' && response.statusCode === 201) {
      const { id } = (await response.body.json()) as { id?: number };
      if (typeof id === 'number') ack = { id, email: (JSON.parse(planned.body!) as { email: string }).email };
    } else await response.body.dump();
    if (stopped) return;
    const elapsed = performance.now() - scheduledAt;
    // undici's timeouts start on the wire; time spent queued counts too, from the scheduled time.
    if (elapsed > timeoutMs) {
      count('timeout');
      return;
    }
    const micros = Math.max(1, Math.round(elapsed * 1000));
    count('completed');
    shared.record(micros);
    total.latency.recordValue(micros);
    second.latency.recordValue(micros);
    // A planned miss answers 404 by design; every other 4xx/5xx is an error.
    const status = response.statusCode;
    if (status >= 500) count('http5xx');
    else if (status >= 400 && !(planned.kind === 'missing' && status === 404)) count('http4xx');
    if (ack) second.acks.push(ack);
  } catch (err) {
    if (stopped) return;
    count(classify(err));
  } finally {
    inFlight -= 1;
  }
}

/** Sends what the clock says is due since the last tick, spread over the gap. */
function tick(): void {
  if (stopped || ending) return;
  const now = performance.now();
  const rate = rateAt(profile, (now - started) / 1000);
  const expected = (rate * (now - lastTick)) / 1000;
  due += expected;
  second.expected += expected;
  const n = Math.floor(due);
  due -= n;
  for (let i = 0; i < n; i += 1) {
    const scheduledAt = lastTick + ((now - lastTick) * (i + 1)) / n;
    count('scheduled');
    if (inFlight >= maxInFlight) {
      count('dropped');
      continue;
    }
    // How late the generator fires it: a busy thread shows here before it drops anything.
    const lag = Math.max(1, Math.round((performance.now() - scheduledAt) * 1000));
    total.lag.recordValue(lag);
    second.lag.recordValue(lag);
    void send(scheduledAt);
  }
  lastTick = now;
  if (init.spec.durationS !== undefined && now - started >= init.spec.durationS * 1000) {
    void finish(true);
    return;
  }
  setTimeout(tick, 1);
}

function report(final = false): void {
  const now = performance.now();
  // A last fragment of a second, scaled to a rate, would show as a spike or dip: leave it to the summary.
  if (final && now - second.since < 500) return;
  const s = second;
  second = {
    expected: 0,
    scheduled: 0,
    completed: 0,
    dropped: 0,
    errors: noErrors(),
    latency: histogram(),
    lag: histogram(),
    acks: [],
    since: now,
  };
  const loop = performance.eventLoopUtilization(loopSince);
  loopSince = performance.eventLoopUtilization();
  const message: FromGenerator = {
    type: 'second',
    data: {
      t: Date.now(),
      targetRps: (s.expected * 1000) / Math.max(1, now - s.since),
      scheduled: s.scheduled,
      completed: s.completed,
      dropped: s.dropped,
      errors: s.errors,
      latency: hdr.encodeIntoCompressedBase64(s.latency),
      acks: s.acks,
      intervalMs: now - s.since,
      lag: hdr.encodeIntoCompressedBase64(s.lag),
      busy: loop.utilization,
    },
  };
  s.latency.destroy();
  s.lag.destroy();
  port.postMessage(message);
}

let reporter: NodeJS.Timeout;

let ending = false;
let abandon: () => void = () => undefined;

/**
 * Ends the run. At the end of its duration the answers still on their way are awaited (up to
 * the timeout), so the achieved rate counts them; a stop is immediate: they are abandoned.
 * Rates are over the scheduling window either way.
 */
async function finish(drain = false): Promise<void> {
  if (ending) {
    abandon();
    return;
  }
  ending = true;
  const elapsedMs = performance.now() - started;
  if (drain) {
    await new Promise<void>((resolve) => {
      abandon = resolve;
      const deadline = performance.now() + timeoutMs;
      const poll = () => (inFlight === 0 || performance.now() > deadline ? resolve() : setTimeout(poll, 5));
      poll();
    });
  }
  stopped = true;
  clearInterval(reporter);
  report(true);
  // Writes of a last fragment that report() left to the summary (none when it sent the fragment).
  const message: FromGenerator = {
    type: 'done',
    data: {
      elapsedMs,
      scheduled: total.scheduled,
      completed: total.completed,
      dropped: total.dropped,
      errors: total.errors,
      latency: hdr.encodeIntoCompressedBase64(total.latency),
      lag: hdr.encodeIntoCompressedBase64(total.lag),
    },
    acks: second.acks,
  };
  port.postMessage(message);
  await pool.destroy().catch(() => undefined);
  process.exit(0);
}

port.on('message', (message: ToGenerator) => {
  if (message.type === 'stop') void finish();
  else {
    if (message.profile) profile = message.profile;
    if (message.mix) mix = message.mix;
    if (message.keys) keys = new KeyPicker(init.keys, message.keys);
    if (message.mix || message.keys) workload = new Workload(mix, keys, init.runId);
  }
});

/**
 * Opens the pool's connections before the clock starts, so the first second measures the server,
 * not TCP handshakes and a cold JIT: a few rounds of HEAD /healthz (cheap on the stack, any answer
 * will do).
 */
async function warmUp(): Promise<void> {
  const width = Math.min(connections, Math.max(8, Math.ceil(peak / 200)));
  for (let round = 0; round < 3; round += 1) {
    await Promise.all(
      Array.from({ length: width }, () =>
        pool.request({ path: '/healthz', method: 'HEAD' }).then(
          (r) => r.body.dump(),
          () => undefined,
        ),
      ),
    );
  }
}

void warmUp().then(() => {
  started = performance.now();
  lastTick = started;
  second.since = started;
  loopSince = performance.eventLoopUtilization();
  reporter = setInterval(() => report(), 1_000);
  port.postMessage({ type: 'ready' } satisfies FromGenerator);
  setTimeout(tick, 1);
});
