// How a process gets "inside" a VM. A VM is not one long-lived namespace set but a recipe applied to each
// process we start: join the VM's network namespace (nsenter), then take a private mount and UTS namespace
// (unshare) in which the VM's own /etc, /opt, /var/lib, /run and /root are bind-mounted over the host's and
// the hostname is the VM's name; then exec the program. Children inherit all of it, so dockerd, the
// containers it runs and every ssh session see the same VM.
//
// Why not `ip netns exec`: it remounts /sys for the namespace, which hides /sys/fs/cgroup, and dockerd then
// refuses to start ("Devices cgroup isn't mounted"). nsenter keeps the host's /sys; procfs and netlink,
// which is what dockerd and ip read, already answer for the joined namespace.
//
// Mount propagation is "slave": the host's later mounts still show up in the VM, the VM's never leak out,
// so `lab down` has no mount to undo on the host.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { PRIVATE_DIRS, type VmLayout } from './config';
import { shQuote, tryRun, type RunResult } from './sh';

function enterScript(vm: VmLayout): string {
  const lines = ['set -e', `hostname ${shQuote(vm.name)}`];
  for (const dir of PRIVATE_DIRS) lines.push(`mount --bind ${shQuote(path.join(vm.root, dir))} ${dir}`);
  lines.push('[ $# -gt 0 ] || set -- /bin/bash -l', 'exec "$@"');
  return lines.join('\n');
}

/** argv that runs `argv` inside the VM (pid preserved: every step execs, none forks). */
export function enterArgv(vm: VmLayout, argv: readonly string[]): string[] {
  return [
    'nsenter',
    `--net=/run/netns/${vm.netns}`,
    'unshare',
    '--mount',
    '--uts',
    '--propagation',
    'slave',
    '--',
    '/bin/sh',
    '-c',
    enterScript(vm),
    `${vm.name}-enter`,
    ...argv,
  ];
}

/** A script a person can run from the host: `<lab>/vms/vm1/enter` for a shell, or `enter docker ps`. */
export function writeEnterScript(vm: VmLayout): void {
  const [cmd, ...args] = enterArgv(vm, []);
  const body = `#!/bin/sh\n# Runs a command (default: a login shell) inside lab VM ${vm.name}.\nexec ${[cmd, ...args].map(shQuote).join(' ')} "$@"\n`;
  writeFileSync(vm.enterScript, body, { mode: 0o755 });
}

/** Runs a command inside the VM and waits for it: a string goes to /bin/sh -c, an array is argv. */
export function execInVm(vm: VmLayout, cmd: string | readonly string[], timeoutMs = 60_000): Promise<RunResult> {
  const argv = typeof cmd === 'string' ? ['/bin/sh', '-c', cmd] : cmd;
  return tryRun(enterArgv(vm, argv), { timeoutMs });
}

/**
 * Starts a long-running process inside the VM (swarmd, a test server). stdio is piped unless the caller
 * says otherwise; child.pid is the program's own pid, so child.kill() signals it directly.
 */
export function spawnInVm(vm: VmLayout, argv: readonly string[], opts: SpawnOptions = {}): ChildProcess {
  const [cmd, ...args] = enterArgv(vm, argv);
  return spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
}
