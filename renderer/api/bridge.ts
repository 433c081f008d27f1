import type { CommandName, CommandPayload, CommandResult, Envelope, EventName, Events, ScaleLabBridge } from '../../electron/contract.js';
import { createWebSocketBridge } from './ws-bridge.js';

declare global {
  interface Window {
    /** Set by Electron's preload; absent in a browser tab. */
    scalelab?: ScaleLabBridge;
  }
}

/** A command failed; `name` is the control plane's error class (e.g. RedisNotFoundError). */
export class CommandError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

let bridge: ScaleLabBridge | undefined;

/** The one bridge: Electron IPC through the preload when present, else the headless WebSocket. */
export function getBridge(): ScaleLabBridge {
  bridge ??= window.scalelab ?? createWebSocketBridge(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`);
  return bridge;
}

/** Runs a command and unwraps its envelope, throwing {@link CommandError} on failure. */
export async function call<C extends CommandName>(command: C, payload: CommandPayload<C>): Promise<CommandResult<C>> {
  const result: Envelope<CommandResult<C>> = await getBridge().invoke(command, payload);
  if (!result.ok) throw new CommandError(result.error.name, result.error.message);
  return result.value;
}

/** Subscribes to a streamed event. */
export function subscribe<E extends EventName>(event: E, listener: (data: Events[E]) => void): () => void {
  return getBridge().on(event, listener);
}
