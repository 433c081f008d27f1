import { spawn } from 'node:child_process';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Instance, StackStatus } from '../../electron/contract.js';

type ClientModule = typeof import('../../electron/control/client.js');
type LoginModule = typeof import('../../electron/dashboard-login.js');

/**
 * ScaleLab as a user runs it: the compiled CLI (`node dist/electron/cli.js`, what `npm start`
 * runs) under its own SCALELAB_HOME, which starts its control plane in the background with the
 * stack's balancer (HAProxy where installed) and tracing as shipped. The benchmark drives it
 * through the CLI and reads instance ports over the control plane's own WebSocket.
 */
export class Product {
  private constructor(
    private readonly root: string,
    readonly home: string,
    private readonly env: Record<string, string>,
    private readonly client: Awaited<ReturnType<ClientModule['attach']>> & object,
  ) {}

  /** Runs `scalelab up …args` in `home` with `env` added, and attaches to its control plane. */
  static async up(root: string, home: string, env: Record<string, string>, args: string[]): Promise<Product> {
    await runCli(root, home, env, ['up', ...args]);
    const { attach } = (await import(pathToFileURL(path.join(root, 'dist/electron/control/client.js')).href)) as ClientModule;
    const client = await attach(home);
    if (!client) throw new Error(`scalelab up returned but no control plane answers for ${home}`);
    return new Product(root, home, env, client);
  }

  /** Runs `scalelab …args` against this stack, as a user would; resolves with its output. */
  cli(args: string[]): Promise<string> {
    return runCli(this.root, this.home, this.env, args);
  }

  status(): Promise<StackStatus> {
    return this.client.call('stack:status', {});
  }

  /** `scalelab scale api n`: returns once n replicas are ready (and the balancer routes to them). */
  async scale(n: number): Promise<void> {
    await runCli(this.root, this.home, this.env, ['scale', 'api', String(n)]);
  }

  async balancerUrl(): Promise<string> {
    const url = (await this.status()).endpoints?.balancer;
    if (!url) throw new Error('the stack has no balancer endpoint');
    return url;
  }

  /** The ready api replicas, with their ports and pids. */
  async apiReplicas(): Promise<Instance[]> {
    return (await this.status()).instances.filter((i) => i.service === 'api' && i.phase === 'ready');
  }

  /** The control plane's pid and its HAProxy child's (undefined with the Node balancer). */
  async pids(): Promise<{ control: number; haproxy: number | undefined }> {
    const control = this.client.control.pid;
    return { control, haproxy: await childNamed(control, 'haproxy') };
  }

  /** A one-time login URL for the dashboard, as `scalelab up --open` gets it (the token never on a command line). */
  async loginUrl(): Promise<string> {
    const { requestLoginUrl } = (await import(pathToFileURL(path.join(this.root, 'dist/electron/dashboard-login.js')).href)) as LoginModule;
    return requestLoginUrl(this.client.control);
  }

  private stopped: Promise<void> | undefined;

  /** `scalelab down --purge`: the stack, its data and its background control plane go. Safe to call twice. */
  down(): Promise<void> {
    this.client.close();
    return (this.stopped ??= runCli(this.root, this.home, this.env, ['down', '--purge']).then(() => undefined));
  }
}

async function runCli(root: string, home: string, env: Record<string, string>, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    const child = spawn(process.execPath, [path.join(root, 'dist/electron/cli.js'), ...args], {
      cwd: root,
      env: { ...process.env, ...env, SCALELAB_HOME: home },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`scalelab ${args.join(' ')} exited with ${code}:\n${out}`)),
    );
  });
}

/** The pid of `parent`'s child whose command is `name`, from /proc. */
export async function childNamed(parent: number, name: string): Promise<number | undefined> {
  for (const entry of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (comm === name && ppid === parent) return Number(entry);
  }
  return undefined;
}

/** Creates `count` users through `url` (POST /users) and returns the lowest and highest id. */
export async function seedUsers(url: string, count: number): Promise<{ minId: number; maxId: number }> {
  const ids: number[] = [];
  const tag = Date.now().toString(36);
  for (let i = 0; i < count; i++) {
    const res = await fetch(`${url}/users`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: `Bench ${i}`, email: `bench-${tag}-${i}@example.com` }),
    });
    if (res.status !== 201) throw new Error(`POST /users answered ${res.status}: ${await res.text()}`);
    ids.push(((await res.json()) as { id: number }).id);
  }
  const minId = Math.min(...ids);
  const maxId = Math.max(...ids);
  if (maxId - minId + 1 !== count) throw new Error(`the seeded ids are not contiguous (${minId}..${maxId} for ${count} users)`);
  return { minId, maxId };
}
