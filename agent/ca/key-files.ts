/**
 * Key and certificate files. A write goes to a temporary file in the same directory, is fsynced, then
 * renamed over the target, and the directory is fsynced: after a crash the path holds either the old
 * file or the new one, never a torn key. Keys get mode 0600 from the moment the file exists (the mode
 * is in the open call, so there is no window where another user could open it) and once more with
 * chmod, because the process umask may have narrowed the mode given to open.
 *
 * Nothing here logs or puts file contents into error messages.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { chmod, open, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export const KEY_FILE_MODE = 0o600;
export const CERT_FILE_MODE = 0o644;

/** Hooks for tests to fail a write part-way; production code never passes them. */
export interface AtomicWriteHooks {
  beforeRename?: (tempPath: string) => Promise<void> | void;
}

async function fsyncDirectory(dir: string): Promise<void> {
  let handle;
  try {
    handle = await open(dir, constants.O_RDONLY);
    await handle.sync();
  } catch {
    // Some platforms (Windows) cannot open or fsync a directory; the rename is still atomic there.
  } finally {
    await handle?.close();
  }
}

export async function writeFileAtomic(path: string, contents: string, mode: number, hooks: AtomicWriteHooks = {}): Promise<void> {
  const dir = dirname(path);
  const tempPath = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  let renamed = false;
  try {
    const handle = await open(tempPath, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, mode);
    try {
      await handle.chmod(mode);
      await handle.writeFile(contents, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await hooks.beforeRename?.(tempPath);
    await rename(tempPath, path);
    renamed = true;
    // rename keeps the temp file's mode; chmod again in case the target path had been a different file.
    await chmod(path, mode);
    await fsyncDirectory(dir);
  } finally {
    if (!renamed) await rm(tempPath, { force: true });
  }
}

export function writeKeyFile(path: string, keyPem: string, hooks?: AtomicWriteHooks): Promise<void> {
  return writeFileAtomic(path, keyPem, KEY_FILE_MODE, hooks);
}

export function writeCertFile(path: string, certPem: string, hooks?: AtomicWriteHooks): Promise<void> {
  return writeFileAtomic(path, certPem, CERT_FILE_MODE, hooks);
}

export function readKeyFile(path: string): Promise<string> {
  return readFile(path, 'utf8');
}

export function readCertFile(path: string): Promise<string> {
  return readFile(path, 'utf8');
}
