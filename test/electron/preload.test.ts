import { describe, expect, it } from 'vitest';
import { API_METHODS, EVENT_CHANNEL, EVENT_JSON_CHANNEL, IPC_CHANNELS, type SwarmdeskEvent } from '../../electron/contract';
import { contextBridge, ipcRenderer } from './electron-stub';

async function exposedBridge(): Promise<Record<string, unknown>> {
  await import('../../electron/preload/index');
  expect([...contextBridge.exposed.keys()]).toEqual(['swarmdesk']);
  return contextBridge.exposed.get('swarmdesk') as Record<string, unknown>;
}

describe('preload', () => {
  it('exposes exactly the contract under one name (every method plus onEvent), and no raw ipcRenderer', async () => {
    const bridge = await exposedBridge();
    expect(Object.keys(bridge).sort()).toEqual([...API_METHODS, 'onEvent'].sort());
    for (const value of Object.values(bridge)) expect(typeof value).toBe('function');
    expect(Object.values(bridge)).not.toContain(ipcRenderer);
    expect(Object.values(bridge)).not.toContain(ipcRenderer.invoke);
  });

  it('maps each method to its own channel and passes only its one argument', async () => {
    const bridge = (await exposedBridge()) as Record<string, (argument?: unknown, extra?: unknown) => Promise<unknown>>;
    for (const method of API_METHODS) {
      await bridge[method]({ probe: method }, 'smuggled');
      expect(ipcRenderer.invoked.at(-1)).toEqual({ channel: IPC_CHANNELS[method], args: [{ probe: method }] });
    }
  });

  it('delivers events without the IPC event object, and stops when unsubscribed', async () => {
    const bridge = (await exposedBridge()) as { onEvent(listener: (event: SwarmdeskEvent) => void): () => void };
    const seen: unknown[][] = [];
    const stop = bridge.onEvent((...args: unknown[]) => seen.push(args));
    const event: SwarmdeskEvent = { kind: 'resync', reason: 'test' };
    ipcRenderer.emit(EVENT_CHANNEL, { sender: ipcRenderer }, event);
    expect(seen).toEqual([[event]]);
    stop();
    ipcRenderer.emit(EVENT_CHANNEL, { sender: ipcRenderer }, event);
    expect(seen).toHaveLength(1);
  });

  it('parses events and answers the main process sends as JSON text (the cluster feed and snapshot)', async () => {
    const bridge = (await exposedBridge()) as { onEvent(listener: (event: SwarmdeskEvent) => void): () => void; subscribeCluster(): Promise<unknown> };
    const seen: unknown[] = [];
    const stop = bridge.onEvent((event) => seen.push(event));
    const event: SwarmdeskEvent = { kind: 'resync', reason: 'as text' };
    ipcRenderer.emit(EVENT_JSON_CHANNEL, { sender: ipcRenderer }, JSON.stringify(event));
    expect(seen).toEqual([event]);
    stop();
    ipcRenderer.emit(EVENT_JSON_CHANNEL, { sender: ipcRenderer }, JSON.stringify(event));
    expect(seen).toHaveLength(1);
    ipcRenderer.nextResult = { ok: true, valueJson: '{"clusterId":"c1","nodes":[]}' };
    await expect(bridge.subscribeCluster()).resolves.toEqual({ ok: true, value: { clusterId: 'c1', nodes: [] } });
    // Any other answer passes through as it came.
    ipcRenderer.nextResult = { ok: false, error: { code: 'Unavailable', message: 'x' } };
    await expect(bridge.subscribeCluster()).resolves.toEqual({ ok: false, error: { code: 'Unavailable', message: 'x' } });
  });
});
