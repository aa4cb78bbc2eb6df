// Finding and ending every process a VM owns. A VM's processes are those in its network namespace (the
// daemons, ssh sessions, anything started with enter) plus its containers, which have network namespaces
// of their own but live in cgroups under the VM's cgroup parent (dockerd's cgroup-parent). Both are read
// from the kernel, not from our records, so this also works after a crashed or partial `up`.
import { existsSync, readdirSync, readFileSync, rmdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { tryRun } from './sh';

/** True while `pid` runs; a zombie (killed, not yet reaped by its parent) counts as gone. */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    // /proc/<pid>/stat: "pid (comm) state ..."; comm may hold spaces, so read after the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

export function netnsInode(netns: string): number | undefined {
  try {
    return statSync(`/run/netns/${netns}`).ino;
  } catch {
    return undefined;
  }
}

/** True when pid runs the program `comm` inside network namespace `netns` (guards against pid reuse). */
export function isVmProcess(pid: number, netns: string, comm: string): boolean {
  try {
    const ino = netnsInode(netns);
    return (
      ino !== undefined &&
      statSync(`/proc/${pid}/ns/net`).ino === ino &&
      readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === comm
    );
  } catch {
    return false;
  }
}

/** Mount points of every cgroup hierarchy (v1 controllers and the v2 unified tree). */
export function cgroupMounts(): string[] {
  const mounts: string[] = [];
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const [left, right] = line.split(' - ');
    if (!right) continue;
    const fsType = right.split(' ')[0];
    if (fsType === 'cgroup' || fsType === 'cgroup2') mounts.push(left.split(' ')[4]);
  }
  return mounts;
}

function cgroupDirs(cgroupPath: string): string[] {
  const dirs: string[] = [];
  const walk = (dir: string): void => {
    dirs.push(dir);
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) walk(path.join(dir, entry.name));
    }
  };
  for (const mount of cgroupMounts()) {
    const top = path.join(mount, cgroupPath);
    if (existsSync(top)) walk(top);
  }
  return dirs;
}

function cgroupPids(cgroupPath: string): number[] {
  const pids: number[] = [];
  for (const dir of cgroupDirs(cgroupPath)) {
    try {
      for (const p of readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').split('\n')) if (p) pids.push(Number(p));
    } catch {
      // removed while we walked
    }
  }
  return pids;
}

async function netnsPids(netns: string): Promise<number[]> {
  if (!existsSync(`/run/netns/${netns}`)) return [];
  const result = await tryRun(['ip', 'netns', 'pids', netns]);
  return result.stdout.split('\n').filter(Boolean).map(Number);
}

export async function vmPids(netns: string, cgroupPath: string): Promise<number[]> {
  const all = new Set([...(await netnsPids(netns)), ...cgroupPids(cgroupPath)]);
  all.delete(process.pid);
  return [...all].filter(pidAlive);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (pidAlive(pid)) {
    if (Date.now() > deadline) return false;
    await sleep(50);
  }
  return true;
}

/** SIGKILLs every process of the VM until none is left; throws naming the survivors. */
export async function killVmProcesses(netns: string, cgroupPath: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const pids = await vmPids(netns, cgroupPath);
    if (pids.length === 0) return;
    if (Date.now() > deadline) {
      const names = pids.map((p) => `${p} (${commOf(p)})`).join(', ');
      throw new Error(`processes of ${netns} would not die: ${names}`);
    }
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await sleep(100);
  }
}

function commOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '?';
  }
}

/** Removes the (now empty) cgroup directories under `cgroupPath` in every hierarchy, deepest first. */
export function removeCgroups(cgroupPath: string): void {
  for (const dir of cgroupDirs(cgroupPath).reverse()) {
    try {
      rmdirSync(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
}
