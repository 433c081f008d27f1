import type { CommandName, Envelope, EventName, Events, ScaleLabBridge, ServerMessage } from '../../electron/contract.js';

/** Connection state of the WebSocket transport, for the UI's banner. */
export type ConnectionState = 'connecting' | 'open' | 'closed';

type Listener = (data: unknown) => void;

const connectionListeners = new Set<(state: ConnectionState) => void>();
let connectionState: ConnectionState = 'connecting';

/** Follows the transport's connection state (always 'open' under Electron IPC). */
export function onConnection(listener: (state: ConnectionState) => void): () => void {
  connectionListeners.add(listener);
  listener(connectionState);
  return () => connectionListeners.delete(listener);
}

function setConnection(state: ConnectionState): void {
  connectionState = state;
  for (const listener of connectionListeners) listener(state);
}

/**
 * The contract over the headless server's WebSocket. The page was opened with the token, which
 * left an HttpOnly cookie, so the upgrade is authenticated without the page ever seeing it.
 * Reconnects with backoff; calls made while disconnected fail with a clear error.
 */
export function createWebSocketBridge(url: string): ScaleLabBridge {
  const listeners = new Map<EventName, Set<Listener>>();
  const pending = new Map<number, (result: Envelope<unknown>) => void>();
  let socket: WebSocket | undefined;
  let next = 1;
  let attempt = 0;
  let opened: Promise<void>;
  let resolveOpened: () => void = () => undefined;

  const connect = () => {
    opened = new Promise((resolve) => (resolveOpened = resolve));
    setConnection('connecting');
    const ws = new WebSocket(url);
    socket = ws;
    ws.onopen = () => {
      attempt = 0;
      setConnection('open');
      resolveOpened();
    };
    ws.onmessage = (message) => {
      const data = JSON.parse(String(message.data)) as ServerMessage;
      if ('id' in data) {
        pending.get(data.id)?.(data.result);
        pending.delete(data.id);
      } else {
        for (const listener of listeners.get(data.event) ?? []) listener(data.data);
      }
    };
    ws.onclose = () => {
      setConnection('closed');
      for (const settle of pending.values())
        settle({ ok: false, error: { name: 'DisconnectedError', message: 'lost the connection to the control plane; retrying' } });
      pending.clear();
      attempt += 1;
      // Loopback only, so retrying is cheap: within 2 s of a new control plane the tab is back.
      setTimeout(connect, Math.min(2_000, 250 * 2 ** attempt));
    };
  };
  connect();

  return {
    async invoke(command: CommandName, payload: unknown) {
      await Promise.race([opened, new Promise((resolve) => setTimeout(resolve, 5_000))]);
      if (!socket || socket.readyState !== WebSocket.OPEN)
        return {
          ok: false,
          error: { name: 'DisconnectedError', message: 'the control plane is not reachable; is `scalelab serve` running?' },
        };
      const id = next++;
      return new Promise((resolve) => {
        pending.set(id, resolve as (r: Envelope<unknown>) => void);
        socket!.send(JSON.stringify({ id, command, payload }));
      });
    },
    on<E extends EventName>(event: E, listener: (data: Events[E]) => void) {
      const set = listeners.get(event) ?? new Set<Listener>();
      set.add(listener as Listener);
      listeners.set(event, set);
      return () => set.delete(listener as Listener);
    },
  } as ScaleLabBridge;
}
