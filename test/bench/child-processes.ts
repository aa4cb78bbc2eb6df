/** Stopping the benchmarks' child processes (cluster members), so the next cluster can bind the same ports. */
import type { ChildProcess } from 'node:child_process';

/** SIGTERM to each, SIGKILL to any still running after `graceMs`; resolves once all have exited. */
export async function stopChildren(children: readonly ChildProcess[], graceMs = 5000): Promise<void> {
  const running = (child: ChildProcess) => child.exitCode === null && child.signalCode === null;
  const exited = children.map((child) => (running(child) ? new Promise((resolve) => child.once('exit', resolve)) : Promise.resolve()));
  for (const child of children) child.kill('SIGTERM');
  const timer = setTimeout(() => {
    for (const child of children) if (running(child)) child.kill('SIGKILL');
  }, graceMs);
  try {
    await Promise.all(exited);
  } finally {
    clearTimeout(timer);
  }
}
