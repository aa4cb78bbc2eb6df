import { beforeAll, describe, expect, it } from 'vitest';
import { IPC_CHANNELS } from '../../electron/contract';
import { BrowserWindow, ipcMain, session, shell } from './electron-stub';

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
