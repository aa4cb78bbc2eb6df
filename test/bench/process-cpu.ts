/**
 * CPU time of other processes, from /proc: the sum of every thread's run time in
 * /proc/<pid>/task/<tid>/schedstat (nanoseconds; /proc/<pid>/stat counts in 10 ms ticks, too coarse
 * for a second of idling). The raft bench reports CPU per write for every process because, unlike
 * writes/s, it hardly moves when other work shares the machine: it is the number to compare changes by
 * on a busy 2-core box.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** CPU milliseconds used so far by `pid` (all its threads), or NaN where /proc cannot tell. */
export function processCpuMs(pid: number): number {
  try {
    let ns = 0;
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
      } catch {
        // the thread ended between the listing and the read
      }
    }
    return ns / 1e6;
  } catch {
    return NaN;
  }
}

/** This process's own CPU milliseconds (microsecond resolution). */
export function ownCpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/** Snapshot now; the returned function gives each process's CPU ms since, the client (this process) first. */
export function cpuMeter(pids: number[]): () => number[] {
  const start = [ownCpuMs(), ...pids.map(processCpuMs)];
  return () => [ownCpuMs(), ...pids.map(processCpuMs)].map((now, i) => now - start[i]);
}
