import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { EVENT_CHANNEL, EVENT_JSON_CHANNEL, IPC_CHANNELS, type SwarmdeskEvent } from '../../electron/contract';
import { freePort, until } from '../cluster/harness';
import { app, BrowserWindow, dialog, ipcMain, session, shell, Tray, WebContents } from './electron-stub';

let win: BrowserWindow;

beforeAll(async () => {
  await import('../../electron/main/index');
  // Start-up is asynchronous (app.whenReady, opening the settings file): wait for the window.
  for (let i = 0; i < 200 && BrowserWindow.created.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(BrowserWindow.created).toHaveLength(1);
  win = BrowserWindow.created[0];
});

describe('main window security', () => {
  it('isolates and sandboxes the renderer, without Node integration', () => {
    const prefs = win.options.webPreferences as Record<string, unknown>;
    expect(prefs).toMatchObject({
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
    });
    expect(String(prefs.preload)).toMatch(/preload[\\/]index\.cjs$/);
  });

  it('blocks navigation and new windows', () => {
    let prevented = false;
    win.webContents.emit('will-navigate', { preventDefault: () => (prevented = true) }, 'https://evil.example');
    expect(prevented).toBe(true);
    expect(win.webContents.windowOpenHandler?.({ url: 'https://docs.docker.com' })).toEqual({ action: 'deny' });
    expect(win.webContents.windowOpenHandler?.({ url: 'file:///etc/passwd' })).toEqual({ action: 'deny' });
    expect(shell.opened).toEqual(['https://docs.docker.com']);
  });

  it('denies every permission request', () => {
    let granted: boolean | undefined;
    session.defaultSession.permissionHandler?.(win.webContents, 'media', (answer: boolean) => (granted = answer));
    expect(granted).toBe(false);
  });

  it('serves a strict Content-Security-Policy', () => {
    let headers: Record<string, string[]> = {};
    session.defaultSession.headersHandler?.({ responseHeaders: {} }, (result: { responseHeaders: Record<string, string[]> }) => {
      headers = result.responseHeaders;
    });
    const csp = headers['Content-Security-Policy']?.[0] ?? '';
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-eval');
    expect(csp).toContain("object-src 'none'");
  });

  it('registers a handler for every contract method', () => {
    expect([...ipcMain.handlers.keys()].sort()).toEqual(Object.values(IPC_CHANNELS).sort());
  });

  it('answers our window and refuses a foreign sender', async () => {
    const handler = ipcMain.handlers.get(IPC_CHANNELS.getAppInfo);
    const own = { sender: win.webContents, senderFrame: win.webContents.mainFrame };
    await expect(handler?.(own)).resolves.toMatchObject({ ok: true, value: { name: 'swarmdesk' } });
    const foreign = { sender: {}, senderFrame: {} };
    await expect(handler?.(foreign)).resolves.toMatchObject({ ok: false, error: { code: 'PermissionDenied' } });
  });
});

describe('main window lifecycle', () => {
  const own = () => ({ sender: win.webContents, senderFrame: win.webContents.mainFrame });
  const call = (method: keyof typeof IPC_CHANNELS, argument?: unknown) => ipcMain.handlers.get(IPC_CHANNELS[method])?.(own(), argument) as Promise<{ ok: boolean; value?: unknown; error?: { code: string; field?: string } }>;

  it('validates arguments over IPC too', async () => {
    await expect(call('createCluster', { advertiseAddress: '127.0.0.1', port: 'x', runTasks: false })).resolves.toMatchObject({ ok: false, error: { code: 'InvalidArgument', field: 'port' } });
    await expect(call('getLocalNode')).resolves.toMatchObject({ ok: true, value: { phase: 'unconfigured' } });
  });

  it('denies permission checks, and blocks webviews, navigation and new windows in any web contents', () => {
    expect(session.defaultSession.permissionCheckHandler?.(win.webContents, 'clipboard-read')).toBe(false);
    const other = new WebContents();
    app.emit('web-contents-created', {}, other);
    let blocked = 0;
    other.emit('will-attach-webview', { preventDefault: () => blocked++ });
    other.emit('will-navigate', { preventDefault: () => blocked++ });
    expect(blocked).toBe(2);
    expect(other.windowOpenHandler?.({ url: 'https://example.com' })).toEqual({ action: 'deny' });
  });

  it('closing the window hides it (the manager keeps running) and remembers its bounds; a second launch shows it', () => {
    expect(Tray.created).toHaveLength(1);
    let prevented = false;
    win.emit('close', { preventDefault: () => (prevented = true) });
    expect(prevented).toBe(true);
    expect(win.hidden).toBe(true);
    const settingsFile = join(process.env.SWARMDESK_HOME ?? app.userData, 'settings.json');
    expect(JSON.parse(readFileSync(settingsFile, 'utf8'))).toMatchObject({ windowBounds: { x: 10, y: 20, width: 1200, height: 800, maximized: false } });
    app.emit('second-instance');
    expect(win.hidden).toBe(false);
    expect(BrowserWindow.created).toHaveLength(1);
  });

  it('runs a real local manager; events reach the window; Quit warns when it is the only manager and stops it cleanly', async () => {
    const port = await freePort();
    const created = await call('createCluster', { advertiseAddress: '127.0.0.1', port, runTasks: false });
    expect(created).toMatchObject({ ok: true, value: { phase: 'running', role: 'manager' } });
    const sent = win.webContents.sent.filter((m) => m.channel === EVENT_CHANNEL).map((m) => m.payload as SwarmdeskEvent);
    expect(sent.some((e) => e.kind === 'local-node' && e.state.phase === 'running')).toBe(true);
    // The cluster snapshot and the feed's events cross as JSON text, for the preload to parse.
    const subscribed = (await call('subscribeCluster')) as unknown as { ok: boolean; valueJson?: string };
    expect(subscribed.ok).toBe(true);
    expect(JSON.parse(subscribed.valueJson ?? 'null')).toMatchObject({ revision: expect.any(Number), nodes: [expect.objectContaining({ role: 'manager' })], tasks: [] });
    // A label on the node is a change the feed must carry.
    const ownNodeId = (JSON.parse(subscribed.valueJson ?? '{}') as { nodes: { id: string }[] }).nodes[0]?.id ?? '';
    await expect(call('setNodeLabels', { nodeId: ownNodeId, labels: { probe: 'json' } })).resolves.toMatchObject({ ok: true });
    const labelled = () =>
      win.webContents.sent.some((m) => m.channel === EVENT_JSON_CHANNEL && typeof m.payload === 'string' && m.payload.includes('"probe":"json"'));
    await until('the label in a feed event', labelled, 10_000, 20);
    const feedEvent = win.webContents.sent.find((m) => m.channel === EVENT_JSON_CHANNEL && String(m.payload).includes('"probe"'))?.payload;
    expect((JSON.parse(String(feedEvent)) as SwarmdeskEvent).kind).toBe('changes');
    await call('unsubscribeCluster');

    // Cancel: nothing stops.
    dialog.nextResponse = 1;
    let prevented = false;
    app.emit('before-quit', { preventDefault: () => (prevented = true) });
    expect(prevented).toBe(true);
    await until('the warning', () => dialog.shown.length === 1, 10_000, 10);
    expect(String(dialog.shown[0]?.message)).toMatch(/only manager/);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(app.quitCalled).toBe(false);
    await expect(call('getLocalNode')).resolves.toMatchObject({ value: { phase: 'running' } });

    // Quit: the node stops cleanly, then the app quits.
    dialog.nextResponse = 0;
    app.emit('before-quit', { preventDefault: () => undefined });
    await until('the app to quit', () => app.quitCalled, 60_000, 20);
    expect(dialog.shown).toHaveLength(2);
    const phases = win.webContents.sent.map((m) => m.payload as SwarmdeskEvent).filter((e) => e.kind === 'local-node').map((e) => (e as { state: { phase: string } }).state.phase);
    expect(phases.slice(-2)).toEqual(['stopping', 'stopped']);
    expect(Tray.created[0]?.destroyed).toBe(true);
  }, 120_000);
});
