/**
 * What the provisioning tests share: a private lab (its own VMs with real sshd and dockerd), SSH
 * targets for its VMs, and changes to a VM's sshd made inside that lab only.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KnownHosts } from '../../electron/main/provision/known-hosts';
import { ETC_DIR, OPT_DIR, RUN_DIR, STATE_DIR, UNIT_FILE } from '../../electron/main/provision/layout';
import type { SshTarget } from '../../electron/main/provision/ssh';
import { type Lab, labDown, labUp, type LabVm, missingLabPrerequisites } from '../lab/lab';
import { claimPrivateLab } from '../lab/private-lab';
import { type RunResult, tryRun as run } from '../lab/sh';

export const inCi = process.env.CI === 'true';
/** Skipped on a developer machine without the lab's prerequisites; in CI labUp fails naming them. */
export const skipWithoutLab = !inCi && missingLabPrerequisites().length > 0;

export interface TestLab {
  lab: Lab;
  vms: LabVm[];
  /** A scratch directory on the host, removed by down(). */
  scratch: string;
  /** The lab's known_hosts (every VM's key trusted), as the provisioning layer reads it. */
  knownHosts: KnownHosts;
  down(): Promise<void>;
}

export async function privateLab(vms: number): Promise<TestLab> {
  const opts = await claimPrivateLab();
  const scratch = await mkdtemp(join(tmpdir(), 'swarmdesk-provision-'));
  try {
    const lab = await labUp({ ...opts, vms });
    return {
      lab,
      vms: lab.vms,
      scratch,
      knownHosts: new KnownHosts(lab.vms[0].knownHostsPath),
      down: async () => {
        await labDown(opts);
        await rm(scratch, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await labDown(opts);
    throw err;
  }
}

/** root on the VM with the lab's ed25519 key. */
export function rootWithLabKey(vm: LabVm): SshTarget {
  return { host: vm.ip, port: vm.sshPort, username: 'root', auth: { method: 'key', keyPath: vm.sshKeyPath } };
}

/** A machine a test can run shell commands on: a lab VM, or an nspawn machine (test/lab/nspawn.ts). */
export interface Shell {
  name: string;
  exec(command: string, timeoutMs?: number): Promise<RunResult>;
}

/** Runs a command in the VM; throws with its output unless it exits 0. */
export async function vmSh(vm: Shell, command: string): Promise<string> {
  const r = await vm.exec(command, 60_000);
  if (r.code !== 0) throw new Error(`${vm.name}: ${command} exited ${r.code}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** Lets root log in with a password on this VM's sshd (this lab only), and sets the password. */
export async function allowPasswordLogin(vm: LabVm, password: string): Promise<void> {
  await vmSh(
    vm,
    "sed -i -e 's/^PasswordAuthentication no/PasswordAuthentication yes/' -e 's/^PermitRootLogin prohibit-password/PermitRootLogin yes/' /etc/ssh/sshd_config" +
      ' && kill -HUP "$(cat /run/sshd.pid)"',
  );
  await setPassword(vm, 'root', password);
  // sshd re-executes itself on SIGHUP; wait until it accepts connections again.
  await waitForSshd(vm);
}

export async function setPassword(vm: LabVm, user: string, password: string): Promise<void> {
  const [cmd, ...args] = vm.argv(['chpasswd']);
  const r = await run([cmd, ...args], { input: `${user}:${password}\n` });
  if (r.code !== 0) throw new Error(`chpasswd in ${vm.name}: ${r.stderr}`);
}

export async function waitForSshd(vm: LabVm): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const r = await run(['ssh-keyscan', '-T', '5', '-t', 'ed25519', vm.ip]);
    if (r.code === 0 && r.stdout.includes('ssh-ed25519')) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${vm.name}: sshd does not answer`);
}

/** What provisioning puts on a machine: none of it is left after a removal or a rollback. */
const PROVISIONED_PATHS = [OPT_DIR, ETC_DIR, STATE_DIR, RUN_DIR, UNIT_FILE];

/** Which of PROVISIONED_PATHS exist on `vm`, one a line ('' when none does). */
export function provisionLeftovers(vm: Shell): Promise<string> {
  return vmSh(vm, `ls -d ${PROVISIONED_PATHS.join(' ')} 2>/dev/null; true`);
}

/**
 * Executables running from /opt/swarmd in `vm`, also those run through an emulator (qemu-user's
 * binfmt_misc handler: the process's exe is the emulator, the program is mapped in its memory). The
 * lab's VMs share one pid namespace: only the processes in this VM's network namespace are its own.
 */
export async function agentProcesses(vm: Shell): Promise<string[]> {
  const out = await vmSh(
    vm,
    `me=$(readlink /proc/self/ns/net); for p in /proc/[0-9]*; do [ "$(readlink $p/ns/net 2>/dev/null)" = "$me" ] || continue; ` +
      `e=$(readlink $p/exe 2>/dev/null); case "$e" in ${OPT_DIR}/*) echo "$e" ;; *) grep -m 1 -o '${OPT_DIR}/.*/node/bin/node$' $p/maps 2>/dev/null ;; esac; done || true`,
  );
  return out.split('\n').filter((l) => l !== '');
}

/** The directories an SSH session's PATH has on the lab VMs (Debian's default for root). */
const SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * Puts `dir` (created on the VM) first in the PATH of root's SSH sessions on `vm`, and only theirs
 * (sshd_config's Match User root + SetEnv PATH), so programs a test writes there stand in for the
 * system's where the VM's own state cannot be changed: the lab VMs share this machine's kernel (its
 * clock, uname). Resolves with a function that puts sshd_config back and removes `dir`.
 */
export async function overrideRootSshPath(vm: LabVm, dir: string): Promise<() => Promise<void>> {
  const backup = `${dir}/sshd_config.orig`;
  await vmSh(
    vm,
    `mkdir -p ${dir} && cp /etc/ssh/sshd_config ${backup} && ` +
      `printf "Match User root\\n\\tSetEnv PATH=${dir}:${SYSTEM_PATH}\\n" >> /etc/ssh/sshd_config && /usr/sbin/sshd -t && kill -HUP "$(cat /run/sshd.pid)"`,
  );
  await waitForSshd(vm);
  return async () => {
    await vmSh(vm, `mv ${backup} /etc/ssh/sshd_config && rm -rf ${dir} && kill -HUP "$(cat /run/sshd.pid)"`);
    await waitForSshd(vm);
  };
}

/** A new key pair of `type` (ed25519, ecdsa, rsa), optionally encrypted, authorized for root on `vm`. */
export async function authorizedKey(vm: LabVm, dir: string, type: 'ed25519' | 'ecdsa' | 'rsa', passphrase = ''): Promise<string> {
  const path = join(dir, `id_${type}${passphrase === '' ? '' : '_enc'}`);
  const bits = type === 'rsa' ? ['-b', '3072'] : [];
  const r = await run(['ssh-keygen', '-q', '-t', type, ...bits, '-N', passphrase, '-C', `test-${type}`, '-f', path]);
  if (r.code !== 0) throw new Error(`ssh-keygen: ${r.stderr}`);
  const pub = (await readFile(`${path}.pub`, 'utf8')).trim();
  await vmSh(vm, `echo '${pub}' >> /root/.ssh/authorized_keys`);
  return path;
}
