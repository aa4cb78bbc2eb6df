import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { API_METHODS, EVENT_CHANNEL, IPC_CHANNELS, type SwarmdeskBridge, type SwarmdeskEvent } from '../contract';

/**
 * Expose exactly the contract: one invoke per method and one event listener, never ipcRenderer itself
 * (a renderer holding ipcRenderer could send on any channel).
 */
export function createBridge(): SwarmdeskBridge {
  const bridge: Record<string, unknown> = {};
  for (const method of API_METHODS) {
    // Only the first argument crosses: every contract method takes at most one plain object.
    bridge[method] = (argument?: unknown) => ipcRenderer.invoke(IPC_CHANNELS[method], argument);
  }
  bridge.onEvent = (listener: (event: SwarmdeskEvent) => void) => {
    // The IpcRendererEvent (which carries `sender`, i.e. ipcRenderer) is never handed to the page.
    const forward = (_event: IpcRendererEvent, payload: SwarmdeskEvent): void => listener(payload);
    ipcRenderer.on(EVENT_CHANNEL, forward);
    return () => {
      ipcRenderer.removeListener(EVENT_CHANNEL, forward);
    };
  };
  return bridge as SwarmdeskBridge;
}

contextBridge.exposeInMainWorld('swarmdesk', createBridge());
