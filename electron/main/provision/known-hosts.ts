/**
 * The host keys this machine trusts, in OpenSSH's known_hosts format (so a user can read it, and a
 * file written by `ssh` works here too): `host keytype base64` for port 22, `[host]:port keytype base64`
 * otherwise. Hashed host names (`|1|salt|hash`, HashKnownHosts) are matched; markers (@revoked,
 * @cert-authority) and wildcard patterns are not used by swarmdesk and are skipped.
 */
import { createHash, createHmac } from 'node:crypto';
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface HostKey {
  /** Algorithm name from the key blob, e.g. `ssh-ed25519`, `ecdsa-sha2-nistp256`, `ssh-rsa`. */
  type: string;
  /** The wire-format public key blob, base64 (as in known_hosts). */
  base64: string;
  /** `SHA256:...` exactly as OpenSSH prints it (unpadded base64 of the blob's SHA-256). */
  fingerprint: string;
}

/** The host key a server presented, from its wire-format blob. */
export function hostKeyFromBlob(blob: Buffer): HostKey {
  const length = blob.length >= 4 ? blob.readUInt32BE(0) : 0;
  const type = length > 0 && length + 4 <= blob.length ? blob.subarray(4, 4 + length).toString('latin1') : 'unknown';
  return { type, base64: blob.toString('base64'), fingerprint: fingerprintOf(blob) };
}

export function fingerprintOf(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** known_hosts' name for host:port. */
export function hostPattern(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

function nameMatches(field: string, name: string): boolean {
  for (const pattern of field.split(',')) {
    if (pattern.startsWith('|1|')) {
      const [, , salt, hash] = pattern.split('|');
      if (salt === undefined || hash === undefined) continue;
      const mac = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64');
      if (mac === hash) return true;
    } else if (pattern === name) {
      return true;
    }
  }
  return false;
}

export class KnownHosts {
  constructor(readonly path: string) {}

  /** The keys recorded for host:port (any type). */
  async lookup(host: string, port: number): Promise<HostKey[]> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const name = hostPattern(host, port);
    const keys: HostKey[] = [];
    for (const raw of text.split('\n')) {
      const line = raw.trim();
      if (line === '' || line.startsWith('#') || line.startsWith('@')) continue;
      const [names, type, base64] = line.split(/\s+/);
      if (names === undefined || type === undefined || base64 === undefined || !nameMatches(names, name)) continue;
      keys.push({ type, base64, fingerprint: fingerprintOf(Buffer.from(base64, 'base64')) });
    }
    return keys;
  }

  /** Records a key as trusted for host:port. */
  async add(host: string, port: number, key: HostKey): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
    await appendFile(this.path, `${hostPattern(host, port)} ${key.type} ${key.base64}\n`, { mode: 0o600 });
  }
}
