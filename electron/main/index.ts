import { join } from 'node:path';
import { app, BrowserWindow, ipcMain, session, shell, type IpcMainInvokeEvent } from 'electron';
import { API_METHODS, IPC_CHANNELS, type IpcResult } from '../contract';
import { SWARMDESK_VERSION } from '../../agent/version';
import { CONTENT_SECURITY_POLICY, secureWebPreferences } from './window-security';

let mainWindow: BrowserWindow | undefined;

/** Only our own window's top frame may call the API. */
function isTrustedSender(event: IpcMainInvokeEvent): boolean {
  return mainWindow !== undefined && event.sender === mainWindow.webContents && event.senderFrame === mainWindow.webContents.mainFrame;
}

// Interim: the desktop-app issue replaces this with the real main-process services.
async function answer(method: string): Promise<IpcResult<unknown>> {
  if (method === 'getAppInfo') {
    return { ok: true, value: { name: app.getName(), version: app.getVersion(), platform: process.platform, mode: 'electron', agent: { version: SWARMDESK_VERSION, runtime: process.version } } };
  }
  return { ok: false, error: { code: 'Unavailable', message: `${method} is not available yet` } };
}

function registerIpc(): void {
  for (const method of API_METHODS) {
    ipcMain.handle(IPC_CHANNELS[method], async (event): Promise<IpcResult<unknown>> => {
      if (!isTrustedSender(event)) return { ok: false, error: { code: 'PermissionDenied', message: 'IPC from an unknown sender' } };
      return answer(method);
    });
  }
}

function createWindow(): BrowserWindow {
  const win = new BrowserWindow({
    width: 1200,
    height: 800,
    show: false,
    title: 'swarmdesk',
    webPreferences: secureWebPreferences(join(__dirname, '../preload/index.cjs')),
  });
  win.once('ready-to-show', () => win.show());
  // No navigation away from the app and no new windows; links open in the user's browser.
  win.webContents.on('will-navigate', (event) => event.preventDefault());
  win.webContents.setWindowOpenHandler(({ url }) => {
    if (url.startsWith('https://')) void shell.openExternal(url);
    return { action: 'deny' };
  });
  if (process.env.ELECTRON_RENDERER_URL) void win.loadURL(process.env.ELECTRON_RENDERER_URL);
  else void win.loadFile(join(__dirname, '../renderer/index.html'));
  return win;
}

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.on('second-instance', () => {
    if (mainWindow) {
      if (mainWindow.isMinimized()) mainWindow.restore();
      mainWindow.focus();
    }
  });
  void app.whenReady().then(() => {
    session.defaultSession.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
    session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
      callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] } });
    });
    registerIpc();
    mainWindow = createWindow();
  });
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
}
