/**
 * The app's settings file (electron-store in the desktop app, `conf` — the library electron-store wraps —
 * in browser mode; both write one JSON file atomically). Nothing secret is ever stored here: join tokens
 * are used once and forgotten, other secrets go through a SecretVault (secrets.ts).
 */
import type { KnownMachineView, ThemeSetting, UiSettings } from '../contract';

/** What both electron-store and conf offer (string keys, JSON values). */
export interface SettingsBackend {
  get(key: string): unknown;
  set(key: string, value: unknown): void;
  delete(key: string): void;
  readonly path: string;
}

/** The cluster this machine's node belongs to, enough to bring it back at the next launch (never the token). */
export interface LocalNodeConfig {
  origin: 'created' | 'joined';
  advertiseAddress: string;
  port: number;
  runTasks: boolean;
  /** The manager it joined through (informational: a restart uses the node's own state). */
  joinAddress?: string;
}

/**
 * A machine provisioned from this app: how to reach it over SSH and what it became, never a secret
 * (a remembered password or passphrase lives in the vault; a key stays in its own file).
 */
export type KnownMachine = Omit<KnownMachineView, 'remembered'>;

export interface WindowBounds {
  x?: number;
  y?: number;
  width: number;
  height: number;
  maximized: boolean;
}

export const DEFAULT_UI_SETTINGS: UiSettings = Object.freeze({ theme: 'system' as ThemeSetting, logTimestamps: false });

const THEMES: readonly ThemeSetting[] = ['system', 'light', 'dark'];

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const AUTH_METHODS: readonly KnownMachine['auth'][] = ['key', 'agent', 'password'];

/** A known machine read back from the file (or about to be written), field by field; undefined if malformed. */
function knownMachineFrom(value: unknown): KnownMachine | undefined {
  if (!isRecord(value)) return undefined;
  const { id, host, port, username, auth, keyPath, role, labels, managerHost, nodeId, provisionedAt } = value;
  if (typeof id !== 'string' || typeof host !== 'string' || typeof port !== 'number' || typeof username !== 'string' || typeof provisionedAt !== 'string') return undefined;
  if (!AUTH_METHODS.includes(auth as KnownMachine['auth']) || (role !== 'worker' && role !== 'manager')) return undefined;
  const cleanLabels = isRecord(labels) ? Object.fromEntries(Object.entries(labels).filter((entry): entry is [string, string] => typeof entry[1] === 'string')) : {};
  return {
    id,
    host,
    port,
    username,
    auth: auth as KnownMachine['auth'],
    ...(typeof keyPath === 'string' ? { keyPath } : {}),
    role,
    labels: cleanLabels,
    ...(typeof managerHost === 'string' ? { managerHost } : {}),
    ...(typeof nodeId === 'string' ? { nodeId } : {}),
    provisionedAt,
  };
}

export class Settings {
  constructor(private readonly backend: SettingsBackend) {}

  /** The settings file (tests read it to prove nothing secret is in it). */
  get path(): string {
    return this.backend.path;
  }

  ui(): UiSettings {
    const stored = this.backend.get('ui');
    const ui = isRecord(stored) ? stored : {};
    return {
      theme: THEMES.includes(ui.theme as ThemeSetting) ? (ui.theme as ThemeSetting) : DEFAULT_UI_SETTINGS.theme,
      logTimestamps: typeof ui.logTimestamps === 'boolean' ? ui.logTimestamps : DEFAULT_UI_SETTINGS.logTimestamps,
    };
  }

  updateUi(patch: Partial<UiSettings>): UiSettings {
    const next = { ...this.ui(), ...patch };
    this.backend.set('ui', next);
    return next;
  }

  localNode(): LocalNodeConfig | undefined {
    const stored = this.backend.get('localNode');
    if (!isRecord(stored)) return undefined;
    const { origin, advertiseAddress, port, runTasks, joinAddress } = stored;
    if ((origin !== 'created' && origin !== 'joined') || typeof advertiseAddress !== 'string' || typeof port !== 'number' || typeof runTasks !== 'boolean') return undefined;
    return { origin, advertiseAddress, port, runTasks, ...(typeof joinAddress === 'string' ? { joinAddress } : {}) };
  }

  setLocalNode(config: LocalNodeConfig | undefined): void {
    if (config === undefined) this.backend.delete('localNode');
    else this.backend.set('localNode', config);
    if (config !== undefined) this.backend.set('advertiseAddress', config.advertiseAddress);
  }

  /** The advertise address last chosen (pre-fills the create/join forms). */
  advertiseAddress(): string | undefined {
    const stored = this.backend.get('advertiseAddress');
    return typeof stored === 'string' ? stored : undefined;
  }

  knownMachines(): KnownMachine[] {
    const stored = this.backend.get('knownMachines');
    if (!Array.isArray(stored)) return [];
    return stored.flatMap((entry) => {
      const machine = knownMachineFrom(entry);
      return machine === undefined ? [] : [machine];
    });
  }

  /** Writes exactly the fields of KnownMachine (whatever else an object carries stays out of the file). */
  setKnownMachines(machines: readonly KnownMachine[]): void {
    this.backend.set(
      'knownMachines',
      machines.map((m) => knownMachineFrom(m)).filter((m): m is KnownMachine => m !== undefined),
    );
  }

  windowBounds(): WindowBounds | undefined {
    const stored = this.backend.get('windowBounds');
    if (!isRecord(stored) || typeof stored.width !== 'number' || typeof stored.height !== 'number') return undefined;
    return {
      width: stored.width,
      height: stored.height,
      maximized: stored.maximized === true,
      ...(typeof stored.x === 'number' && typeof stored.y === 'number' ? { x: stored.x, y: stored.y } : {}),
    };
  }

  setWindowBounds(bounds: WindowBounds): void {
    this.backend.set('windowBounds', bounds);
  }

  /** Raw access for the vault's encrypted blobs (never plain secrets). */
  get raw(): SettingsBackend {
    return this.backend;
  }
}

/** An in-memory backend (tests). */
export class MemorySettingsBackend implements SettingsBackend {
  readonly path = ':memory:';
  private readonly values = new Map<string, unknown>();
  get(key: string): unknown {
    return structuredClone(this.values.get(key));
  }
  set(key: string, value: unknown): void {
    this.values.set(key, structuredClone(value));
  }
  delete(key: string): void {
    this.values.delete(key);
  }
}
