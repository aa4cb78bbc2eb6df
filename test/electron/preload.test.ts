import { describe, expect, it } from 'vitest';
import { IPC_CHANNELS } from '../../electron/contract';
import { contextBridge, ipcRenderer } from './electron-stub';

describe('preload', () => {
  it('exposes exactly the contract under one name, and no raw ipcRenderer', async () => {
    await import('../../electron/preload/index');
    expect([...contextBridge.exposed.keys()]).toEqual(['swarmdesk']);
    const api = contextBridge.exposed.get('swarmdesk') as Record<string, unknown>;
    expect(Object.keys(api).sort()).toEqual(Object.keys(IPC_CHANNELS).sort());
    for (const value of Object.values(api)) expect(typeof value).toBe('function');
    expect(Object.values(api)).not.toContain(ipcRenderer);
    expect(Object.values(api)).not.toContain(ipcRenderer.invoke);
  });

  it('maps each method to its own channel', async () => {
    await import('../../electron/preload/index');
    const api = contextBridge.exposed.get('swarmdesk') as Record<string, () => Promise<unknown>>;
    for (const [method, channel] of Object.entries(IPC_CHANNELS)) {
      await api[method]();
      expect(ipcRenderer.invoked.at(-1)?.channel).toBe(channel);
    }
  });
});
