import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, fchmodSync, mkdirSync, openSync } from 'node:fs';
import path from 'node:path';
import WebSocket from 'ws';
import type { CommandName, CommandPayload, CommandResult, EventName, Events, ServerMessage } from '../contract.js';
import { nodeEntryCommand } from './runtimes/local/backend-process.js';
import { isAlive } from './runtimes/local/adopted-process.js';
import { readControlFile, type ControlFile } from './control-file.js';
import { controlLockOwner } from './control-lock.js';
import { controlLiveness } from './runtimes/local/control-liveness.js';
import { NamedError } from '../../backend/named-error.js';

/** A command failed in the control plane; `name` is its error class there. */
export class RemoteError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

/** No control plane answers and none could be started. */
export class ControlPlaneUnavailableError extends NamedError {}

/** The contract over WebSocket, for the CLI (the renderer has its own bridge with the same shape). */
export class ControlClient {
  private next = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly listeners = new Map<EventName, Set<(data: never) => void>>();

  private constructor(
    private readonly ws: WebSocket,
    readonly control: ControlFile,
  ) {
    ws.on('message', (raw) => {
      const message = JSON.parse(raw.toString()) as ServerMessage;
      if ('id' in message) {
        const waiter = this.pending.get(message.id);
        this.pending.delete(message.id);
        if (message.result.ok) waiter?.resolve(message.result.value);
        else waiter?.reject(new RemoteError(message.result.error.name, message.result.error.message));
      } else {
        for (const listener of this.listeners.get(message.event) ?? []) (listener as (d: unknown) => void)(message.data);
      }
    });
    ws.on('close', () => {
      for (const waiter of this.pending.values())
        waiter.reject(new ControlPlaneUnavailableError('the control plane closed the connection'));
      this.pending.clear();
    });
  }

  /** Connects to the control plane described by `control`. */
  static connect(control: ControlFile, timeoutMs = 3_000): Promise<ControlClient> {
    const url = `${control.url.replace(/^http/, 'ws')}/ws`;
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { headers: { authorization: `Bearer ${control.token}` }, handshakeTimeout: timeoutMs });
      ws.once('open', () => resolve(new ControlClient(ws, control)));
      ws.once('error', (err) =>
        reject(new ControlPlaneUnavailableError(`cannot reach the control plane at ${control.url}: ${err.message}`)),
      );
      ws.once('unexpected-response', (_req, res) =>
        reject(new ControlPlaneUnavailableError(`the control plane at ${control.url} refused the connection (${res.statusCode})`)),
      );
    });
  }

  call<C extends CommandName>(command: C, payload: CommandPayload<C> | Record<string, unknown> = {}): Promise<CommandResult<C>> {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.ws.send(JSON.stringify({ id, command, payload }));
    });
  }

  /** Sends raw text, for tests of malformed messages. */
  sendRaw(text: string): void {
    this.ws.send(text);
  }

  on<E extends EventName>(event: E, listener: (data: Events[E]) => void): () => void {
    const set = this.listeners.get(event) ?? new Set();
    set.add(listener as (data: never) => void);
    this.listeners.set(event, set);
    return () => set.delete(listener as (data: never) => void);
  }

  /** Safe to call twice. */
  close(): void {
    this.ws.close();
  }
}

/** The control plane of `home` if one runs and answers. */
export async function attach(home: string): Promise<ControlClient | undefined> {
  const control = await readControlFile(home);
  if (!control || !isAlive(control.pid)) return undefined;
  try {
    return await ControlClient.connect(control);
  } catch {
    return undefined;
  }
}

/** Starts `scalelab serve --detached` for `home`, its output appended to SCALELAB_HOME/control.log. */
export function startDetached(home: string, logFile: string): ChildProcess {
  mkdirSync(home, { recursive: true, mode: 0o700 });
  // Owner-only, also when an older ScaleLab made it 0644: a crash's stack or a refused request lands here.
  const log = openSync(logFile, 'a', 0o600);
  fchmodSync(log, 0o600);
  const { command, args, cwd } = nodeEntryCommand('electron/cli');
  const child = spawn(command, [...args, 'serve', '--detached'], {
    cwd,
    stdio: ['ignore', log, log],
    detached: true,
    env: { ...process.env, SCALELAB_HOME: home },
  });
  closeSync(log);
  child.unref();
  return child;
}

/**
 * Attaches to the running control plane, or starts one in the background (`scalelab serve
 * --detached`, output in SCALELAB_HOME/control.log) and attaches once it answers. The home's
 * control-plane lock decides who runs: while a live process holds it (one another client just
 * started, or one still adopting its stack) this waits for that one instead of starting a second.
 */
export async function attachOrStart(home: string, onProgress: (message: string) => void = () => undefined): Promise<ControlClient> {
  const running = await attach(home);
  if (running) return running;
  const logFile = path.join(home, 'control.log');
  let child: ChildProcess | undefined;
  let waitingFor: number | undefined;
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const owner = await controlLockOwner(home);
    if (owner === undefined) {
      if (child?.exitCode != null)
        throw new ControlPlaneUnavailableError(`the control plane exited with code ${child.exitCode}; see ${logFile}`);
      if (!child) {
        onProgress('starting the control plane in the background');
        child = startDetached(home, logFile);
      }
    } else {
      if (owner !== child?.pid && owner !== waitingFor) onProgress(`waiting for the control plane (pid ${owner}) to answer`);
      waitingFor = owner;
      const control = await readControlFile(home);
      if (control?.pid === owner) {
        const client = await ControlClient.connect(control).catch(() => undefined);
        if (client) return client;
        // A stopped process accepts the connection but never answers: say so now, not after a minute.
        if ((await controlLiveness(owner)) === 'paused')
          throw new ControlPlaneUnavailableError(
            `the control plane (pid ${owner}) is paused; continue it with \`kill -CONT ${owner}\` (or \`fg\` in its terminal)`,
          );
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new ControlPlaneUnavailableError(`the control plane did not answer within 60 s; see ${logFile}`);
}
