import { EventEmitter } from 'node:events';
import { appendFile } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import type Docker from 'dockerode';
import type { ProcessLike } from '../local/adopted-process.js';
import type { DockerEvents } from './docker-events.js';
import { assertOwned } from './labels.js';

/** Options of {@link ContainerProcess}. */
export interface ContainerProcessOptions {
  docker: Docker;
  events: DockerEvents;
  stack: string;
  /** Receives the container's stdout and stderr. */
  logFile: string;
}

/** Exit codes of a process killed by a signal, as the engine reports them (128 + signal). */
const SIGNAL_EXITS: Record<number, NodeJS.Signals> = { 137: 'SIGKILL', 143: 'SIGTERM', 130: 'SIGINT' };

/**
 * One incarnation of a container, seen as a process so the same supervisor (Replica) runs local
 * processes and containers: signals map to the engine's kill, pause and unpause, the exit comes
 * from the engine's `die` event, and the output is copied to the instance's log file.
 */
export class ContainerProcess extends EventEmitter implements ProcessLike {
  /** Containers live in their own pid namespace; the host pid of their init means nothing here. */
  readonly pid = undefined;
  exitCode: number | null = null;
  signalCode: NodeJS.Signals | null = null;
  /** Set once the engine has created it. */
  container: Docker.Container | undefined;
  private paused = false;
  private unsubscribe: (() => void) | undefined;
  private logs: NodeJS.ReadableStream | undefined;

  private constructor(private readonly options: ContainerProcessOptions) {
    super();
  }

  /**
   * Creates and starts a container from `create` (replacing a stopped one of the same name that
   * this stack owns). A failure to create or start shows as an exit with code 125, like
   * `docker run`, and its reason goes to the log file.
   */
  static launch(options: ContainerProcessOptions, create: Docker.ContainerCreateOptions): ContainerProcess {
    const process = new ContainerProcess(options);
    void process.run(create);
    return process;
  }

  /** Supervises a container that is already running (a previous control plane started it). */
  static adopt(options: ContainerProcessOptions, container: Docker.Container): ContainerProcess {
    const process = new ContainerProcess(options);
    process.attach(container, Math.floor(Date.now() / 1000));
    void container.inspect().then(
      (info) => {
        if (!info.State.Running) process.exited(info.State.ExitCode);
        else process.paused = info.State.Paused;
      },
      () => process.exited(125),
    );
    return process;
  }

  kill(signal: NodeJS.Signals | number = 'SIGTERM'): boolean {
    const container = this.container;
    if (!container || this.exitCode !== null) return false;
    const ignore = () => undefined;
    if (signal === 'SIGSTOP') {
      this.paused = true;
      container.pause().catch(ignore);
    } else if (signal === 'SIGCONT') {
      if (this.paused) container.unpause().catch(ignore);
      this.paused = false;
    } else {
      const name = typeof signal === 'number' ? String(signal) : signal;
      // A paused container cannot take a signal until it is thawed.
      const thaw = this.paused ? container.unpause().catch(ignore) : Promise.resolve();
      this.paused = false;
      void thaw.then(() => container.kill({ signal: name })).catch(ignore);
    }
    return true;
  }

  private async run(create: Docker.ContainerCreateOptions): Promise<void> {
    const { docker, stack } = this.options;
    try {
      if (create.name) await removeOwned(docker, create.name, stack);
      const container = await docker.createContainer(create);
      this.attach(container, 0);
      await container.start();
    } catch (err) {
      await appendFile(this.options.logFile, `scalelab: could not start the container: ${(err as Error).message}\n`).catch(() => undefined);
      this.exited(125);
    }
  }

  private attach(container: Docker.Container, logsSince: number): void {
    this.container = container;
    this.unsubscribe = this.options.events.onContainer(container.id, (event) => {
      if (event.action === 'die') this.exited(Number(event.attributes.exitCode ?? 1));
      else if (event.action === 'pause') this.paused = true;
      else if (event.action === 'unpause') this.paused = false;
      else if (event.action === 'destroy') this.exited(137);
    });
    void this.pumpLogs(container, logsSince);
  }

  private async pumpLogs(container: Docker.Container, since: number): Promise<void> {
    try {
      const stream = (await container.logs({ follow: true, stdout: true, stderr: true, since })) as unknown as NodeJS.ReadableStream;
      this.logs = stream;
      const out = createWriteStream(this.options.logFile, { flags: 'a' });
      this.options.docker.modem.demuxStream(stream, out, out);
      stream.on('end', () => out.end());
      stream.on('error', () => out.end());
    } catch {
      // A container that is already gone has no logs to follow; its exit is reported by its event.
    }
  }

  private exited(code: number): void {
    if (this.exitCode !== null) return;
    this.exitCode = code;
    this.signalCode = SIGNAL_EXITS[code] ?? null;
    this.unsubscribe?.();
    // The log stream ends by itself once the engine has sent the last lines; a stuck one is cut.
    const logs = this.logs as (NodeJS.ReadableStream & { destroy?: () => void }) | undefined;
    setTimeout(() => logs?.destroy?.(), 5_000).unref();
    this.emit('exit', code, this.signalCode);
  }
}

/** Removes the container named `name` if it exists and is the stack's; refuses one that is not. */
export async function removeOwned(docker: Docker, name: string, stack: string): Promise<void> {
  const existing = docker.getContainer(name);
  const info = await existing.inspect().catch(() => undefined);
  if (!info) return;
  assertOwned(info.Config.Labels, stack, `container ${name}`);
  await existing.remove({ force: true, v: true }).catch((err: { statusCode?: number }) => {
    if (err.statusCode !== 404) throw err;
  });
}
