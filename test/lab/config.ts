// Where a lab lives and what everything in it is called. Every name derives from the prefix, so two labs
// (the one a developer keeps up, and the throwaway one the lab's own test makes) never touch each other.
import path from 'node:path';

export const DEFAULT_LAB_DIR = '/var/tmp/swarmdesk-lab';
export const DEFAULT_PREFIX = 'swdlab';
export const DEFAULT_SUBNET = '10.77.0';
export const MAX_VMS = 50;

export interface LabOptions {
  /** State directory; default $SWARMDESK_LAB_DIR or /var/tmp/swarmdesk-lab. Never inside the repo. */
  dir?: string;
  /** Name prefix for the bridge, namespaces, veths and cgroups (1-8 lowercase letters/digits). */
  prefix?: string;
  /** First three octets of the /24 the lab uses: the host is .1, VM i is .(10+i). */
  subnet?: string;
}

export interface LabConfig {
  dir: string;
  prefix: string;
  subnet: string;
  bridge: string;
  hostIp: string;
}

export function resolveConfig(opts: LabOptions = {}): LabConfig {
  const dir = path.resolve(opts.dir ?? process.env.SWARMDESK_LAB_DIR ?? DEFAULT_LAB_DIR);
  const prefix = opts.prefix ?? DEFAULT_PREFIX;
  const subnet = opts.subnet ?? DEFAULT_SUBNET;
  // Interface names are limited to 15 bytes: "<prefix>v<nn>" must fit.
  if (!/^[a-z][a-z0-9]{0,7}$/.test(prefix)) {
    throw new Error(`lab prefix ${JSON.stringify(prefix)}: use 1-8 lowercase letters or digits, starting with a letter`);
  }
  const octets = subnet.split('.');
  if (octets.length !== 3 || !octets.every((o) => /^\d{1,3}$/.test(o) && Number(o) <= 255)) {
    throw new Error(`lab subnet ${JSON.stringify(subnet)}: give the first three octets, e.g. 10.77.0`);
  }
  if (dir === '/' || dir.split(path.sep).length < 3) {
    throw new Error(`lab dir ${dir}: too close to / to be removed safely by "lab down"`);
  }
  // A VM sees its own /etc, /opt, /var/lib, /run and /root, so lab files there would vanish inside it.
  const hidden = ['/var/run', ...PRIVATE_DIRS].find((d) => dir === d || dir.startsWith(`${d}/`));
  if (hidden !== undefined) throw new Error(`lab dir ${dir}: must not be under ${hidden}, which each VM replaces`);
  return { dir, prefix, subnet, bridge: `${prefix}0`, hostIp: `${subnet}.1` };
}

/** Everything about VM number `index` (1-based) that can be computed without looking at the machine. */
export interface VmLayout {
  index: number;
  name: string;
  ip: string;
  netns: string;
  hostVeth: string;
  /** Per-VM directory on the host. */
  dir: string;
  /** Host directory holding the VM's private /etc, /opt, /var/lib, /run and /root. */
  root: string;
  logDir: string;
  /** Our own record of the daemons we started (pid files), outside the VM's view. */
  pidDir: string;
  enterScript: string;
  /** The VM's /run/docker.sock as seen from the host. */
  dockerSocket: string;
  /** Parent cgroup for the VM's containers, so `down` can find every container process. */
  cgroupParent: string;
}

export function vmLayout(cfg: LabConfig, index: number): VmLayout {
  if (!Number.isInteger(index) || index < 1 || index > MAX_VMS) {
    throw new Error(`VM number ${index}: must be 1..${MAX_VMS}`);
  }
  const name = `vm${index}`;
  const dir = path.join(cfg.dir, 'vms', name);
  const root = path.join(dir, 'root');
  return {
    index,
    name,
    ip: `${cfg.subnet}.${10 + index}`,
    netns: `${cfg.prefix}-${name}`,
    hostVeth: `${cfg.prefix}v${index}`,
    dir,
    root,
    logDir: path.join(dir, 'log'),
    pidDir: path.join(dir, 'pids'),
    enterScript: path.join(dir, 'enter'),
    dockerSocket: path.join(root, 'run', 'docker.sock'),
    cgroupParent: `/${cfg.prefix}/${name}`,
  };
}

/** Files shared by all VMs of a lab. */
export function labFiles(cfg: LabConfig): { state: string; sshKey: string; knownHosts: string; imageDir: string; lock: string } {
  return {
    state: path.join(cfg.dir, 'lab.json'),
    sshKey: path.join(cfg.dir, 'id_ed25519'),
    knownHosts: path.join(cfg.dir, 'known_hosts'),
    imageDir: path.join(cfg.dir, 'image'),
    // Beside the directory, not in it: `down` removes the directory while holding the lock.
    lock: `${cfg.dir}.lock`,
  };
}

/** The directories a VM gets its own copy of; everything else (/usr, /tmp, /var/tmp, the repo) is shared. */
export const PRIVATE_DIRS = ['/var/lib', '/opt', '/root', '/run', '/etc'] as const;
