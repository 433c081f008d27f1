/**
 * The renderer's only door to the main process: `window.scalelab`, a {@link ScaleLabBridge} whose
 * allow-list is the contract itself (the keys of COMMANDS, EVENT_NAMES), so it cannot drift.
 *
 * A sandboxed preload may require only 'electron' and a few built-ins, not local modules, so this
 * file and what it takes from the contract are bundled into one CommonJS file,
 * dist/electron/preload.cjs, by scripts/bundle-preload.mjs; main.ts loads that bundle.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import {
  EVENT_NAMES,
  IPC,
  isCommandName,
  type CommandName,
  type CommandPayload,
  type CommandResult,
  type Envelope,
  type EventName,
  type Events,
  type ScaleLabBridge,
} from './contract.js';

const eventNames: ReadonlySet<string> = new Set(EVENT_NAMES);

function isEventName(name: unknown): name is EventName {
  return typeof name === 'string' && eventNames.has(name);
}

const bridge: ScaleLabBridge = {
  async invoke<C extends CommandName>(command: C, payload: CommandPayload<C>): Promise<Envelope<CommandResult<C>>> {
    if (typeof command !== 'string' || !isCommandName(command)) {
      return {
        ok: false,
        error: {
          name: 'ContractError',
          message: `unknown command "${String(command).slice(0, 64)}"; the contract's commands are the only ones allowed`,
        },
      };
    }
    try {
      return (await ipcRenderer.invoke(IPC.command(command), payload)) as Envelope<CommandResult<C>>;
    } catch (err) {
      // No handler (the main process is not hosting) or a payload IPC cannot clone: still an envelope.
      return { ok: false, error: { name: 'IpcError', message: err instanceof Error ? err.message : String(err) } };
    }
  },
  on<E extends EventName>(event: E, listener: (data: Events[E]) => void): () => void {
    if (!isEventName(event)) throw new Error(`unknown event "${String(event).slice(0, 64)}"; known: ${EVENT_NAMES.join(', ')}`);
    if (typeof listener !== 'function') throw new TypeError('listener must be a function');
    const channel = IPC.event(event);
    // The page gets the data only: the IpcRendererEvent would hand it `sender`, i.e. ipcRenderer.
    const wrapped = (_event: IpcRendererEvent, data: Events[E]) => listener(data);
    ipcRenderer.on(channel, wrapped);
    return () => {
      ipcRenderer.removeListener(channel, wrapped);
    };
  },
};

contextBridge.exposeInMainWorld('scalelab', bridge);
