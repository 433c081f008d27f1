import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ControlClient, RemoteError } from '../../electron/control/client.js';
import { ControlPlane } from '../../electron/control/control-plane.js';
import { startHeadless, type Headless } from '../../electron/headless.js';
import { removeTempHome } from '../support/temp-home.js';

let home: string;
let controlPlane: ControlPlane;
let headless: Headless;

beforeAll(async () => {
  home = await mkdtemp(path.join(os.tmpdir(), 'scalelab-headless-'));
  controlPlane = new ControlPlane({ home });
  headless = await startHeadless({ controlPlane, port: 0 });
});
afterAll(async () => {
  await headless.close();
  await headless.close();
  await controlPlane.close();
  await removeTempHome(home);
});

function upgrade(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers });
    ws.once('open', () => {
      ws.close();
      resolve(101);
    });
    ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.once('error', () => resolve(-1));
  });
}

describe('headless server', () => {
  it('binds 127.0.0.1 only', () => {
    expect(headless.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('refuses HTTP requests without the token or with a wrong one', async () => {
    expect((await fetch(`${headless.url}/`)).status).toBe(401);
    expect((await fetch(`${headless.url}/metrics`)).status).toBe(401);
    expect((await fetch(`${headless.url}/?token=wrong`)).status).toBe(401);
    expect((await fetch(`${headless.url}/metrics`, { headers: { authorization: 'Bearer nope' } })).status).toBe(401);
  });

  it('serves the dashboard with the token, sets a cookie for its assets, and sends a CSP', async () => {
    const page = await fetch(headless.dashboardUrl);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(page.headers.get('content-security-policy')).not.toContain("script-src 'self' 'unsafe-inline'");
    const cookie = page.headers.get('set-cookie') ?? '';
    expect(cookie).toContain('HttpOnly');
    expect((await fetch(`${headless.url}/`, { headers: { cookie: cookie.split(';')[0]! } })).status).toBe(200);
    const metrics = await fetch(`${headless.url}/metrics`, { headers: { authorization: `Bearer ${headless.token}` } });
    expect(metrics.status).toBe(200);
  });

  it('refuses a foreign Host header (DNS rebinding)', async () => {
    const status = await new Promise<number>((resolve) => {
      import('node:http').then(({ request }) => {
        const req = request(`${headless.dashboardUrl}`, { headers: { host: 'evil.example:80' } }, (res) => resolve(res.statusCode ?? 0));
        req.end();
      });
    });
    expect(status).toBe(403);
  });

  it('refuses WebSocket upgrades without the token and cross-origin ones', async () => {
    const ws = `${headless.url.replace('http', 'ws')}/ws`;
    expect(await upgrade(ws, {})).toBe(401);
    expect(await upgrade(`${ws}?token=${headless.token}`, { origin: 'http://evil.example' })).toBe(403);
    expect(await upgrade(`${ws}?token=${headless.token}`, { origin: headless.url })).toBe(101);
    expect(await upgrade(ws, { authorization: `Bearer ${headless.token}` })).toBe(101);
  });

  it('answers malformed messages with an error and keeps serving', async () => {
    const client = await ControlClient.connect({ pid: process.pid, url: headless.url, token: headless.token, startedAt: 0 });
    const replies: unknown[] = [];
    const raw = new WebSocket(`${headless.url.replace('http', 'ws')}/ws`, { headers: { authorization: `Bearer ${headless.token}` } });
    await new Promise((resolve) => raw.once('open', resolve));
    raw.on('message', (m) => replies.push(JSON.parse(m.toString())));
    raw.send('not json at all');
    raw.send(JSON.stringify({ id: 'x', command: 5 }));
    raw.send(JSON.stringify({ id: 7, command: 'stack:scale', payload: { service: 'db', replicas: -1 } }));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(replies).toHaveLength(3);
    expect(replies[0]).toMatchObject({ id: -1, result: { ok: false, error: { name: 'ContractError' } } });
    expect(replies[2]).toMatchObject({ id: 7, result: { ok: false, error: { name: 'ContractError' } } });
    raw.close();

    await expect(client.call('nope:nope' as 'stack:status', {})).rejects.toThrow(/unknown command "nope:nope"/);
    await expect(client.call('stack:up', { replicas: { api: 99 } })).rejects.toMatchObject({
      name: 'ContractError',
      message: expect.stringContaining('replicas.api'),
    });
    await expect(client.call('stack:up', { colour: 'red' } as object)).rejects.toBeInstanceOf(RemoteError);
    await expect(client.call('stack:scale', { service: 'api', replicas: 2 })).rejects.toMatchObject({ name: 'StackStateError' });
    await expect(client.call('logs:tail', { instance: '../../etc/passwd' })).rejects.toMatchObject({ name: 'ContractError' });
    // Still up and answering.
    const status = await client.call('stack:status', {});
    expect(status.state).toBe('stopped');
    const probes = await client.call('runtime:probe', {});
    expect(probes.find((p) => p.runtime === 'local')?.available).toBe(true);
    client.close();
  });
});
