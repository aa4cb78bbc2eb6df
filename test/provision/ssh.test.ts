/**
 * The SSH layer against real sshd in a lab VM: host-key trust on first contact and refusal on a
 * mismatch, every login method and key type, each failure's message, commands (streamed output, exit
 * codes, timeout, cancellation) and SFTP upload.
 */
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ProvisionError } from '../../electron/main/provision/errors';
import { KnownHosts } from '../../electron/main/provision/known-hosts';
import { connectSsh, type SshTarget } from '../../electron/main/provision/ssh';
import { until } from '../cluster/harness';
import type { LabVm } from '../lab/lab';
import { tryRun } from '../lab/sh';
import { allowPasswordLogin, authorizedKey, privateLab, rootWithLabKey, skipWithoutLab, type TestLab, vmSh } from './fixture';

async function failure(promise: Promise<unknown>): Promise<ProvisionError> {
  try {
    await promise;
  } catch (err) {
    return err as ProvisionError;
  }
  throw new Error('expected a failure, but it succeeded');
}

describe.skipIf(skipWithoutLab)('SSH layer against a lab VM', () => {
  let t: TestLab;
  let vm: LabVm;
  const password = 'correct horse 9';

  beforeAll(async () => {
    t = await privateLab(1);
    vm = t.vms[0];
    await allowPasswordLogin(vm, password);
  }, 240_000);
  afterAll(async () => t?.down(), 120_000);

  const whoami = async (target: SshTarget, knownHosts = t.knownHosts): Promise<string> => {
    const conn = await connectSsh(target, { knownHosts });
    try {
      return (await conn.run('whoami', 'whoami')).trim();
    } finally {
      conn.close();
    }
  };

  it('on first contact reports the host key fingerprint as OpenSSH prints it; once trusted it is remembered', async () => {
    const printed = (await tryRun(['ssh-keygen', '-lf', join(vm.rootDir, 'etc/ssh/ssh_host_ed25519_key.pub')])).stdout.split(' ')[1];
    expect(printed).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    const store = new KnownHosts(join(t.scratch, 'first-contact', 'known_hosts'));

    const unknown = await failure(connectSsh(rootWithLabKey(vm), { knownHosts: store }));
    expect(unknown.code).toBe('host-key-unknown');
    expect(unknown.hostKey?.fingerprint).toBe(printed);
    expect(unknown.message).toContain(printed);
    expect(await store.lookup(vm.ip, 22)).toEqual([]);

    // Trusting some other fingerprint does not let the connection through.
    expect((await failure(connectSsh(rootWithLabKey(vm), { knownHosts: store, trustFingerprint: 'SHA256:not-this-one' }))).code).toBe('host-key-unknown');

    const conn = await connectSsh(rootWithLabKey(vm), { knownHosts: store, trustFingerprint: printed });
    conn.close();
    expect((await readFile(store.path, 'utf8')).trim()).toBe(`${vm.ip} ssh-ed25519 ${(await readFile(join(vm.rootDir, 'etc/ssh/ssh_host_ed25519_key.pub'), 'utf8')).split(' ')[1]}`);
    expect(await whoami(rootWithLabKey(vm), store)).toBe('root');
  }, 60_000);

  it('refuses a host whose key differs from the trusted one, saying the connection may be intercepted', async () => {
    const other = join(t.scratch, 'other_host_key');
    await tryRun(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', other]);
    const store = new KnownHosts(join(t.scratch, 'mismatch_known_hosts'));
    await writeFile(store.path, `${vm.ip} ${(await readFile(`${other}.pub`, 'utf8')).split(' ').slice(0, 2).join(' ')}\n`);
    const before = await readFile(store.path, 'utf8');
    const err = await failure(connectSsh(rootWithLabKey(vm), { knownHosts: store }));
    expect(err.code).toBe('host-key-mismatch');
    expect(err.message).toMatch(/changed/);
    expect(err.message).toMatch(/intercept/);
    // Trusting the new key on the spot is not how a mismatch is resolved.
    expect((await failure(connectSsh(rootWithLabKey(vm), { knownHosts: store, trustFingerprint: err.hostKey?.fingerprint }))).code).toBe('host-key-mismatch');
    expect(await readFile(store.path, 'utf8')).toBe(before);
  }, 60_000);

  it('logs in with ed25519, ECDSA and RSA keys, and with an encrypted key given its passphrase', async () => {
    expect(await whoami(rootWithLabKey(vm))).toBe('root');
    for (const type of ['ecdsa', 'rsa'] as const) {
      const keyPath = await authorizedKey(vm, t.scratch, type);
      expect(await whoami({ ...rootWithLabKey(vm), auth: { method: 'key', keyPath } }), type).toBe('root');
    }
    const encrypted = await authorizedKey(vm, t.scratch, 'ed25519', 'key passphrase');
    expect(await whoami({ ...rootWithLabKey(vm), auth: { method: 'key', keyPath: encrypted, passphrase: 'key passphrase' } })).toBe('root');
  }, 90_000);

  it('an encrypted key without its passphrase asks for the passphrase; with a wrong one says so', async () => {
    const encrypted = join(t.scratch, 'id_ecdsa_enc');
    await tryRun(['ssh-keygen', '-q', '-t', 'ecdsa', '-N', 'secret words', '-f', encrypted]);
    const missing = await failure(connectSsh({ ...rootWithLabKey(vm), auth: { method: 'key', keyPath: encrypted } }, { knownHosts: t.knownHosts }));
    expect(missing.code).toBe('key-encrypted');
    expect(missing.message).toBe(`${encrypted} is encrypted: give its passphrase`);
    const wrong = await failure(connectSsh({ ...rootWithLabKey(vm), auth: { method: 'key', keyPath: encrypted, passphrase: 'not it' } }, { knownHosts: t.knownHosts }));
    expect(wrong.code).toBe('key-invalid');
    expect(wrong.message).toMatch(/wrong passphrase/);
  }, 60_000);

  it('a key the server does not accept is refused as the wrong key', async () => {
    const stranger = join(t.scratch, 'id_stranger');
    await tryRun(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', stranger]);
    const err = await failure(connectSsh({ ...rootWithLabKey(vm), auth: { method: 'key', keyPath: stranger } }, { knownHosts: t.knownHosts }));
    expect(err.code).toBe('auth-failed');
    expect(err.message).toBe(`root@${vm.ip} refused the key ${stranger}: wrong key, or the user may not log in this way`);
  }, 60_000);

  it('logs in with the right password and says "wrong password" for another', async () => {
    expect(await whoami({ host: vm.ip, username: 'root', auth: { method: 'password', password } })).toBe('root');
    const err = await failure(connectSsh({ host: vm.ip, username: 'root', auth: { method: 'password', password: 'not the password' } }, { knownHosts: t.knownHosts }));
    expect(err.code).toBe('auth-failed');
    expect(err.message).toMatch(/refused password: wrong password/);
    expect(err.message).not.toContain('not the password');
  }, 60_000);

  it('logs in with the keys held by ssh-agent', async () => {
    const socket = join(t.scratch, 'agent.sock');
    const started = await tryRun(['ssh-agent', '-a', socket]);
    const pid = Number(/SSH_AGENT_PID=(\d+)/.exec(started.stdout)?.[1]);
    try {
      expect((await tryRun(['ssh-add', vm.sshKeyPath], { env: { ...process.env, SSH_AUTH_SOCK: socket } })).code).toBe(0);
      expect(await whoami({ host: vm.ip, username: 'root', auth: { method: 'agent', socket } })).toBe('root');
    } finally {
      if (pid > 0) process.kill(pid);
    }
    const noAgent = await failure(connectSsh({ host: vm.ip, username: 'root', auth: { method: 'agent', socket: '' } }, { knownHosts: t.knownHosts }));
    expect(noAgent.code).toBe('agent-unavailable');
  }, 60_000);

  it('a port nobody listens on is reported as refused', async () => {
    const err = await failure(connectSsh({ ...rootWithLabKey(vm), port: 2222 }, { knownHosts: t.knownHosts }));
    expect(err.code).toBe('refused');
    expect(err.message).toBe(`${vm.ip}:2222 refused the connection: is sshd running and listening on port 2222?`);
  }, 60_000);

  it('an address where no machine answers is reported as unreachable (or as a timeout), within the time allowed', async () => {
    const nobody = `${t.lab.config.subnet}.200`;
    const started = Date.now();
    const err = await failure(connectSsh({ ...rootWithLabKey(vm), host: nobody }, { knownHosts: t.knownHosts, timeoutMs: 10_000 }));
    // On the lab's bridge, ARP gets no answer: the kernel says "no route to host" after about 3 s.
    expect(['unreachable', 'timeout']).toContain(err.code);
    expect(err.message).toContain(nobody);
    expect(Date.now() - started).toBeLessThan(25_000);
  }, 60_000);

  it('runs commands with streamed output lines, exit codes and stdin; a timeout and a cancel stop them', async () => {
    const conn = await connectSsh(rootWithLabKey(vm), { knownHosts: t.knownHosts });
    try {
      const lines: string[] = [];
      const r = await conn.exec('echo one; echo two >&2; cat; exit 3', { stdin: 'three\n', onLine: (line, stream) => lines.push(`${stream}:${line}`) });
      expect(r.code).toBe(3);
      expect(r.stdout).toBe('one\nthree\n');
      expect(lines.sort()).toEqual(['stderr:two', 'stdout:one', 'stdout:three']);
      // A last stderr line without its newline is still a line of its own, and the code is the command's.
      const unterminated: string[] = [];
      const r2 = await conn.exec("printf 'no newline' >&2; exit 4", { onLine: (line, stream) => unterminated.push(`${stream}:${line}`) });
      expect({ code: r2.code, stderr: r2.stderr, lines: unterminated }).toEqual({ code: 4, stderr: 'no newline', lines: ['stderr:no newline'] });
      expect((await conn.exec('kill -TERM $$')).code).toBe(143);
      await expect(conn.run('listing a missing directory', 'ls /no/such/dir')).rejects.toThrow(/^listing a missing directory failed \(exit 2\): .*No such file or directory/);

      const timedOut = await failure(conn.exec('sleep 60', { timeoutMs: 1000 }));
      expect(timedOut.code).toBe('command-failed');
      expect(timedOut.message).toBe('`sleep 60` did not finish within 1 s');

      const controller = new AbortController();
      const cancelled = conn.exec('echo started; sleep 61', { signal: controller.signal, onLine: () => controller.abort() });
      expect((await failure(cancelled)).code).toBe('cancelled');
      // Both remote commands were killed, not left behind.
      await until('the remote sleeps killed', async () => (await tryRun(['pgrep', '-f', '^sleep 6[01]$'])).code === 1 || undefined, 20_000);
      // The connection is still good for more work after both.
      expect((await conn.run('echo', 'echo still here')).trim()).toBe('still here');
    } finally {
      conn.close();
    }
  }, 60_000);

  it('uploads a file over SFTP with its mode, byte for byte', async () => {
    const local = join(t.scratch, 'payload.bin');
    const bytes = Buffer.alloc(3 * 1024 * 1024 + 17, 7);
    bytes.write('swarmdesk');
    await writeFile(local, bytes);
    const conn = await connectSsh(rootWithLabKey(vm), { knownHosts: t.knownHosts });
    try {
      await conn.upload(local, '/root/payload.bin', { mode: 0o600 });
    } finally {
      conn.close();
    }
    const [sum, mode] = (await vmSh(vm, 'sha256sum /root/payload.bin | cut -d" " -f1; stat -c %a /root/payload.bin')).trim().split('\n');
    expect(sum).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(mode).toBe('600');
  }, 60_000);
});
