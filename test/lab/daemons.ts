// The VM's long-running daemons (sshd, dockerd): started detached inside the VM with output to a log file,
// recorded by pid in the VM's directory, and recognised on the next `up` so a running one is left alone.
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { VmLayout } from './config';
import { enterArgv } from './enter';
import { readIfExists, writeIfChanged } from './files';
import { isVmProcess, pidAlive, waitForExit } from './processes';

export interface DaemonSpec {
  /** Name of the pid and log files. */
  name: string;
  /** What /proc/<pid>/comm says once it runs, to tell it from a reused pid. */
  comm: string;
  argv: readonly string[];
}

export function logFile(vm: VmLayout, name: string): string {
  return path.join(vm.logDir, `${name}.log`);
}

/** The daemon's pid when it is running inside this VM, otherwise undefined. */
export function runningDaemon(vm: VmLayout, spec: DaemonSpec): number | undefined {
  const pid = Number(readIfExists(path.join(vm.pidDir, `${spec.name}.pid`))?.trim());
  return Number.isInteger(pid) && pid > 0 && isVmProcess(pid, vm.netns, spec.comm) ? pid : undefined;
}

export function startDaemon(vm: VmLayout, spec: DaemonSpec): number {
  const log = openSync(logFile(vm, spec.name), 'a');
  try {
    const [cmd, ...args] = enterArgv(vm, spec.argv);
    // detached: its own session, so it outlives `npm run lab` and a terminal's Ctrl-C does not reach it.
    const child = spawn(cmd, args, { detached: true, stdio: ['ignore', log, log] });
    child.unref();
    if (child.pid === undefined) throw new Error(`${vm.name}: could not start ${spec.name}`);
    writeIfChanged(path.join(vm.pidDir, `${spec.name}.pid`), `${child.pid}\n`);
    return child.pid;
  } finally {
    closeSync(log);
  }
}

/** For readiness loops: a message when the daemon has already died, with the end of its log. */
export function deathNotice(vm: VmLayout, spec: DaemonSpec, pid: number): string | undefined {
  // Between spawn and the final exec the process is nsenter/unshare/sh: alive counts as still starting.
  if (pidAlive(pid)) return undefined;
  let tail = '';
  try {
    tail = readFileSync(logFile(vm, spec.name), 'utf8').trim().split('\n').slice(-8).join('\n');
  } catch {
    // no log
  }
  return `${vm.name}: ${spec.name} exited while starting (log ${logFile(vm, spec.name)}):\n${tail}`;
}

/** Stops a running daemon (config changed under it); resolves once it is gone. */
export async function stopDaemon(vm: VmLayout, spec: DaemonSpec): Promise<boolean> {
  const pid = runningDaemon(vm, spec);
  if (pid === undefined) return false;
  process.kill(pid, 'SIGTERM');
  if (!(await waitForExit(pid, 15_000))) {
    process.kill(pid, 'SIGKILL');
    await waitForExit(pid, 5_000);
  }
  return true;
}
