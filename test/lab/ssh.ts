// The lab's ssh identity: one client key for root on every VM, and a known_hosts file holding each VM's
// own host key, so clients can (and the tests do) connect with StrictHostKeyChecking=yes.
import { existsSync } from 'node:fs';
import { createConnection } from 'node:net';
import type { LabConfig, VmLayout } from './config';
import { labFiles } from './config';
import { readIfExists, writeIfChanged } from './files';
import { run } from './sh';
import { vmHostPublicKey } from './vm-root';

/** Creates the lab's client key pair once; returns its public key line. */
export async function ensureLabKey(cfg: LabConfig): Promise<{ publicKey: string; created: boolean }> {
  const { sshKey } = labFiles(cfg);
  let created = false;
  if (!existsSync(sshKey) || !existsSync(`${sshKey}.pub`)) {
    await run(['rm', '-f', sshKey, `${sshKey}.pub`]);
    await run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'swarmdesk-lab', '-f', sshKey]);
    created = true;
  }
  return { publicKey: readIfExists(`${sshKey}.pub`) ?? '', created };
}

export function writeKnownHosts(cfg: LabConfig, vms: readonly VmLayout[]): boolean {
  const lines = vms.map((vm) => `${vm.ip} ${vmHostPublicKey(vm)}`);
  return writeIfChanged(labFiles(cfg).knownHosts, `${lines.join('\n')}\n`);
}

/** ssh options that log in to a lab VM as root with the lab key and verify its recorded host key. */
export function sshOptions(cfg: LabConfig): string[] {
  const { sshKey, knownHosts } = labFiles(cfg);
  return [
    '-i',
    sshKey,
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    `UserKnownHostsFile=${knownHosts}`,
    '-o',
    'StrictHostKeyChecking=yes',
  ];
}

export function sshCommand(cfg: LabConfig, vm: VmLayout): string[] {
  return ['ssh', ...sshOptions(cfg), `root@${vm.ip}`];
}

/** Resolves once something accepts TCP connections on ip:port, or rejects after timeoutMs. */
export async function waitForPort(ip: string, port: number, timeoutMs: number, stillStarting: () => string | undefined): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ host: ip, port, timeout: 1000 });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
      socket.once('timeout', () => {
        socket.destroy();
        resolve(false);
      });
    });
    if (ok) return;
    const failure = stillStarting();
    if (failure !== undefined) throw new Error(failure);
    if (Date.now() > deadline) throw new Error(`nothing listens on ${ip}:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
