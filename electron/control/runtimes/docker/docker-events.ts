import type Docker from 'dockerode';
import { stackFilter } from './labels.js';

/** One container event as the engine reports it (`die`, `start`, `pause`, `oom`, …). */
export interface ContainerEvent {
  action: string;
  containerId: string;
  /** The container's labels and, for `die`, `exitCode`. */
  attributes: Record<string, string>;
  /** ms since epoch. */
  time: number;
}

/** Options of {@link DockerEvents}. */
export interface DockerEventsOptions {
  docker: Docker;
  stack: string;
  /** Called after the stream had to be reopened, so state missed meanwhile is re-read. */
  onReconnect?: () => void;
  /** Wait before reopening a broken stream. @defaultValue 1000 */
  retryMs?: number;
}

/**
 * The engine's event stream, filtered to the stack's containers, fanned out to listeners by
 * container id. One stream per stack (not one `wait` per container); reopened when it breaks,
 * e.g. when the engine restarts.
 */
export class DockerEvents {
  private stream: NodeJS.ReadableStream | undefined;
  private readonly listeners = new Map<string, Set<(event: ContainerEvent) => void>>();
  private readonly any = new Set<(event: ContainerEvent) => void>();
  private closed = false;
  private retry: NodeJS.Timeout | undefined;
  private opened: Promise<void> | undefined;

  constructor(private readonly options: DockerEventsOptions) {}

  /** Opens the stream; resolves once the engine has accepted it. */
  open(): Promise<void> {
    this.opened ??= this.connect(false);
    return this.opened;
  }

  /** Listens to one container's events; returns unsubscribe. */
  onContainer(id: string, listener: (event: ContainerEvent) => void): () => void {
    const set = this.listeners.get(id) ?? new Set();
    set.add(listener);
    this.listeners.set(id, set);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(id);
    };
  }

  /** Listens to every event of the stack; returns unsubscribe. */
  onAny(listener: (event: ContainerEvent) => void): () => void {
    this.any.add(listener);
    return () => this.any.delete(listener);
  }

  /** Closes the stream. Safe to call twice. */
  close(): void {
    this.closed = true;
    clearTimeout(this.retry);
    const stream = this.stream as (NodeJS.ReadableStream & { destroy?: () => void }) | undefined;
    stream?.destroy?.();
    this.stream = undefined;
    this.listeners.clear();
    this.any.clear();
  }

  private async connect(reconnecting: boolean): Promise<void> {
    const stream = await this.options.docker.getEvents({
      filters: JSON.parse(stackFilter(this.options.stack)) as Record<string, string[]>,
    });
    if (this.closed) {
      (stream as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
      return;
    }
    this.stream = stream;
    let buffer = '';
    stream.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      let newline = buffer.indexOf('\n');
      while (newline >= 0) {
        const line = buffer.slice(0, newline).trim();
        buffer = buffer.slice(newline + 1);
        if (line) this.dispatch(line);
        newline = buffer.indexOf('\n');
      }
    });
    const reopen = () => {
      if (this.closed || this.stream !== stream) return;
      this.stream = undefined;
      this.retry = setTimeout(() => {
        this.connect(true).catch(() => reopen());
      }, this.options.retryMs ?? 1_000);
      this.retry.unref();
    };
    stream.on('end', reopen);
    stream.on('error', reopen);
    stream.on('close', reopen);
    if (reconnecting) this.options.onReconnect?.();
  }

  private dispatch(line: string): void {
    let raw: {
      Type?: string;
      Action?: string;
      Actor?: { ID?: string; Attributes?: Record<string, string> };
      timeNano?: number;
      time?: number;
    };
    try {
      raw = JSON.parse(line) as typeof raw;
    } catch {
      return;
    }
    if (raw.Type !== 'container' || !raw.Action || !raw.Actor?.ID) return;
    // exec_create: …, health_status: healthy → the verb before the colon.
    const event: ContainerEvent = {
      action: raw.Action.split(':')[0]!.trim(),
      containerId: raw.Actor.ID,
      attributes: raw.Actor.Attributes ?? {},
      time: raw.timeNano ? Math.round(raw.timeNano / 1e6) : (raw.time ?? 0) * 1000,
    };
    for (const listener of [...(this.listeners.get(event.containerId) ?? [])]) listener(event);
    for (const listener of [...this.any]) listener(event);
  }
}
