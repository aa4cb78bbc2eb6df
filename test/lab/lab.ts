// The lab's programmatic API, for integration tests and for the CLI (cli.ts):
//   labUp({ vms })  makes (or finds) VMs 1..N and returns a handle per VM;
//   labDown()       removes every namespace, link, process, cgroup and file the lab made;
//   labStatus()     says what exists and runs, without changing anything.
// All three take the same LabOptions (dir, prefix, subnet) so a test can run a lab of its own.
import type { ChildProcess, SpawnOptions } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import Docker from 'dockerode';
import { type LabConfig, type LabOptions, labFiles, MAX_VMS, resolveConfig, type VmLayout, vmLayout } from './config';
import { type DaemonSpec, deathNotice, runningDaemon, startDaemon, stopDaemon } from './daemons';
import { dockerClient, DOCKERD, ensureDockerd, ensureTestImages, LAB_IMAGE_TAGS, TEST_IMAGE_REPO } from './engine';
import { enterArgv, execInVm, spawnInVm, writeEnterScript } from './enter';
import { writeIfChanged } from './files';
import { withLock } from './lock';
import { bridgeOwner, checkNamesFree, ensureBridge, ensureVmNetwork, listLabLinks, listLabNetns, netnsExists, removeLabLinks, removeVmNetwork } from './network';
import { killVmProcesses, removeCgroups, vmPids } from './processes';
import { run, type RunResult } from './sh';
import { ensureLabKey, sshCommand, sshOptions, waitForPort, writeKnownHosts } from './ssh';
import { startInVm, type VmProcess, type VmProcessOptions } from './vm-process';
import { ensureVmRoot } from './vm-root';

export type { LabOptions, RunResult, VmProcess, VmProcessOptions };
export { TEST_IMAGE_REPO };

const SSHD: DaemonSpec = { name: 'sshd', comm: 'sshd', argv: ['/usr/sbin/sshd', '-D', '-e'] };

/** References of the test image in every VM's engine (two different images: the tag is in /www/version). */
export const LAB_IMAGES: readonly string[] = LAB_IMAGE_TAGS.map((t) => `${TEST_IMAGE_REPO}:${t}`);

export interface LabVm {
  name: string;
  index: number;
  ip: string;
  sshPort: number;
  sshUser: 'root';
  sshKeyPath: string;
  knownHostsPath: string;
  /** Path of the VM engine's Unix socket on the host. */
  dockerSocket: string;
  /** `unix://<dockerSocket>`: what swarmd's --engine-addr and `docker -H` take. */
  engineAddr: string;
  netns: string;
  /** Host directory with the VM's private /etc, /opt, /var/lib, /run and /root. */
  rootDir: string;
  /** Script that runs a command (default a shell) inside the VM. */
  enterScript: string;
  /** `ssh ... root@ip` argv with the lab key and strict host-key checking; append a remote command. */
  sshArgv(): string[];
  docker(): Docker;
  /** Runs a command inside the VM and waits: a string goes to /bin/sh -c, an array is argv. */
  exec(cmd: string | readonly string[], timeoutMs?: number): Promise<RunResult>;
  /** Starts a long-running process inside the VM with its output captured (and logged under the VM dir). */
  start(argv: readonly string[], opts?: VmProcessOptions): VmProcess;
  /** Raw spawn inside the VM, for callers that want their own stdio handling. */
  spawn(argv: readonly string[], opts?: SpawnOptions): ChildProcess;
  /** argv that runs `argv` inside the VM (for execFile and friends). */
  argv(argv: readonly string[]): string[];
}

export interface Lab {
  config: LabConfig;
  vms: LabVm[];
  /** What this call changed; empty when the lab was already up as asked. */
  actions: string[];
}

export interface LabUpOptions extends LabOptions {
  /** Number of VMs (vm1..vmN); default 3. VMs above N that already exist are kept. */
  vms?: number;
}

interface LabState {
  prefix: string;
  subnet: string;
  vms: number[];
}

function labVm(cfg: LabConfig, vm: VmLayout): LabVm {
  const files = labFiles(cfg);
  return {
    name: vm.name,
    index: vm.index,
    ip: vm.ip,
    sshPort: 22,
    sshUser: 'root',
    sshKeyPath: files.sshKey,
    knownHostsPath: files.knownHosts,
    dockerSocket: vm.dockerSocket,
    engineAddr: `unix://${vm.dockerSocket}`,
    netns: vm.netns,
    rootDir: vm.root,
    enterScript: vm.enterScript,
    sshArgv: () => sshCommand(cfg, vm),
    docker: () => dockerClient(vm),
    exec: (cmd, timeoutMs) => execInVm(vm, cmd, timeoutMs),
    start: (argv, opts) => startInVm(vm, argv, opts),
    spawn: (argv, opts) => spawnInVm(vm, argv, opts),
    argv: (argv) => enterArgv(vm, argv),
  };
}

const REQUIRED_PROGRAMS = ['ip', 'nsenter', 'unshare', 'mount', 'cp', 'tar', 'ssh', 'ssh-keygen', 'sshd', 'dockerd', 'containerd', 'runc', 'busybox'];
const SEARCH_PATH = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/** What this machine lacks to run the lab; empty when it can. */
export function missingLabPrerequisites(): string[] {
  const missing: string[] = [];
  if (process.platform !== 'linux') return [`Linux (this is ${process.platform})`];
  if (process.getuid?.() !== 0) missing.push('root');
  for (const program of REQUIRED_PROGRAMS) {
    if (!SEARCH_PATH.some((dir) => existsSync(`${dir}/${program}`))) missing.push(program);
  }
  return missing;
}

function checkPrerequisites(): void {
  const missing = missingLabPrerequisites();
  if (missing.length > 0) {
    throw new Error(
      `the lab cannot run here; missing: ${missing.join(', ')} ` +
        '(run as root after: apt-get install -y iproute2 openssh-server docker.io busybox-static)',
    );
  }
}

function readState(cfg: LabConfig): LabState | undefined {
  try {
    return JSON.parse(readFileSync(labFiles(cfg).state, 'utf8')) as LabState;
  } catch {
    return undefined;
  }
}

/**
 * The config of the lab in the directory (its recorded prefix and subnet unless the caller names others),
 * and whether the namespaces and links named by that prefix are this directory's to touch: the record
 * says so, or the bridge's owner mark does, or the caller named the prefix and no other lab claims it.
 */
async function existingLab(opts: LabOptions): Promise<{ cfg: LabConfig; ownsPrefix: boolean; otherOwner?: string }> {
  const base = resolveConfig(opts);
  const state = readState(base);
  const cfg = state ? resolveConfig({ ...opts, prefix: opts.prefix ?? state.prefix, subnet: opts.subnet ?? state.subnet }) : base;
  const owner = await bridgeOwner(cfg);
  if (owner !== undefined && owner !== cfg.dir) return { cfg, ownsPrefix: false, otherOwner: owner || '(unknown)' };
  const ownsPrefix = owner === cfg.dir || state !== undefined || opts.prefix !== undefined || cfg.dir === resolveConfig({}).dir;
  return { cfg, ownsPrefix };
}

/** Every VM number this lab may have made: recorded, or found as a namespace or a directory. */
async function knownVmNumbers(cfg: LabConfig): Promise<number[]> {
  const numbers = new Set(readState(cfg)?.vms ?? []);
  for (const ns of await listLabNetns(cfg)) numbers.add(Number(ns.slice(`${cfg.prefix}-vm`.length)));
  for (const link of await listLabLinks(cfg)) if (link !== cfg.bridge) numbers.add(Number(link.slice(cfg.prefix.length + 1)));
  const vmsDir = `${cfg.dir}/vms`;
  if (existsSync(vmsDir)) {
    for (const entry of readdirSync(vmsDir)) if (/^vm\d+$/.test(entry)) numbers.add(Number(entry.slice(2)));
  }
  return [...numbers].filter((n) => Number.isInteger(n) && n >= 1 && n <= MAX_VMS).sort((a, b) => a - b);
}

async function ensureSshd(vm: VmLayout): Promise<boolean> {
  if (runningDaemon(vm, SSHD) !== undefined) return false;
  const pid = startDaemon(vm, SSHD);
  await waitForPort(vm.ip, 22, 20_000, () => deathNotice(vm, SSHD, pid));
  return true;
}

export async function labUp(opts: LabUpOptions = {}): Promise<Lab> {
  checkPrerequisites();
  // A lab already in the directory keeps its prefix and subnet unless the caller names others.
  const recorded = readState(resolveConfig(opts));
  const cfg = resolveConfig({ ...opts, prefix: opts.prefix ?? recorded?.prefix, subnet: opts.subnet ?? recorded?.subnet });
  const count = opts.vms ?? 3;
  if (!Number.isInteger(count) || count < 1 || count > MAX_VMS) throw new Error(`--vms ${count}: must be 1..${MAX_VMS}`);
  const files = labFiles(cfg);
  return withLock(files.lock, 'up', async () => {
    const actions: string[] = [];
    const previous = readState(cfg);
    if (previous && (previous.prefix !== cfg.prefix || previous.subnet !== cfg.subnet)) {
      throw new Error(`${cfg.dir} holds a lab with prefix ${previous.prefix} on ${previous.subnet}.0/24; take it down first`);
    }
    await checkNamesFree(cfg);
    const numbers = [...new Set([...(previous?.vms ?? []), ...Array.from({ length: count }, (_, i) => i + 1)])].sort((a, b) => a - b);
    const layouts = numbers.map((n) => vmLayout(cfg, n));
    mkdirSync(cfg.dir, { recursive: true, mode: 0o755 });
    // Recorded before anything is made, so `down` after a failed `up` knows what to look for.
    writeIfChanged(files.state, `${JSON.stringify({ prefix: cfg.prefix, subnet: cfg.subnet, vms: numbers } satisfies LabState, null, 2)}\n`);

    const key = await ensureLabKey(cfg);
    if (key.created) actions.push(`created ssh key ${files.sshKey}`);
    if (await ensureBridge(cfg)) actions.push(`created bridge ${cfg.bridge} (${cfg.hostIp}/24)`);
    for (const vm of layouts) {
      if (await ensureVmNetwork(cfg, vm)) actions.push(`${vm.name}: created namespace ${vm.netns} at ${vm.ip}`);
      const root = await ensureVmRoot(cfg, vm, layouts, key.publicKey);
      if (root.changed) actions.push(`${vm.name}: wrote its /etc, /opt, /var/lib, /run, /root`);
      if (root.sshdConfig && (await stopDaemon(vm, SSHD))) actions.push(`${vm.name}: stopped sshd to apply its new config`);
      if (root.dockerConfig && (await stopDaemon(vm, DOCKERD))) actions.push(`${vm.name}: stopped dockerd to apply its new config`);
      writeEnterScript(vm);
    }
    if (writeKnownHosts(cfg, layouts)) actions.push(`wrote ${files.knownHosts}`);

    // Daemons and images per VM in parallel: dockerd's start-up dominates the time of `up`.
    const perVm = await Promise.all(
      layouts.map(async (vm) => {
        const done: string[] = [];
        if (await ensureSshd(vm)) done.push(`${vm.name}: started sshd`);
        if (await ensureDockerd(vm)) done.push(`${vm.name}: started dockerd`);
        const imported = await ensureTestImages(vm, TEST_IMAGE_REPO);
        if (imported.length > 0) done.push(`${vm.name}: imported ${imported.join(', ')}`);
        return done;
      }),
    );
    actions.push(...perVm.flat());
    return { config: cfg, vms: layouts.slice(0, count).map((vm) => labVm(cfg, vm)), actions };
  });
}

/** Removes everything the lab made, found from the kernel as well as from the lab's records. */
export async function labDown(opts: LabOptions = {}): Promise<{ actions: string[] }> {
  const files = labFiles(resolveConfig(opts));
  return withLock(files.lock, 'down', async () => {
    const actions: string[] = [];
    const { cfg, ownsPrefix, otherOwner } = await existingLab(opts);
    if (otherOwner !== undefined) actions.push(`left ${cfg.prefix}-* alone: they belong to the lab in ${otherOwner}`);
    const numbers = ownsPrefix ? await knownVmNumbers(cfg) : [];
    await Promise.all(
      numbers.map(async (n) => {
        const vm = vmLayout(cfg, n);
        // No graceful engine stop: everything it made is about to be deleted, and a container whose
        // PID 1 ignores SIGTERM would make a graceful stop wait out its grace period.
        const pids = await vmPids(vm.netns, vm.cgroupParent);
        await killVmProcesses(vm.netns, vm.cgroupParent);
        if (pids.length > 0) actions.push(`${vm.name}: killed ${pids.length} processes`);
        removeCgroups(vm.cgroupParent);
        if (netnsExists(vm.netns)) actions.push(`${vm.name}: removed namespace ${vm.netns}`);
        await removeVmNetwork(vm.netns, vm.hostVeth);
      }),
    );
    if (ownsPrefix) {
      removeCgroups(`/${cfg.prefix}`);
      const links = await listLabLinks(cfg);
      await removeLabLinks(cfg);
      if (links.length > 0) actions.push(`removed links ${links.join(', ')}`);
    }
    if (existsSync(cfg.dir)) {
      await unmountUnder(cfg.dir);
      rmSync(cfg.dir, { recursive: true, force: true });
      actions.push(`removed ${cfg.dir}`);
    }
    return { actions };
  });
}

/**
 * Mounts the VMs make stay in their own mount namespaces, so normally there is none here; but rm -rf
 * through a leftover bind mount would delete the mounted directory's content, so make sure first.
 */
async function unmountUnder(dir: string): Promise<void> {
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((m): m is string => m !== undefined && (m === dir || m.startsWith(`${dir}/`)))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) await run(['umount', '-l', m]);
}

export interface VmStatus {
  name: string;
  ip: string;
  netns: boolean;
  sshdPid?: number;
  dockerdPid?: number;
  dockerAnswers: boolean;
  images: string[];
  vm: LabVm;
}

export interface LabStatus {
  config: LabConfig;
  bridge: boolean;
  vms: VmStatus[];
}

export async function labStatus(opts: LabOptions = {}): Promise<LabStatus> {
  const { cfg: effective, ownsPrefix } = await existingLab(opts);
  const links = ownsPrefix ? await listLabLinks(effective) : [];
  const vms = await Promise.all(
    (ownsPrefix ? await knownVmNumbers(effective) : []).map(async (n): Promise<VmStatus> => {
      const vm = vmLayout(effective, n);
      let dockerAnswers = false;
      let images: string[] = [];
      if (existsSync(vm.dockerSocket)) {
        try {
          const docker = dockerClient(vm);
          await docker.ping();
          dockerAnswers = true;
          images = (await docker.listImages()).flatMap((i) => i.RepoTags ?? []).sort();
        } catch {
          // not answering
        }
      }
      return {
        name: vm.name,
        ip: vm.ip,
        netns: netnsExists(vm.netns),
        sshdPid: runningDaemon(vm, SSHD),
        dockerdPid: runningDaemon(vm, DOCKERD),
        dockerAnswers,
        images,
        vm: labVm(effective, vm),
      };
    }),
  );
  return { config: effective, bridge: links.includes(effective.bridge), vms };
}

export { sshOptions };
