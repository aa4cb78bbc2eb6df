/**
 * A stand-in for the `electron` module so the main process and preload run under Node in tests (the
 * Electron binary cannot be downloaded on CI machines). It records what the code asked Electron to do.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

type Listener = (...args: unknown[]) => unknown;

class Emitter {
  readonly listeners = new Map<string, Listener[]>();
  on(event: string, listener: Listener): this {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), listener]);
    return this;
  }
  once(event: string, listener: Listener): this {
    return this.on(event, listener);
  }
  emit(event: string, ...args: unknown[]): unknown[] {
    return (this.listeners.get(event) ?? []).map((listener) => listener(...args));
  }
}

export class WebContents extends Emitter {
  readonly mainFrame = { url: 'app://main' };
  readonly sent: { channel: string; payload: unknown }[] = [];
  send(channel: string, payload: unknown): void {
    this.sent.push({ channel, payload });
  }
  windowOpenHandler: ((details: { url: string }) => { action: string }) | undefined;
  setWindowOpenHandler(handler: (details: { url: string }) => { action: string }): void {
    this.windowOpenHandler = handler;
  }
}

export class BrowserWindow extends Emitter {
  static created: BrowserWindow[] = [];
  readonly webContents = new WebContents();
  loaded: string | undefined;
  constructor(readonly options: Record<string, unknown>) {
    super();
    BrowserWindow.created.push(this);
  }
  loadURL(url: string): Promise<void> {
    this.loaded = url;
    return Promise.resolve();
  }
  loadFile(file: string): Promise<void> {
    this.loaded = file;
    return Promise.resolve();
  }
  hidden = false;
  destroyed = false;
  show(): void {
    this.hidden = false;
  }
  hide(): void {
    this.hidden = true;
  }
  focus(): void {}
  restore(): void {}
  maximize(): void {}
  isMinimized(): boolean {
    return false;
  }
  isMaximized(): boolean {
    return false;
  }
  isDestroyed(): boolean {
    return this.destroyed;
  }
  getNormalBounds(): { x: number; y: number; width: number; height: number } {
    return { x: 10, y: 20, width: Number(this.options.width ?? 1200), height: Number(this.options.height ?? 800) };
  }
}

class App extends Emitter {
  quitCalled = false;
  readonly userData = mkdtempSync(join(tmpdir(), 'swarmdesk-stub-userdata-'));
  getPath(name: string): string {
    if (name !== 'userData') throw new Error(`stub: no path ${name}`);
    return this.userData;
  }
  getName(): string {
    return 'swarmdesk';
  }
  getVersion(): string {
    return '0.0.0-test';
  }
  requestSingleInstanceLock(): boolean {
    return true;
  }
  whenReady(): Promise<void> {
    return Promise.resolve();
  }
  quit(): void {
    this.quitCalled = true;
  }
}

export const app = new App();

export const ipcMain = {
  handlers: new Map<string, Listener>(),
  handle(channel: string, handler: Listener): void {
    this.handlers.set(channel, handler);
  },
};

export const session = {
  defaultSession: {
    permissionHandler: undefined as Listener | undefined,
    headersHandler: undefined as Listener | undefined,
    permissionCheckHandler: undefined as Listener | undefined,
    setPermissionRequestHandler(handler: Listener): void {
      this.permissionHandler = handler;
    },
    setPermissionCheckHandler(handler: Listener): void {
      this.permissionCheckHandler = handler;
    },
    webRequest: {
      onHeadersReceived(handler: Listener): void {
        session.defaultSession.headersHandler = handler;
      },
    },
  },
};

export const shell = {
  opened: [] as string[],
  openExternal(url: string): Promise<void> {
    this.opened.push(url);
    return Promise.resolve();
  },
};

export const contextBridge = {
  exposed: new Map<string, unknown>(),
  exposeInMainWorld(key: string, api: unknown): void {
    this.exposed.set(key, api);
  },
};

class IpcRendererStub extends Emitter {
  readonly invoked: { channel: string; args: unknown[] }[] = [];
  /** What the next invoke answers (then undefined again), as the main process would. */
  nextResult: unknown = undefined;
  invoke(channel: string, ...args: unknown[]): Promise<unknown> {
    this.invoked.push({ channel, args });
    const result = this.nextResult;
    this.nextResult = undefined;
    return Promise.resolve(result);
  }
  removeListener(event: string, listener: Listener): this {
    this.listeners.set(event, (this.listeners.get(event) ?? []).filter((l) => l !== listener));
    return this;
  }
}

export const ipcRenderer = new IpcRendererStub();

export const dialog = {
  /** What the next message box answers (index of the button). */
  nextResponse: 0,
  shown: [] as Record<string, unknown>[],
  showMessageBox(...args: unknown[]): Promise<{ response: number }> {
    this.shown.push(args.at(-1) as Record<string, unknown>);
    return Promise.resolve({ response: this.nextResponse });
  },
};

export class Tray extends Emitter {
  static created: Tray[] = [];
  menu: unknown;
  destroyed = false;
  constructor(readonly image: unknown) {
    super();
    Tray.created.push(this);
  }
  setToolTip(): void {}
  setContextMenu(menu: unknown): void {
    this.menu = menu;
  }
  destroy(): void {
    this.destroyed = true;
  }
}

export const Menu = {
  buildFromTemplate(template: unknown[]): unknown[] {
    return template;
  },
};

export const nativeImage = {
  createFromPath(path: string): { path: string } {
    return { path };
  },
};

/**
 * A stand-in for the OS keychain: reversible, but nothing like the plain text (so a test reading the
 * settings file can tell encrypted from plain).
 */
export const safeStorage = {
  isEncryptionAvailable(): boolean {
    return true;
  },
  getSelectedStorageBackend(): string {
    return 'gnome_libsecret';
  },
  encryptString(plainText: string): Buffer {
    return Buffer.from(Buffer.from(plainText, 'utf8').map((byte) => byte ^ 0x5a)).reverse();
  },
  decryptString(encrypted: Buffer): string {
    return Buffer.from(Buffer.from(encrypted).reverse().map((byte) => byte ^ 0x5a)).toString('utf8');
  },
};
