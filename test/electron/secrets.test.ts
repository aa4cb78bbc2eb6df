/** Secrets never reach the settings file in plain text: the file on disk is read back and searched. */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createVault, MemoryVault, SafeStorageVault } from '../../electron/main/secrets';
import { Settings } from '../../electron/main/settings';
import { openSettingsBackend } from '../../electron/main/settings-file';
import { safeStorage } from './electron-stub';

const SECRET = 'correct-horse-battery-staple-91c2';
let home: string | undefined;

afterEach(async () => {
  if (home !== undefined) await rm(home, { recursive: true, force: true });
  home = undefined;
});

async function freshSettings() {
  home = await mkdtemp(join(tmpdir(), 'swarmdesk-secrets-'));
  const backend = await openSettingsBackend(home);
  return { backend, settings: new Settings(backend) };
}

describe('secrets', () => {
  it('are stored encrypted by safeStorage: the settings file holds only ciphertext, and they read back', async () => {
    const { backend, settings } = await freshSettings();
    const vault = createVault(safeStorage, backend);
    expect(vault).toBeInstanceOf(SafeStorageVault);
    expect(vault.persistent).toBe(true);
    settings.updateUi({ theme: 'light' });
    settings.setKnownMachines([{ id: 'admin@vm1', host: 'vm1', port: 22, username: 'admin', auth: 'password', role: 'worker', labels: {}, provisionedAt: new Date(0).toISOString() }]);
    await vault.set('ssh-password:vm1', SECRET);
    const file = await readFile(settings.path, 'utf8');
    expect(settings.path).toBe(join(home ?? '', 'settings.json'));
    expect(file).toContain('vm1'); // the file is the one written
    expect(file).toContain('encryptedSecrets');
    expect(file).not.toContain(SECRET);
    expect(file).not.toContain(Buffer.from(SECRET).toString('base64'));
    // A second process (the next launch) reads it back through the keychain.
    const reopened = createVault(safeStorage, await openSettingsBackend(home ?? ''));
    await expect(reopened.get('ssh-password:vm1')).resolves.toBe(SECRET);
    await reopened.delete('ssh-password:vm1');
    await expect(reopened.get('ssh-password:vm1')).resolves.toBeUndefined();
  });

  it('without a real keychain (none, or Linux basic_text) stay in memory only, never in the file', async () => {
    const { backend, settings } = await freshSettings();
    for (const storage of [undefined, { ...safeStorage, isEncryptionAvailable: () => false }, { ...safeStorage, getSelectedStorageBackend: () => 'basic_text' }]) {
      const vault = createVault(storage, backend);
      expect(vault).toBeInstanceOf(MemoryVault);
      expect(vault.persistent).toBe(false);
      await vault.set('token', SECRET);
      await expect(vault.get('token')).resolves.toBe(SECRET);
    }
    settings.updateUi({ logTimestamps: true });
    expect(await readFile(settings.path, 'utf8')).not.toContain(SECRET);
  });
});
