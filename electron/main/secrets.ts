/**
 * Secrets (SSH passwords and keys of known machines, and whatever else must survive a restart) never go
 * into the settings file in plain text. In the desktop app they are encrypted with Electron's safeStorage
 * (the OS keychain) and only the ciphertext is written; where no keychain is available — and always in
 * browser mode, which has no Electron — they are kept in memory only and are gone at the next start.
 */
import type { SettingsBackend } from './settings';

export interface SecretVault {
  /** Whether secrets survive a restart (`false`: memory only). */
  readonly persistent: boolean;
  set(name: string, value: string): Promise<void>;
  get(name: string): Promise<string | undefined>;
  delete(name: string): Promise<void>;
}

export class MemoryVault implements SecretVault {
  readonly persistent = false;
  private readonly values = new Map<string, string>();
  set(name: string, value: string): Promise<void> {
    this.values.set(name, value);
    return Promise.resolve();
  }
  get(name: string): Promise<string | undefined> {
    return Promise.resolve(this.values.get(name));
  }
  delete(name: string): Promise<void> {
    this.values.delete(name);
    return Promise.resolve();
  }
}

/** The part of Electron's safeStorage the vault uses. */
export interface SafeStorageLike {
  isEncryptionAvailable(): boolean;
  encryptString(plainText: string): Buffer;
  decryptString(encrypted: Buffer): string;
  /** Linux: 'basic_text' means a hard-coded key, i.e. no real protection. */
  getSelectedStorageBackend?(): string;
}

const SECRETS_KEY = 'encryptedSecrets';

/** Ciphertext (base64) in the settings file under `encryptedSecrets`; plaintext only in memory. */
export class SafeStorageVault implements SecretVault {
  readonly persistent = true;

  constructor(
    private readonly safeStorage: SafeStorageLike,
    private readonly backend: SettingsBackend,
  ) {}

  private blobs(): Record<string, string> {
    const stored = this.backend.get(SECRETS_KEY);
    return typeof stored === 'object' && stored !== null && !Array.isArray(stored) ? { ...(stored as Record<string, string>) } : {};
  }

  set(name: string, value: string): Promise<void> {
    const blobs = this.blobs();
    blobs[name] = this.safeStorage.encryptString(value).toString('base64');
    this.backend.set(SECRETS_KEY, blobs);
    return Promise.resolve();
  }

  get(name: string): Promise<string | undefined> {
    const blob = this.blobs()[name];
    return Promise.resolve(blob === undefined ? undefined : this.safeStorage.decryptString(Buffer.from(blob, 'base64')));
  }

  delete(name: string): Promise<void> {
    const blobs = this.blobs();
    delete blobs[name];
    this.backend.set(SECRETS_KEY, blobs);
    return Promise.resolve();
  }
}

/** safeStorage when the OS offers real encryption, else memory only (never a plain-text fallback). */
export function createVault(safeStorage: SafeStorageLike | undefined, backend: SettingsBackend): SecretVault {
  const usable = safeStorage !== undefined && safeStorage.isEncryptionAvailable() && safeStorage.getSelectedStorageBackend?.() !== 'basic_text';
  return usable ? new SafeStorageVault(safeStorage, backend) : new MemoryVault();
}
