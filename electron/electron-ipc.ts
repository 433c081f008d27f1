/**
 * The contract over Electron IPC: one `ipcMain.handle` per command, answered by the control plane,
 * and the control plane's events pushed to the window. Channel names come from the contract's
 * {@link IPC}; nobody types one by hand.
 */
import { ipcMain, type WebContents } from 'electron';
import { COMMANDS, EVENT_NAMES, IPC, type CommandName, type Envelope, type EventName, type Events } from './contract.js';
import type { ClientContext, ControlPlane } from './control/control-plane.js';

/**
 * Answers every contract command over IPC, for senders whose frame URL `isAppPage` accepts;
 * returns a function that removes the handlers. A handler never throws: the renderer always
 * gets an envelope, never Electron's "Error invoking remote method".
 */
export function serveIpc(controlPlane: ControlPlane, isAppPage: (url: string | undefined) => boolean): () => void {
  const clients = new WeakMap<WebContents, ClientContext>();
  const clientOf = (contents: WebContents): ClientContext => {
    let client = clients.get(contents);
    if (!client) {
      client = clientContext(contents);
      clients.set(contents, client);
    }
    return client;
  };
  const names = Object.keys(COMMANDS) as CommandName[];
  for (const name of names) {
    ipcMain.handle(IPC.command(name), async (event, payload: unknown): Promise<Envelope<unknown>> => {
      // Only the app's own pages may drive the stack, even if some other frame got a preload.
      const url = event.senderFrame?.url;
      if (!isAppPage(url))
        return {
          ok: false,
          error: {
            name: 'ForbiddenError',
            message: `${name} refused: only ScaleLab's own pages may call the control plane (caller: ${url ?? 'a closed frame'})`,
          },
        };
      try {
        return await controlPlane.handle(name, payload, clientOf(event.sender));
      } catch (err) {
        // handle() never throws; this is the belt to its braces.
        const error = err instanceof Error ? err : new Error(String(err));
        return { ok: false, error: { name: error.name, message: error.message } };
      }
    });
  }
  return () => {
    for (const name of names) ipcMain.removeHandler(IPC.command(name));
  };
}

/**
 * The control plane's view of one window: `log` lines it follows go to it alone, and its follows
 * end when it is destroyed (closed, or its renderer gone).
 */
function clientContext(contents: WebContents): ClientContext {
  const cleanups: (() => void)[] = [];
  contents.once('destroyed', () => {
    for (const cleanup of cleanups.splice(0)) cleanup();
  });
  return {
    send: <E extends EventName>(event: E, data: Events[E]) => {
      if (!contents.isDestroyed()) contents.send(IPC.event(event), data);
    },
    onClose: (cleanup) => {
      if (contents.isDestroyed()) cleanup();
      else cleanups.push(cleanup);
    },
  };
}

/**
 * Pushes every broadcast event (all but `log`, which only followers get) to `contents` until it is
 * destroyed.
 */
export function streamEvents(controlPlane: ControlPlane, contents: WebContents): void {
  const unsubscribes = EVENT_NAMES.filter((event) => event !== 'log').map((event) =>
    controlPlane.on(event, (data) => {
      if (!contents.isDestroyed()) contents.send(IPC.event(event), data);
    }),
  );
  contents.once('destroyed', () => {
    for (const unsubscribe of unsubscribes) unsubscribe();
  });
}
