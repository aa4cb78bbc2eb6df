import { contextBridge, ipcRenderer } from 'electron';
import { IPC_CHANNELS, type SwarmdeskApi } from '../contract';

// Expose exactly the contract: one invoke per key, never ipcRenderer itself.
const api: SwarmdeskApi = {
  getAppInfo: () => ipcRenderer.invoke(IPC_CHANNELS.getAppInfo),
};

contextBridge.exposeInMainWorld('swarmdesk', api);
