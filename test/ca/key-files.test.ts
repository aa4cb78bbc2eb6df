import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createNodeCsr, readCertFile, readKeyFile, writeCertFile, writeKeyFile } from '../../agent/ca';

const posix = process.platform !== 'win32';

describe('key files', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'swarmdesk-ca-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('round-trip a key with mode 0600 and a certificate with mode 0644', async () => {
    const { keyPem } = await createNodeCsr();
    const keyPath = join(dir, 'node.key');
    const certPath = join(dir, 'node.crt');
    await writeKeyFile(keyPath, keyPem);
    await writeCertFile(certPath, '-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n');
    expect(await readKeyFile(keyPath)).toBe(keyPem);
    expect(await readCertFile(certPath)).toContain('BEGIN CERTIFICATE');
    if (posix) {
      expect((await stat(keyPath)).mode & 0o777).toBe(0o600);
      expect((await stat(certPath)).mode & 0o777).toBe(0o644);
    }
    expect(await readdir(dir)).toEqual(['node.crt', 'node.key']);
  });

  it.runIf(posix)('narrow a key file that existed with a wider mode', async () => {
    const keyPath = join(dir, 'node.key');
    await writeFile(keyPath, 'old', { mode: 0o666 });
    await writeKeyFile(keyPath, 'new key');
    expect((await stat(keyPath)).mode & 0o777).toBe(0o600);
    expect(await readKeyFile(keyPath)).toBe('new key');
  });

  it('leave the old file intact and no temporary file behind when a write fails', async () => {
    const keyPath = join(dir, 'node.key');
    await writeKeyFile(keyPath, 'old key');
    let tempSeen = '';
    await expect(
      writeKeyFile(keyPath, 'new key', {
        beforeRename: async (tempPath) => {
          tempSeen = tempPath;
          // The temporary file is complete and private before it is renamed into place.
          if (posix) expect((await stat(tempPath)).mode & 0o777).toBe(0o600);
          throw new Error('simulated crash before rename');
        },
      }),
    ).rejects.toThrow('simulated crash');
    expect(tempSeen).not.toBe('');
    expect(await readKeyFile(keyPath)).toBe('old key');
    expect(await readdir(dir)).toEqual(['node.key']);
  });

  it('fail cleanly when the directory does not exist', async () => {
    await expect(writeKeyFile(join(dir, 'missing', 'node.key'), 'k')).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
