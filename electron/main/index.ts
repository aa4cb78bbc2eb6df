/**
 * The desktop app's main process: one window, the main-process services (services.ts) behind the IPC
 * contract, settings in electron-store, secrets through safeStorage, a tray icon where the desktop has
 * one. Closing the window keeps the local manager running; Quit stops it cleanly, asking first when it
 * is the cluster's only manager. A second launch focuses the running instance.
 */
import { join } from 'node:path';
import { app, BrowserWindow, dialog, ipcMain, Menu, nativeImage, safeStorage, session, shell, Tray, type IpcMainInvokeEvent } from 'electron';
import { API_METHODS, EVENT_CHANNEL, EVENT_JSON_CHANNEL, IPC_CHANNELS, type IpcJsonResult, type IpcResult, type SwarmdeskEvent } from '../contract';
import type { ApiSession } from './api-session';
import { dataHome } from './data-home';
import { createVault } from './secrets';
import { MainServices } from './services';
import { openSettingsBackend } from './settings-file';
import { Settings } from './settings';
import { CONTENT_SECURITY_POLICY, secureWebPreferences } from './window-security';

let mainWindow: BrowserWindow | undefined;
let windowSession: ApiSession | undefined;
let services: MainServices | undefined;
let tray: Tray | undefined;
/** Set once the user confirmed (or needed no confirmation) and the node is stopping: let the quit through. */
let quitting = false;

/** Only our own window's top frame may call the API. */
function isTrustedSender(event: IpcMainInvokeEvent): boolean {
  return mainWindow !== undefined && event.sender === mainWindow.webContents && event.senderFrame === mainWindow.webContents.mainFrame;
}

function sendToWindow(event: SwarmdeskEvent): void {
  const win = mainWindow;
  if (win === undefined || win.isDestroyed()) return;
  win.webContents.send(EVENT_CHANNEL, event);
}

const utf8 = new TextDecoder();

/** A feed event the node's worker encoded: passed on as text, parsed by the preload, not here. */
function sendJsonToWindow(json: Uint8Array): void {
  const win = mainWindow;
  if (win === undefined || win.isDestroyed()) return;
  win.webContents.send(EVENT_JSON_CHANNEL, utf8.decode(json));
}

function registerIpc(): void {
  for (const method of API_METHODS) {
    ipcMain.handle(IPC_CHANNELS[method], async (event: IpcMainInvokeEvent, argument?: unknown): Promise<IpcResult<unknown> | IpcJsonResult> => {
      if (!isTrustedSender(event)) return { ok: false, error: { code: 'PermissionDenied', message: 'IPC from an unknown sender' } };
      if (windowSession === undefined) return { ok: false, error: { code: 'Unavailable', message: 'swarmdesk is still starting' } };
      const result = await windowSession.callEncoded(method, argument);
      return 'valueJson' in result ? { ok: true, valueJson: utf8.decode(result.valueJson) } : result;
    });
  }
}

function createWindow(current: MainServices): BrowserWindow {
  const bounds = current.settings.windowBounds();
  const win = new BrowserWindow({
    width: bounds?.width ?? 1200,
    height: bounds?.height ?? 800,
    ...(bounds?.x === undefined ? {} : { x: bounds.x, y: bounds.y }),
    minWidth: 720,
    minHeight: 480,
    show: false,
    title: 'swarmdesk',
    webPreferences: secureWebPreferences(join(__dirname, '../preload/index.cjs')),
  });
  windowSession = current.openSession(sendToWindow, sendJsonToWindow);
  win.once('ready-to-show', () => {
    if (bounds?.maximized === true) win.maximize();
    win.show();
  });
  // No navigation away from the app and no new windows; https links open in the user's browser.
  win.webContents.on('will-navigate', (event: { preventDefault(): void }) => event.preventDefault());
  win.webContents.setWindowOpenHandler(({ url }) => {
    if (url.startsWith('https://')) void shell.openExternal(url);
    return { action: 'deny' };
  });
  win.on('close', (event: { preventDefault(): void }) => {
    const { x, y, width, height } = win.getNormalBounds();
    current.settings.setWindowBounds({ x, y, width, height, maximized: win.isMaximized() });
    // With a tray icon the window only hides: the manager keeps running either way.
    if (!quitting && tray !== undefined) {
      event.preventDefault();
      win.hide();
    }
  });
  win.on('closed', () => {
    windowSession?.close();
    windowSession = undefined;
    if (mainWindow === win) mainWindow = undefined;
  });
  if (process.env.ELECTRON_RENDERER_URL) void win.loadURL(process.env.ELECTRON_RENDERER_URL);
  else void win.loadFile(join(__dirname, '../renderer/index.html'));
  return win;
}

function showWindow(): void {
  if (services === undefined) return;
  if (mainWindow === undefined || mainWindow.isDestroyed()) mainWindow = createWindow(services);
  if (mainWindow.isMinimized()) mainWindow.restore();
  mainWindow.show();
  mainWindow.focus();
}

function createTray(): void {
  try {
    tray = new Tray(nativeImage.createFromPath(join(__dirname, '../../resources/icon.png')));
    tray.setToolTip('swarmdesk: the local manager is running');
    tray.setContextMenu(
      Menu.buildFromTemplate([
        { label: 'Show swarmdesk', click: () => showWindow() },
        { type: 'separator' },
        { label: 'Quit', click: () => app.quit() },
      ]),
    );
    tray.on('click', () => showWindow());
  } catch {
    // No tray on this desktop: closing the window still keeps the manager; a second launch shows it again.
    tray = undefined;
  }
}

/** Asks before stopping the cluster's only manager; true to go ahead. */
async function confirmQuit(current: MainServices): Promise<boolean> {
  if (!(await current.host.isOnlyManager())) return true;
  const options = {
    type: 'warning' as const,
    buttons: ['Quit', 'Cancel'],
    defaultId: 1,
    cancelId: 1,
    title: 'Quit swarmdesk?',
    message: 'This machine runs the cluster\'s only manager.',
    detail: 'While it is stopped nobody can change the cluster: no new services, no scaling, no rescheduling of failed tasks. Running containers keep running. It starts again with swarmdesk.',
  };
  const answer = mainWindow !== undefined && !mainWindow.isDestroyed() ? await dialog.showMessageBox(mainWindow, options) : await dialog.showMessageBox(options);
  return answer.response === 0;
}

function lockDownWebContents(): void {
  session.defaultSession.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  session.defaultSession.setPermissionCheckHandler(() => false);
  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] } });
  });
  app.on('web-contents-created', (_event: unknown, contents: Electron.WebContents) => {
    contents.on('will-attach-webview', (event: { preventDefault(): void }) => event.preventDefault());
    contents.on('will-navigate', (event: { preventDefault(): void }) => event.preventDefault());
    contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  });
}

async function startApp(): Promise<void> {
  const home = dataHome(app.getPath('userData'));
  const backend = await openSettingsBackend(home);
  services = new MainServices({ home, mode: 'electron', settings: new Settings(backend), vault: createVault(safeStorage, backend), appName: app.getName(), appVersion: app.getVersion() });
  lockDownWebContents();
  registerIpc();
  mainWindow = createWindow(services);
  createTray();
  void services.start();
}

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.on('second-instance', () => showWindow());
  app.on('activate', () => showWindow());
  void app.whenReady().then(startApp);
  // The manager outlives its window: quitting is explicit (tray menu, app menu, Cmd-Q).
  app.on('window-all-closed', () => undefined);
  app.on('before-quit', (event: { preventDefault(): void }) => {
    const current = services;
    if (quitting || current === undefined) return;
    event.preventDefault();
    void confirmQuit(current).then(async (go) => {
      if (!go) return;
      quitting = true;
      try {
        await current.close();
      } finally {
        tray?.destroy();
        app.quit();
      }
    });
  });
}
