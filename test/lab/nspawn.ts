// A lab machine with its own systemd: a Debian root file system made once with debootstrap (kept between
// runs under /var/tmp) and booted with `systemd-nspawn -b` on a private lab's bridge. The lab's namespace
// VMs share the host's /usr and have no init, so what needs an init system or a package manager of its own
// (a systemd unit, apt-get installing docker.io) is tested here.
//
// The machine is a lab VM for the lab's bookkeeping: it sits in VM 1's network namespace (lab address,
// veth, bridge), and systemd-nspawn runs in VM 1's cgroup, so labDown of the private lab kills whatever is
// left of it (a crashed run's too, through claimPrivateLab's sweep) and removes its copy of the root file
// system with the lab's directory.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { type LabConfig, labFiles, type LabOptions, resolveConfig, vmLayout, type VmLayout } from './config';
import { labDown } from './lab';
import { withLock } from './lock';
import { ensureBridge, ensureVmNetwork } from './network';
import { pidAlive, waitForExit } from './processes';
import { run, type RunResult, tryRun } from './sh';
import { ensureLabKey, waitForPort } from './ssh';

/** Where built root file systems are kept: beside the labs' directories, never removed by `lab down`. */
export const ROOTFS_CACHE_DIR = process.env.SWARMDESK_ROOTFS_CACHE ?? '/var/tmp/swarmdesk-lab-rootfs';

/**
 * What the machine needs: systemd as PID 1 (and dbus, which systemctl and logind expect), sshd for the
 * provisioning to log in. Docker is left out on purpose: a test installs it the way a user would.
 */
const PACKAGES = ['systemd', 'systemd-sysv', 'dbus', 'openssh-server', 'iproute2', 'ca-certificates'];
/** Bumped when what ensureRootfs does to the tree changes, so an older cached tree is not reused. */
const RECIPE = 1;

const PROGRAMS = ['debootstrap', 'systemd-nspawn', 'nsenter', 'iptables', 'ssh-keygen', 'ip'];
const SEARCH_PATH = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/** What this machine lacks to build and boot a machine; empty when it can (whether nspawn boots is only known by trying). */
export function missingNspawnPrerequisites(): string[] {
  if (process.platform !== 'linux') return [`Linux (this is ${process.platform})`];
  const missing: string[] = [];
  if (process.getuid?.() !== 0) missing.push('root');
  for (const program of PROGRAMS) if (!SEARCH_PATH.some((dir) => existsSync(`${dir}/${program}`))) missing.push(program);
  return missing;
}

/** The first Debian mirror this machine's apt uses (deb822 or one-line sources), so the machine uses the same. */
export function hostMirror(): string {
  const sources: string[] = [];
  for (const dir of ['/etc/apt/sources.list.d']) {
    if (existsSync(dir)) for (const f of readdirSync(dir).sort()) if (f.endsWith('.sources') || f.endsWith('.list')) sources.push(path.join(dir, f));
  }
  sources.push('/etc/apt/sources.list');
  for (const file of sources) {
    const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
    const uri = /^URIs:\s*(\S+\/debian)\/?\s*$/m.exec(text)?.[1] ?? /^deb\s+(?:\[[^\]]*\]\s+)?(\S+\/debian)\/?\s/m.exec(text)?.[1];
    if (uri !== undefined) return uri;
  }
  return 'http://deb.debian.org/debian';
}

/** This machine's Debian release (VERSION_CODENAME): the machine's systemd then matches this systemd-nspawn. */
function hostSuite(): string {
  const codename = /^VERSION_CODENAME=(\w+)$/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1];
  if (codename === undefined) throw new Error('cannot tell this machine\'s Debian release from /etc/os-release (VERSION_CODENAME)');
  return codename;
}

/**
 * A Debian root file system with PACKAGES, built once (debootstrap takes minutes) and kept under
 * ROOTFS_CACHE_DIR; later calls, from any process, return the same tree. Boot a copy, never this.
 */
export async function ensureRootfs(): Promise<string> {
  const suite = hostSuite();
  const mirror = hostMirror();
  const key = createHash('sha256').update(JSON.stringify({ suite, mirror, PACKAGES, RECIPE })).digest('hex').slice(0, 12);
  const dir = path.join(ROOTFS_CACHE_DIR, `debian-${suite}-${key}`);
  mkdirSync(ROOTFS_CACHE_DIR, { recursive: true });
  return withLock(`${dir}.lock`, 'rootfs', async () => {
    if (existsSync(path.join(dir, '.complete'))) return dir;
    const partial = `${dir}.partial`;
    rmSync(partial, { recursive: true, force: true });
    const r = await tryRun(['debootstrap', '--variant=minbase', `--include=${PACKAGES.join(',')}`, suite, partial, mirror], { timeoutMs: 20 * 60_000 });
    if (r.code !== 0) {
      const log = existsSync(`${partial}/debootstrap/debootstrap.log`) ? readFileSync(`${partial}/debootstrap/debootstrap.log`, 'utf8') : '';
      throw new Error(`debootstrap ${suite} from ${mirror} failed (exit ${r.code}):\n${(r.stderr + r.stdout + log).trim().split('\n').slice(-15).join('\n')}`);
    }
    prepareRootfs(partial);
    writeFileSync(path.join(partial, '.complete'), `${JSON.stringify({ suite, mirror, packages: PACKAGES, recipe: RECIPE })}\n`);
    rmSync(dir, { recursive: true, force: true });
    renameSync(partial, dir);
    return dir;
  }, 25 * 60_000);
}

/** What every machine made from the tree shares: no host keys of its own yet, no timers that run apt. */
function prepareRootfs(root: string): void {
  for (const f of readdirSync(path.join(root, 'etc/ssh'))) if (f.startsWith('ssh_host_')) rmSync(path.join(root, 'etc/ssh', f));
  // apt's daily timers could take dpkg's lock while a test installs a package; getty on the console
  // would only wait for a login nobody types.
  for (const unit of ['apt-daily.timer', 'apt-daily-upgrade.timer', 'console-getty.service']) {
    const link = path.join(root, 'etc/systemd/system', unit);
    rmSync(link, { force: true });
    symlinkSync('/dev/null', link);
  }
  rmSync(path.join(root, 'var/cache/apt/archives'), { recursive: true, force: true });
  mkdirSync(path.join(root, 'var/cache/apt/archives/partial'), { recursive: true });
}

export interface NspawnMachine {
  name: string;
  ip: string;
  sshPort: number;
  /** The lab's client key, authorized for root. */
  sshKeyPath: string;
  /** known_hosts holding the machine's own ed25519 host key. */
  knownHostsPath: string;
  /** The lab the machine sits in: its bridge address is what the machine reaches this one at. */
  config: LabConfig;
  /** PID (on this machine) of the machine's systemd. */
  leaderPid: number;
  /** A path of the machine's file `file` on this machine (through its PID 1's root), e.g. its Docker socket. */
  hostPath(file: string): string;
  /** Runs a command inside the machine (all its namespaces) with /bin/sh -c. */
  exec(command: string, timeoutMs?: number): Promise<RunResult>;
  /** Powers the machine off and removes the lab it sits in. */
  down(): Promise<void>;
}

export interface BootOptions {
  /** Let the machine reach the Debian mirror (routed and masqueraded through this machine), for apt-get. */
  mirrorAccess?: boolean;
  /** How long boot may take until sshd answers; default 2 minutes. */
  timeoutMs?: number;
}

/** Comment on our iptables rules, so a later run can find and remove a crashed run's. */
const ruleTag = (cfg: LabConfig) => `swarmdesk-nspawn-${cfg.prefix}`;

/** Boots a copy of `rootfs` as a machine at the address of VM 1 of the private lab `opts` (claimPrivateLab). */
export async function bootMachine(opts: Required<LabOptions>, rootfs: string, boot: BootOptions = {}): Promise<NspawnMachine> {
  const cfg = resolveConfig(opts);
  const vm = vmLayout(cfg, 1);
  const name = `nspawn${opts.prefix}`;
  let nspawnPid: number | undefined;
  const consoleLog = path.join(vm.dir, 'console.log');
  const teardown = async () => {
    if (nspawnPid !== undefined) await powerOff(nspawnPid);
    await removeMirrorRules(cfg);
    await labDown(opts);
  };
  try {
    mkdirSync(vm.dir, { recursive: true });
    // The lab's record, so labDown knows this lab's prefix and VM even if the run dies here.
    writeFileSync(labFiles(cfg).state, `${JSON.stringify({ prefix: cfg.prefix, subnet: cfg.subnet, vms: [1] }, null, 2)}\n`);
    await ensureBridge(cfg);
    await ensureVmNetwork(cfg, vm);
    const key = await ensureLabKey(cfg);
    await run(['cp', '-a', '--reflink=auto', rootfs, vm.root], { timeoutMs: 10 * 60_000 });
    const mirrorHosts = boot.mirrorAccess ? await allowMirror(cfg, vm, rootfs) : [];
    const hostKey = await configureCopy(vm, name, key.publicKey, mirrorHosts);
    const knownHostsPath = path.join(vm.dir, 'known_hosts');
    writeFileSync(knownHostsPath, `${vm.ip} ${hostKey}\n`);

    nspawnPid = startNspawn(vm, name, consoleLog);
    const leaderPid = await waitForLeader(nspawnPid, consoleLog);
    const exec = (command: string, timeoutMs = 60_000) => tryRun(['nsenter', '-t', String(leaderPid), '-a', '--', '/bin/sh', '-c', command], { timeoutMs });
    const deadline = Date.now() + (boot.timeoutMs ?? 120_000);
    const state = await bootState(exec, deadline);
    if (state !== 'running') {
      const failed = (await exec('systemctl --failed --no-legend --plain')).stdout.trim();
      throw new Error(`the machine's boot ended ${state}${failed ? `; failed units:\n${failed}` : ''}`);
    }
    await waitForPort(vm.ip, 22, Math.max(5_000, deadline - Date.now()), () => (pidAlive(leaderPid) ? undefined : 'the machine stopped'));
    return {
      name,
      ip: vm.ip,
      sshPort: 22,
      sshKeyPath: labFiles(cfg).sshKey,
      knownHostsPath,
      config: cfg,
      leaderPid,
      hostPath: (file) => `/proc/${leaderPid}/root${file}`,
      exec,
      down: teardown,
    };
  } catch (err) {
    const log = readConsole(consoleLog);
    await teardown().catch(() => undefined);
    throw new Error(`systemd-nspawn could not boot a machine here: ${(err as Error).message}${log ? `\n--- its console:\n${log.split('\n').slice(-30).join('\n')}` : ''}`);
  }
}

/** What `systemctl is-system-running` says once boot has finished ("running", or "degraded" with a failed unit). */
async function bootState(exec: NspawnMachine['exec'], deadline: number): Promise<string> {
  let last = '';
  for (;;) {
    const r = await exec('systemctl is-system-running');
    last = r.stdout.trim() || r.stderr.trim();
    if (!['initializing', 'starting', ''].includes(r.stdout.trim())) return last;
    if (Date.now() > deadline) return `unfinished (${last})`;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

function readConsole(file: string): string {
  try {
    // Strip colour codes: the console is read by people in test failures.
    // eslint-disable-next-line no-control-regex
    return readFileSync(file, 'utf8').replace(/\x1b\[[0-9;]*m/g, '');
  } catch {
    return '';
  }
}

/** The copy's identity: hostname, hosts, its own ssh host key (returned, as known_hosts has it), root's authorized key. */
async function configureCopy(vm: VmLayout, name: string, publicKey: string, mirrorHosts: readonly string[]): Promise<string> {
  const etc = path.join(vm.root, 'etc');
  writeFileSync(path.join(etc, 'hostname'), `${name}\n`);
  // No DNS in the lab's network: the mirror's addresses as this machine resolved them.
  writeFileSync(path.join(etc, 'hosts'), ['127.0.0.1\tlocalhost', `127.0.1.1\t${name}`, '::1\tlocalhost ip6-localhost ip6-loopback', ...mirrorHosts, ''].join('\n'));
  writeFileSync(path.join(etc, 'machine-id'), '');
  const hostKeyFile = path.join(etc, 'ssh', 'ssh_host_ed25519_key');
  await run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', `root@${name}`, '-f', hostKeyFile]);
  writeFileSync(path.join(etc, 'ssh', 'sshd_config.d', 'swarmdesk-lab.conf'), '# Written by the swarmdesk lab: one host key, the one in known_hosts.\nHostKey /etc/ssh/ssh_host_ed25519_key\n');
  const sshDir = path.join(vm.root, 'root', '.ssh');
  mkdirSync(sshDir, { recursive: true, mode: 0o700 });
  writeFileSync(path.join(sshDir, 'authorized_keys'), publicKey.endsWith('\n') ? publicKey : `${publicKey}\n`, { mode: 0o600 });
  chmodSync(sshDir, 0o700);
  return readFileSync(`${hostKeyFile}.pub`, 'utf8').trim().split(' ').slice(0, 2).join(' ');
}

/**
 * Starts systemd-nspawn in the VM's cgroup (in every hierarchy that tracks processes: on a hybrid
 * host the name=systemd and the unified ones). PID 1 here need not be systemd: --register=no and
 * --keep-unit keep nspawn from asking it for a scope; it makes its own payload cgroups below ours.
 */
function startNspawn(vm: VmLayout, name: string, consoleLog: string): number {
  const join = [
    'for h in /sys/fs/cgroup/systemd /sys/fs/cgroup/unified /sys/fs/cgroup; do',
    '  if [ -f "$h/cgroup.procs" ]; then mkdir -p "$h$1" && echo $$ > "$h$1/cgroup.procs" || exit 1; fi',
    'done',
    'shift',
    'exec "$@"',
  ].join('\n');
  const argv = [
    'systemd-nspawn',
    `--directory=${vm.root}`,
    `--machine=${name}`,
    '--boot',
    '--register=no',
    '--keep-unit',
    `--network-namespace-path=/run/netns/${vm.netns}`,
    // What the machine's Docker needs to run containers. --private-network would grant CAP_NET_ADMIN; a
    // namespace of our own does not, and dockerd cannot make its iptables chains without it ("Could not
    // fetch rule set generation id: Permission denied"). runc makes a session keyring for each container
    // and queries and attaches the device cgroup's BPF program: nspawn's seccomp filter refuses those calls.
    '--capability=CAP_NET_ADMIN',
    '--system-call-filter=add_key keyctl request_key bpf',
    // No terminal here: the console's output goes to a file, nothing is read from it.
    '--console=read-only',
  ];
  const out = openSync(consoleLog, 'a');
  try {
    const child = spawn('/bin/sh', ['-c', join, 'nspawn-in-cgroup', vm.cgroupParent, ...argv], { stdio: ['ignore', out, out], detached: true, env: { ...process.env, ...cgroupMode() } });
    child.unref();
    if (child.pid === undefined) throw new Error('systemd-nspawn did not start');
    return child.pid;
  } finally {
    closeSync(out);
  }
}

/**
 * The machine gets a cgroup v2 tree of its own wherever this machine has one, even on a hybrid host:
 * there nspawn would otherwise mount the v1 controllers read-only in the machine, and runc fails every
 * container ("mkdir /sys/fs/cgroup/cpuset/docker/...: read-only file system").
 */
function cgroupMode(): Record<string, string> {
  const v2 = existsSync('/sys/fs/cgroup/cgroup.controllers') || existsSync('/sys/fs/cgroup/unified/cgroup.controllers');
  return v2 ? { SYSTEMD_NSPAWN_UNIFIED_HIERARCHY: '1' } : {};
}

/** The machine's PID 1 as seen here: nspawn's child, once it runs systemd. */
async function waitForLeader(nspawnPid: number, consoleLog: string): Promise<number> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (!pidAlive(nspawnPid)) throw new Error(`systemd-nspawn exited at once: ${readConsole(consoleLog).trim().split('\n').slice(-5).join(' / ')}`);
    let children: number[] = [];
    try {
      children = readFileSync(`/proc/${nspawnPid}/task/${nspawnPid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    } catch {
      children = [];
    }
    for (const pid of children) {
      try {
        if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'systemd') return pid;
      } catch {
        // gone meanwhile
      }
    }
    if (Date.now() > deadline) throw new Error('no systemd in the machine 30 s after systemd-nspawn started');
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** SIGTERM makes systemd-nspawn shut the machine down properly (SIGRTMIN+3 to its systemd); SIGKILL if that takes too long. */
async function powerOff(nspawnPid: number): Promise<void> {
  if (!pidAlive(nspawnPid)) return;
  process.kill(nspawnPid, 'SIGTERM');
  if (await waitForExit(nspawnPid, 30_000)) return;
  process.kill(nspawnPid, 'SIGKILL');
  await waitForExit(nspawnPid, 10_000);
}

/**
 * Routes the machine's traffic to the mirror's addresses (and only those) out through this machine,
 * masqueraded: the lab's network is otherwise closed. Returns the hosts lines for the machine.
 */
async function allowMirror(cfg: LabConfig, vm: VmLayout, rootfs: string): Promise<string[]> {
  await removeMirrorRules(cfg);
  const sources = readFileSync(path.join(rootfs, 'etc/apt/sources.list'), 'utf8');
  const hosts = [...new Set([...sources.matchAll(/^deb\s+(?:\[[^\]]*\]\s+)?https?:\/\/([^/\s:]+)/gm)].map((m) => m[1] ?? ''))].filter((h) => h !== '');
  const lines: string[] = [];
  const tag = ['-m', 'comment', '--comment', ruleTag(cfg)];
  for (const host of hosts) {
    const addresses = (await lookup(host, { all: true, family: 4 })).map((a) => a.address);
    if (addresses.length === 0) throw new Error(`the mirror ${host} does not resolve here`);
    lines.push(`${addresses[0]}\t${host}`);
    for (const address of addresses) {
      await run(['iptables', '-w', '-t', 'nat', '-I', 'POSTROUTING', '-s', `${vm.ip}/32`, '-d', `${address}/32`, ...tag, '-j', 'MASQUERADE']);
      await run(['iptables', '-w', '-I', 'FORWARD', '-s', `${vm.ip}/32`, '-d', `${address}/32`, ...tag, '-j', 'ACCEPT']);
      await run(['iptables', '-w', '-I', 'FORWARD', '-s', `${address}/32`, '-d', `${vm.ip}/32`, ...tag, '-j', 'ACCEPT']);
    }
  }
  // Routing between interfaces is off on a fresh machine unless something (a host dockerd) turned it on.
  if (readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim() !== '1') writeFileSync('/proc/sys/net/ipv4/ip_forward', '1\n');
  return lines;
}

async function removeMirrorRules(cfg: LabConfig): Promise<void> {
  const tag = ruleTag(cfg);
  for (const [table, chain] of [['nat', 'POSTROUTING'], ['filter', 'FORWARD']] as const) {
    const listed = await tryRun(['iptables', '-w', '-t', table, '-S', chain]);
    for (const rule of listed.stdout.split('\n').filter((l) => l.startsWith('-A ') && l.includes(tag))) {
      // iptables -S prints each rule as the arguments that add it: the same with -D deletes it.
      const args = rule.replace(/^-A /, '-D ').match(/"[^"]*"|\S+/g)?.map((a) => a.replace(/^"(.*)"$/, '$1')) ?? [];
      await tryRun(['iptables', '-w', '-t', table, ...args]);
    }
  }
}
