import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { API_METHODS, EVENT_CHANNEL, EVENT_JSON_CHANNEL, IPC_CHANNELS, isIpcJsonResult, type SwarmdeskBridge, type SwarmdeskEvent } from '../contract';

/**
 * Expose exactly the contract: one invoke per method and one event listener, never ipcRenderer itself
 * (a renderer holding ipcRenderer could send on any channel).
 */
export function createBridge(): SwarmdeskBridge {
  const bridge: Record<string, unknown> = {};
  for (const method of API_METHODS) {
    // Only the first argument crosses: every contract method takes at most one plain object.
    bridge[method] = async (argument?: unknown) => {
      const result: unknown = await ipcRenderer.invoke(IPC_CHANNELS[method], argument);
      // A large answer (the cluster snapshot) comes as JSON text, parsed here rather than in the main process.
      return isIpcJsonResult(result) ? { ok: true, value: JSON.parse(result.valueJson) as unknown } : result;
    };
  }
  bridge.onEvent = (listener: (event: SwarmdeskEvent) => void) => {
    // The IpcRendererEvent (which carries `sender`, i.e. ipcRenderer) is never handed to the page.
    const forward = (_event: IpcRendererEvent, payload: SwarmdeskEvent): void => listener(payload);
    const forwardJson = (_event: IpcRendererEvent, text: string): void => listener(JSON.parse(text) as SwarmdeskEvent);
    ipcRenderer.on(EVENT_CHANNEL, forward);
    ipcRenderer.on(EVENT_JSON_CHANNEL, forwardJson);
    return () => {
      ipcRenderer.removeListener(EVENT_CHANNEL, forward);
      ipcRenderer.removeListener(EVENT_JSON_CHANNEL, forwardJson);
    };
  };
  return bridge as SwarmdeskBridge;
}

contextBridge.exposeInMainWorld('swarmdesk', createBridge());
