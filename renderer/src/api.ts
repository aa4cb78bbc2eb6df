/**
 * The renderer's only way to reach the main process. In the desktop app the preload's bridge is
 * `window.swarmdesk`; in browser mode (`npm run web`) the same messages travel over a WebSocket to the
 * headless main-process services. Either way callers get a `SwarmdeskApi` whose failures are thrown as
 * `SwarmdeskError` (with the contract's code, message and field).
 */
import {
  API_METHODS,
  type ApiMethod,
  type BridgeRequest,
  type BridgeResponse,
  type ContractError,
  type IpcResult,
  type SwarmdeskApi,
  type SwarmdeskBridge,
  type SwarmdeskEvent,
} from '../../electron/contract';

declare global {
  interface Window {
    swarmdesk?: SwarmdeskBridge;
  }
}

export class SwarmdeskError extends Error {
  override readonly name = 'SwarmdeskError';
  readonly code: ContractError['code'];
  readonly field: string | undefined;

  constructor(error: ContractError) {
    super(error.message);
    this.code = error.code;
    this.field = error.field;
  }
}

type EventListener = (event: SwarmdeskEvent) => void;

const CONNECTION_LOST = { ok: false, error: { code: 'Unavailable', message: 'the connection to swarmdesk was closed; reload the page' } } as const satisfies IpcResult<unknown>;
const disconnectListeners = new Set<(reason: string) => void>();

/** Browser mode: called when the WebSocket to swarmdesk closes (the desktop app's IPC never does). */
export function onDisconnect(listener: (reason: string) => void): () => void {
  disconnectListeners.add(listener);
  return () => disconnectListeners.delete(listener);
}

/** Answers every call with the same error: the page cannot reach swarmdesk at all. */
function failingBridge(error: ContractError): SwarmdeskBridge {
  const bridge: Record<string, unknown> = { onEvent: () => () => undefined };
  for (const method of API_METHODS) bridge[method] = async () => ({ ok: false, error }) satisfies IpcResult<unknown>;
  return bridge as SwarmdeskBridge;
}

/** Browser mode: the bridge over a WebSocket to the page's own origin, authenticated by the start token. */
function webSocketBridge(token: string): SwarmdeskBridge {
  const listeners = new Set<EventListener>();
  const pending = new Map<number, (result: IpcResult<unknown>) => void>();
  let nextId = 1;
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api`;
  const socket = new WebSocket(url);
  const ready = new Promise<void>((resolve, reject) => {
    socket.addEventListener('open', () => socket.send(JSON.stringify({ type: 'hello', token } satisfies BridgeRequest)));
    socket.addEventListener('message', (message: MessageEvent<string>) => {
      const response = JSON.parse(message.data) as BridgeResponse;
      if (response.type === 'ready') resolve();
      else if (response.type === 'event') for (const listener of listeners) listener(response.event);
      else {
        pending.get(response.id)?.(response.result);
        pending.delete(response.id);
      }
    });
    socket.addEventListener('close', () => {
      for (const settle of pending.values()) settle(CONNECTION_LOST);
      pending.clear();
      reject(new SwarmdeskError(CONNECTION_LOST.error));
      for (const listener of disconnectListeners) listener(CONNECTION_LOST.error.message);
    });
  });
  // A failed start is reported to each caller; nobody else waits on it.
  ready.catch(() => undefined);
  let isReady = false;
  void ready.then(() => (isReady = true));
  const send = (method: ApiMethod, argument?: unknown): Promise<IpcResult<unknown>> => {
    if (socket.readyState !== WebSocket.OPEN) return Promise.resolve(CONNECTION_LOST);
    const id = nextId++;
    return new Promise((resolve) => {
      pending.set(id, resolve);
      socket.send(JSON.stringify({ type: 'call', id, method, argument } satisfies BridgeRequest));
    });
  };
  // Once connected a call goes out at once, not a microtask later: a render React has queued meanwhile
  // (one that shows the local node, say) would otherwise run first and hold back the subscription.
  const call = (method: ApiMethod, argument?: unknown): Promise<IpcResult<unknown>> => (isReady ? send(method, argument) : ready.then(() => send(method, argument)));
  const bridge: Record<string, unknown> = {
    onEvent(listener: EventListener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
  for (const method of API_METHODS) bridge[method] = (argument?: unknown) => call(method, argument);
  return bridge as SwarmdeskBridge;
}

/** The token browser mode prints at start; it arrives in the URL fragment, which is never sent to a server. */
function tokenFromLocation(): string | undefined {
  const token = new URLSearchParams(location.hash.slice(1)).get('token');
  return token === null || token === '' ? undefined : token;
}

function connect(): SwarmdeskBridge {
  if (window.swarmdesk) return window.swarmdesk;
  const token = tokenFromLocation();
  if (token === undefined) return failingBridge({ code: 'PermissionDenied', message: 'open the address swarmdesk printed at start (it carries the access token)' });
  return webSocketBridge(token);
}

function unwrapping(bridge: SwarmdeskBridge): SwarmdeskApi {
  const api: Record<string, unknown> = {};
  for (const method of API_METHODS) {
    const invoke = bridge[method] as (argument?: unknown) => Promise<IpcResult<unknown>>;
    api[method] = async (argument?: unknown) => {
      const result = await invoke(argument);
      if (!result.ok) throw new SwarmdeskError(result.error);
      return result.value;
    };
  }
  return api as unknown as SwarmdeskApi;
}

const bridge = connect();

/** Call the main process; failures throw SwarmdeskError. */
export const swarmdesk: SwarmdeskApi = unwrapping(bridge);

/** Listen to main-process events (store changes, logs, the local node's state); returns the unsubscribe. */
export function onSwarmdeskEvent(listener: EventListener): () => void {
  return bridge.onEvent(listener);
}
