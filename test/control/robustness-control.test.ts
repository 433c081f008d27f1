import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { promisify } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StackStatus, TraceList } from '../../electron/contract.js';
import { isTakeover } from '../../electron/control/adoption.js';
import { ControlClient, RemoteError } from '../../electron/control/client.js';
import { readControlFile, type ControlFile } from '../../electron/control/control-file.js';
import { ControlPlane } from '../../electron/control/control-plane.js';
import { BusyError, InFlightLimit } from '../../electron/control/in-flight-limit.js';
import { isAlive } from '../../electron/control/runtimes/local/adopted-process.js';
import { parseScenario, ScenarioFileError } from '../../electron/control/scenarios/scenario-file.js';
import { requestLoginUrl } from '../../electron/dashboard-login.js';
import { eventually } from '../backend/support/api.js';
import { makeTempHome, removeTempHome } from '../support/temp-home.js';
import { commandLines } from './support/control-plane-process.js';
import { rawRequest } from './support/raw-http.js';
import { root, runScalelab } from './support/scalelab-cli.js';

/**
 * Issue 20's control-plane rows (1, 2, 6, 8, 9, 13, 14), replayed against a real control plane:
 * the background one `scalelab status` starts on a fresh SCALELAB_HOME, as a user's first command
 * does, with its output in control.log. Raw sockets where a client library would tidy the bytes.
 */
const run = promisify(execFile);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let home: string;
let control: ControlFile;
let port: number;
let otlpPort: number;
let client: ControlClient;

/** A request's bytes, with `Connection: close` so the server ends the exchange. */
const raw = (line: string, headers: string[] = []) => `${line}\r\n${[...headers, 'Connection: close'].join('\r\n')}\r\n\r\n`;

beforeAll(async () => {
  home = await makeTempHome('scalelab-robust-');
  const status = await runScalelab(home, ['status']);
  expect(status.code, status.stderr).toBe(0);
  control = (await readControlFile(home))!;
  port = Number(new URL(control.url).port);
  client = await ControlClient.connect(control);
  const traces = await client.call('traces:list', { from: 0, to: Date.now() });
  otlpPort = Number(new URL((traces as TraceList).tracing.receiver!).port);
}, 90_000);

afterAll(async () => {
  client?.close();
  if (control && isAlive(control.pid)) {
    process.kill(control.pid, 'SIGTERM');
    await eventually('the control plane exits', async () => !isAlive(control.pid), 20_000);
  }
  await removeTempHome(home);
}, 30_000);

/** The control plane is alive and answers a command over its WebSocket. */
async function expectAnswering(): Promise<void> {
  expect(isAlive(control.pid)).toBe(true);
  const status = (await client.call('stack:status', {})) as StackStatus;
  expect(status.state).toBe('stopped');
}

describe('the control plane under hostile requests (issue 20)', () => {
  it('rows 1 and 2: a bad request line, URL or percent-encoding gets a 400, as HTTP and as a WebSocket upgrade, and the process lives', async () => {
    const host = `Host: 127.0.0.1:${port}`;
    const upgrade = [
      host,
      'Upgrade: websocket',
      'Connection: Upgrade',
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
      'Sec-WebSocket-Version: 13',
    ];
    // No token at all: the URL is parsed before any check, and used to throw there.
    expect((await rawRequest(port, raw('GET //[ HTTP/1.1', [host]))).status).toBe(400);
    expect((await rawRequest(port, raw('GET //[ HTTP/1.1'))).status).toBe(400);
    expect((await rawRequest(port, raw('GET //[ HTTP/1.1', upgrade))).status).toBe(400);
    expect((await fetch(`http://127.0.0.1:${port}//[`)).status).toBe(400);
    expect((await rawRequest(port, raw('GET * HTTP/1.1', [host]))).status).toBe(400);
    // With the token: a stray %, a %XX that is not UTF-8, a NUL.
    for (const target of ['/%', '/%E0%A4%A', '/%E0%A4', '/%C0', '/assets/%ZZ.js', '/%00']) {
      expect((await rawRequest(port, raw(`GET ${target}?token=${control.token} HTTP/1.1`, [host]))).status, target).toBe(400);
      expect((await rawRequest(port, raw(`GET ${target} HTTP/1.1`, [host, `Authorization: Bearer ${control.token}`]))).status, target).toBe(
        400,
      );
    }
    expect((await rawRequest(port, raw(`GET /%?token=${control.token} HTTP/1.1`, upgrade))).status).toBe(400);
    // Node's own parser refusals (a broken request line, a bad header) are answered too.
    expect((await rawRequest(port, 'GET / HTTP/1.1\r\nHost 127.0.0.1\r\n\r\n')).status).toBe(400);
    await expectAnswering();
    const log = readFileSync(path.join(home, 'control.log'), 'utf8');
    expect(log).toContain(
      'scalelab dashboard: refused a request (the request target is not a valid URL path (RFC 3986 characters, %XX escapes)) to "//["',
    );
    expect(log).toContain('scalelab dashboard: refused a request (the path has a bad percent-encoding) to "/%E0%A4"');
    expect(log).toContain('scalelab dashboard: refused a request (WebSocket upgrade: the request target is not a valid URL path');
  });

  it('row 6: the OTLP receiver refuses a forged trace without the token or under a foreign Host, and traces:get never returns it', async () => {
    const forgedId = 'f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0';
    const forged = JSON.stringify({
      resourceSpans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'scalelab-api' } }] },
          scopeSpans: [
            {
              spans: [
                {
                  traceId: forgedId,
                  spanId: '0101010101010101',
                  name: 'GET /users/:id',
                  kind: 2,
                  startTimeUnixNano: `${Date.now()}000000`,
                  endTimeUnixNano: `${Date.now() + 5}000000`,
                  attributes: [{ key: 'http.response.status_code', value: { intValue: 500 } }],
                  status: { code: 2 },
                },
              ],
            },
          ],
        },
      ],
    });
    const post = (headers: string[]) =>
      rawRequest(
        otlpPort,
        `POST /v1/traces HTTP/1.1\r\n${[...headers, 'Content-Type: application/json', `Content-Length: ${Buffer.byteLength(forged)}`, 'Connection: close'].join('\r\n')}\r\n\r\n${forged}`,
      );
    expect((await post([`Host: 127.0.0.1:${otlpPort}`])).status).toBe(401);
    expect((await post([`Host: 127.0.0.1:${otlpPort}`, 'Authorization: Bearer forged'])).status).toBe(401);
    // DNS rebinding: the page's Host is its own name; the dashboard's token is not the receiver's either.
    expect((await post(['Host: evil.com', `Authorization: Bearer ${control.token}`])).status).toBe(403);
    expect((await post([`Host: 127.0.0.1:${otlpPort}`, `Authorization: Bearer ${control.token}`])).status).toBe(401);
    expect((await rawRequest(otlpPort, raw('GET //[ HTTP/1.1', [`Host: 127.0.0.1:${otlpPort}`]))).status).toBe(400);
    await expect(client.call('traces:get', { traceId: forgedId })).rejects.toMatchObject({ name: 'TraceNotFoundError' });
    const { tracing } = (await client.call('traces:list', { from: 0, to: Date.now() + 60_000 })) as TraceList;
    expect(tracing.spansReceived).toBe(0);
    await expectAnswering();
  });

  it('row 8: the dashboard opens by a one-time code; no token in any command line, in control.log, or in a file others can read', async () => {
    const login = await requestLoginUrl(control);
    expect(login).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${port}/\\?code=[\\w-]+$`));
    expect(login).not.toContain(control.token);
    const first = await fetch(login, { redirect: 'manual' });
    expect(first.status).toBe(303);
    const cookie = (first.headers.get('set-cookie') ?? '').split(';')[0]!;
    expect(cookie).toBe(`scalelab_token=${control.token}`);
    expect((await fetch(`${control.url}/`, { headers: { cookie } })).status).toBe(200);
    // Spent: a process list that showed the code shows nothing reusable.
    expect((await fetch(login, { redirect: 'manual' })).status).toBe(401);
    expect((await fetch(`${control.url}/?code=made-up`, { redirect: 'manual' })).status).toBe(401);

    const { stdout: ps } = await run('ps', ['-eo', 'pid,args', '-ww']);
    expect(ps).not.toContain(control.token);
    expect([...commandLines().values()].some((line) => line.includes(control.token))).toBe(false);
    const logFile = path.join(home, 'control.log');
    expect(statSync(logFile).mode & 0o777).toBe(0o600);
    expect(readFileSync(logFile, 'utf8')).not.toContain(control.token);
    const files = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? files(path.join(dir, e.name)) : e.isFile() ? [path.join(dir, e.name)] : [],
      );
    const holding = files(home).filter((file) => readFileSync(file).includes(control.token));
    expect(holding).toContain(path.join(home, 'control.json'));
    for (const file of holding) expect(statSync(file).mode & 0o077, `${file} holds the token`).toBe(0);
  });

  it('row 9: 300 concurrent telemetry:history requests get answers or a clear "retry", never a stall', async () => {
    const started = Date.now();
    const results = await Promise.allSettled(Array.from({ length: 300 }, () => client.call('telemetry:history', { seconds: 1800 })));
    const busy = results.filter((r) => r.status === 'rejected');
    expect(busy.length).toBeGreaterThan(0);
    for (const r of busy)
      expect((r as PromiseRejectedResult).reason).toMatchObject({ name: 'BusyError', message: expect.stringContaining('retry') });
    expect(results.filter((r) => r.status === 'fulfilled').length).toBeGreaterThanOrEqual(4);
    expect(Date.now() - started).toBeLessThan(5_000);
    await expect(client.call('telemetry:history', { seconds: 1800 })).resolves.toBeInstanceOf(Array);
  });

  it('row 9: the limit holds at most 4 requests in flight, whatever their pace', async () => {
    const limit = new InFlightLimit({ what: 'telemetry:history' });
    let running = 0;
    let peak = 0;
    const work = async () => {
      running += 1;
      peak = Math.max(peak, running);
      await sleep(20);
      running -= 1;
      return 1;
    };
    const results = await Promise.allSettled(Array.from({ length: 50 }, () => limit.run(work)));
    expect(peak).toBe(4);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(4);
    expect(results.filter((r) => r.status === 'rejected').every((r) => (r as PromiseRejectedResult).reason instanceof BusyError)).toBe(
      true,
    );
  });

  it("row 13: scenarios past the schema's limits (500 steps, 100 assertions) are refused naming them, in the file and over the contract", async () => {
    const scenario = (steps: number, assertions: number) =>
      [
        'name: huge',
        'durationS: 60',
        'steps:',
        ...Array.from({ length: steps }, (_, i) => `  - { at: 1, note: n${i} }`),
        'assertions:',
        ...Array.from({ length: assertions }, () => '  - p99_ms<250'),
      ].join('\n');
    const refusal = (source: string) => {
      try {
        parseScenario(source);
        return undefined;
      } catch (err) {
        return err as Error;
      }
    };
    // The issue's file: 20,000 steps and 301 assertions, refused by its size before it is parsed.
    const huge = refusal(scenario(20_000, 301));
    expect(huge).toBeInstanceOf(ScenarioFileError);
    expect(huge!.message).toMatch(/a scenario is at most 131072 \(at most 500 steps and 100 assertions fit in far less\)/);
    const overContract = await client
      .call('scenario:load', { source: scenario(20_000, 301), fileName: 'huge.yaml' })
      .catch((err: unknown) => err);
    expect(overContract).toMatchObject({ name: 'ContractError', message: expect.stringContaining('131072') });
    // Small enough to parse, too many items: each list's limit and count named.
    const many = refusal(scenario(600, 101));
    expect(many).toBeInstanceOf(ScenarioFileError);
    expect(many!.message).toContain("steps must have at most 500 items (the schema's limit); this file has 600");
    expect(many!.message).toContain("assertions must have at most 100 items (the schema's limit); this file has 101");
    const remote = await client.call('scenario:load', { source: scenario(600, 101), fileName: 'many.yaml' }).catch((err: unknown) => err);
    expect(remote).toBeInstanceOf(RemoteError);
    expect(remote).toMatchObject({ name: 'ScenarioFileError', message: expect.stringContaining('steps must have at most 500 items') });
    expect(refusal(scenario(500, 100))).toBeUndefined();
    await expectAnswering();
  });

  it('fuzz: 200 seeded request lines, headers and paths against the dashboard server and the OTLP receiver: no 5xx, no exit, no failed ordinary call', async () => {
    // An ordinary client's loop beside the fuzz: every call must succeed.
    const failures: string[] = [];
    let calls = 0;
    let looping = true;
    const loop = (async () => {
      while (looping) {
        try {
          await client.call('stack:status', {});
          calls += 1;
        } catch (err) {
          failures.push((err as Error).message);
        }
        await sleep(25);
      }
    })();
    const pathChar = fc.constantFrom(
      '/',
      '%',
      '[',
      ']',
      '\\',
      '?',
      '#',
      '@',
      ':',
      '.',
      '..',
      'a',
      'ws',
      'v1',
      'traces',
      '%E0%A4%A',
      '%00',
      '%2F',
      'é',
      '😀',
      '\u0000',
      ' ',
      '\t',
      '~',
      '*',
    );
    const request = fc.record({
      method: fc.constantFrom('GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'CONNECT', 'TRACE', 'G ET', 'BREW', ''),
      target: fc.oneof(
        fc.array(pathChar, { maxLength: 12 }).map((p) => `/${p.join('')}`),
        fc.constantFrom('*', 'http://evil/', '//[', '//evil.example/x', ''),
      ),
      version: fc.constantFrom('HTTP/1.1', 'HTTP/1.0', 'HTTP/2.0', 'HTTP/1.1 extra', ''),
      host: fc.constantFrom('own', 'localhost', 'evil.com', 'none', '[::1]', ''),
      auth: fc.constantFrom('token', 'none', 'wrong', 'Basic x'),
      extra: fc.array(fc.tuple(fc.stringMatching(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{0,12}$/), fc.string({ maxLength: 20 })), { maxLength: 3 }),
      body: fc.option(
        fc.oneof(fc.string({ maxLength: 200 }), fc.constant('{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"x"}]}]}]}')),
        { nil: undefined },
      ),
      upgrade: fc.boolean(),
      otlp: fc.boolean(),
    });
    const answers: number[] = [];
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const target = r.otlp ? otlpPort : port;
        const headers: string[] = [];
        if (r.host !== 'none') headers.push(`Host: ${r.host === 'own' ? `127.0.0.1:${target}` : r.host}`);
        if (r.auth === 'token') headers.push(`Authorization: Bearer ${control.token}`);
        else if (r.auth !== 'none') headers.push(`Authorization: ${r.auth === 'wrong' ? 'Bearer wrong' : r.auth}`);
        if (r.upgrade) headers.push('Upgrade: websocket', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version: 13');
        for (const [name, value] of r.extra) headers.push(`${name}: ${value}`);
        if (r.body !== undefined) headers.push('Content-Type: application/json', `Content-Length: ${Buffer.byteLength(r.body)}`);
        const bytes = `${r.method} ${r.target} ${r.version}\r\n${[...headers, r.upgrade ? 'Connection: Upgrade, close' : 'Connection: close'].join('\r\n')}\r\n\r\n${r.body ?? ''}`;
        const answer = await rawRequest(target, bytes, { timeoutMs: 2_000 });
        answers.push(answer.status);
        expect(answer.status < 500, `${JSON.stringify(bytes.slice(0, 200))} → ${answer.text.slice(0, 200)}`).toBe(true);
        expect(isAlive(control.pid)).toBe(true);
      }),
      { seed: 20_2026, numRuns: 200 },
    );
    looping = false;
    await loop;
    expect(failures).toEqual([]);
    expect(calls).toBeGreaterThan(5);
    // The fuzz reached past the parser: some answers are the servers' own refusals and some are 200s.
    expect(answers.filter((s) => s >= 400 && s < 500).length).toBeGreaterThan(50);
    await expectAnswering();
  }, 60_000);
});

describe('the crash guard of a control plane process (issue 20, row 1)', () => {
  it('logs an unhandled rejection with its stack and keeps running; logs an uncaught exception with its stack and exits 70', async () => {
    const script = [
      "import { installCrashGuard } from './electron/control/crash-guard.ts';",
      "installCrashGuard({ who: 'scalelab serve (test)' });",
      "Promise.reject(new Error('nobody awaited me'));",
      "setTimeout(() => { console.log('still alive'); setTimeout(() => { throw new Error('boom'); }, 20); }, 100);",
    ].join('\n');
    const result = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: root }).then(
      (r) => ({ code: 0, ...r }),
      (err: { code: number; stdout: string; stderr: string }) => err,
    );
    expect(result.stdout).toContain('still alive');
    expect(result.stderr).toMatch(
      /scalelab serve \(test\): unhandled promise rejection \(logged; the control plane keeps running\):\nError: nobody awaited me\n\s+at /,
    );
    expect(result.stderr).toMatch(/scalelab serve \(test\): uncaught exception, exiting \(code 70\)[^\n]*\nError: boom\n\s+at /);
    expect(result.code).toBe(70);
  });

  it('a background control plane starts its successor before it exits, so the stack is adopted without a command', async () => {
    const script = [
      "import { installCrashGuard } from './electron/control/crash-guard.ts';",
      "installCrashGuard({ who: 'scalelab serve (test)', restart: () => { console.log('successor started'); return true; } });",
      "setTimeout(() => { throw new Error('boom'); }, 20);",
    ].join('\n');
    const result = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: root }).then(
      (r) => ({ code: 0, ...r }),
      (err: { code: number; stdout: string; stderr: string }) => err,
    );
    expect(result.stdout).toContain('successor started');
    expect(result.stderr).toMatch(
      /uncaught exception, exiting \(code 70\); a new control plane is starting and adopts the stack:\nError: boom/,
    );
    expect(result.code).toBe(70);
  });
});

describe('adoption says what happened (issue 20, row 14)', () => {
  it('a stack whose down was asked for is not started again by a later control plane', async () => {
    const otherHome = await makeTempHome('scalelab-robust-down-');
    const dir = path.join(otherHome, 'stacks', 'default');
    await mkdir(dir, { recursive: true });
    // What a `down` that failed half-way leaves: state.json naming a control plane that is gone, and the note.
    const spec = { name: 'default', runtime: 'local', port: 18080, replicas: { api: 1, worker: 0 } };
    await writeFile(
      path.join(dir, 'state.json'),
      JSON.stringify({
        version: 1,
        spec,
        controlPid: 2 ** 22 + 7,
        balancerPort: 18080,
        postgres: { pid: undefined, port: 1 },
        redis: { pid: undefined, port: 2 },
        replicas: [],
        watchdogPid: undefined,
      }),
    );
    await writeFile(path.join(dir, 'down-requested'), 'test\n');
    const plane = new ControlPlane({ home: otherHome });
    try {
      expect(await plane.adoptOrphans()).toBeUndefined();
      const status = await plane.handle('stack:status', {});
      expect(status).toMatchObject({ ok: true, value: { state: 'stopped' } });
      const events = await plane.handle('events:list', {});
      expect(JSON.stringify(events)).toContain('was being stopped when its control plane went: not started again');
    } finally {
      await plane.close();
      await removeTempHome(otherHome);
    }
  });

  it('"adopted" only when something of the stack outlived its control plane', () => {
    const since = Date.now();
    const instance = (startedAt: number, pid?: number) => ({
      id: 'api-1',
      service: 'api' as const,
      phase: 'ready' as const,
      restarts: 0,
      startedAt,
      pid,
    });
    const status = (instances: ReturnType<typeof instance>[]) => ({ instances }) as unknown as StackStatus;
    expect(isTakeover(status([instance(since + 500, 42)]), since, new Set())).toBe(false);
    expect(isTakeover(status([instance(since - 60_000, 42)]), since, new Set())).toBe(true);
    // A store's startedAt is not known (0): its recorded pid, still running, says it was taken over.
    expect(isTakeover(status([instance(0, 42)]), since, new Set([42]))).toBe(true);
    expect(isTakeover(status([instance(0, 43)]), since, new Set([42]))).toBe(false);
  });
});

describe('the OTLP receiver behind the real exporter (issue 20, row 6)', () => {
  it('a replica with the environment the runtimes give it gets its spans in; the store stays inside its byte budget under 12,000 maximum-size spans', async () => {
    const { OtlpReceiver, otlpHeaders } = await import('../../electron/control/traces/otlp-receiver.js');
    const { TraceStore } = await import('../../electron/control/traces/trace-store.js');
    const store = new TraceStore();
    const receiver = new OtlpReceiver({ store, log: () => undefined });
    const endpoint = await receiver.start();
    try {
      // The SDK reads the variables exactly as a replica does (backend/telemetry/tracing.ts).
      const load = createRequire(import.meta.url);
      const { OTLPTraceExporter } = load(
        '@opentelemetry/exporter-trace-otlp-http',
      ) as typeof import('@opentelemetry/exporter-trace-otlp-http');
      const { BasicTracerProvider, SimpleSpanProcessor } = load(
        '@opentelemetry/sdk-trace-base',
      ) as typeof import('@opentelemetry/sdk-trace-base');
      const saved = { endpoint: process.env.OTEL_EXPORTER_OTLP_ENDPOINT, headers: process.env.OTEL_EXPORTER_OTLP_HEADERS };
      process.env.OTEL_EXPORTER_OTLP_ENDPOINT = endpoint;
      process.env.OTEL_EXPORTER_OTLP_HEADERS = otlpHeaders(receiver.token);
      const exporter = new OTLPTraceExporter();
      process.env.OTEL_EXPORTER_OTLP_ENDPOINT = saved.endpoint;
      process.env.OTEL_EXPORTER_OTLP_HEADERS = saved.headers;
      if (saved.endpoint === undefined) delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
      if (saved.headers === undefined) delete process.env.OTEL_EXPORTER_OTLP_HEADERS;
      const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
      provider.getTracer('robustness').startSpan('GET /users/:id').end();
      await provider.forceFlush();
      await provider.shutdown();
      expect(store.spansReceived).toBe(1);
      expect(receiver.rejected).toBe(0);

      // 12,000 spans of the largest size the parser keeps (otlp-json.ts SPAN_LIMITS: more is cut before the store), 200 per post.
      const big = 'x'.repeat(300);
      const attributes = Array.from({ length: 14 }, (_, i) => ({ key: `attribute.${i}`, value: { stringValue: big } }));
      const links = Array.from({ length: 16 }, () => ({ traceId: 'a'.repeat(32), spanId: 'b'.repeat(16) }));
      setFlagsFromString('--expose-gc');
      const gc = runInNewContext('gc') as (() => void) | undefined;
      gc?.();
      const before = process.memoryUsage().heapUsed;
      for (let batch = 0; batch < 60; batch += 1) {
        const spans = Array.from({ length: 200 }, (_, i) => {
          const n = batch * 200 + i + 1;
          // A thousand spans a trace (the per-trace cap), so the trace count (500) is not what binds.
          const trace = Math.ceil(n / 1000);
          return {
            traceId: trace.toString(16).padStart(32, '0'),
            spanId: n.toString(16).padStart(16, '0'),
            name: 'n'.repeat(300),
            kind: 2,
            startTimeUnixNano: '1700000000000000000',
            endTimeUnixNano: '1700000000005000000',
            attributes,
            links,
            status: { code: 2, message: big },
          };
        });
        const res = await fetch(`${endpoint}/v1/traces`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${receiver.token}` },
          body: JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans }] }] }),
        });
        expect(res.status).toBe(200);
        await res.arrayBuffer();
      }
      expect(store.spansReceived).toBe(12_001);
      expect(store.bytes).toBeLessThanOrEqual(64 * 1024 * 1024);
      expect(store.tracesEvicted).toBeGreaterThan(0);
      gc?.();
      const grown = (process.memoryUsage().heapUsed - before) / 1024 / 1024;
      console.log(
        `trace store: ${(store.bytes / 1024 / 1024).toFixed(1)} MiB estimated for ${store.size} traces kept; heap grew ${grown.toFixed(0)} MiB${gc ? '' : ' (no gc exposed: an upper bound)'}`,
      );
      expect(grown).toBeLessThan(160);
    } finally {
      await receiver.close();
    }
  }, 60_000);
});
