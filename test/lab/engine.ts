// The VM's Docker Engine: Debian's dockerd started inside the VM, configured by the VM's own
// /etc/docker/daemon.json (vm-root.ts), answering on the VM's /run/docker.sock, which the host reaches as
// <vm dir>/root/run/docker.sock. iptables is on (inside the VM's namespace only), so a published port is
// reachable at the VM's address exactly as on a real machine.
import Docker from 'dockerode';
import type { VmLayout } from './config';
import { type DaemonSpec, deathNotice, runningDaemon, startDaemon } from './daemons';
import { importTestImage } from '../support/test-image';

export const DOCKERD: DaemonSpec = { name: 'dockerd', comm: 'dockerd', argv: ['dockerd'] };

/** Tags the lab loads into every VM: `swarmdesk-test:1` and `swarmdesk-test:2`, different images. */
export const LAB_IMAGE_TAGS = ['1', '2'] as const;
export { TEST_IMAGE_REPO, httpdCommand } from '../support/test-image';

export function dockerClient(vm: VmLayout): Docker {
  return new Docker({ socketPath: vm.dockerSocket });
}

async function answers(docker: Docker): Promise<boolean> {
  try {
    await docker.ping();
    return true;
  } catch {
    return false;
  }
}

/** Starts dockerd unless it already runs and answers; returns true when it had to start it. */
export async function ensureDockerd(vm: VmLayout, timeoutMs = 60_000): Promise<boolean> {
  const docker = dockerClient(vm);
  const running = runningDaemon(vm, DOCKERD);
  if (running !== undefined && (await answers(docker))) return false;
  // Running but not answering: a wedged engine is restarted rather than waited on forever.
  if (running !== undefined) process.kill(running, 'SIGKILL');
  const pid = startDaemon(vm, DOCKERD);
  const deadline = Date.now() + timeoutMs;
  while (!(await answers(docker))) {
    const died = deathNotice(vm, DOCKERD, pid);
    if (died !== undefined) throw new Error(died);
    if (Date.now() > deadline) throw new Error(`${vm.name}: dockerd did not answer on ${vm.dockerSocket} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return true;
}

async function hasImage(docker: Docker, ref: string): Promise<boolean> {
  try {
    await docker.getImage(ref).inspect();
    return true;
  } catch {
    return false;
  }
}

/** Imports the tags that are missing; returns the references it imported. */
export async function ensureTestImages(vm: VmLayout, repo: string): Promise<string[]> {
  const docker = dockerClient(vm);
  const missing: string[] = [];
  for (const tag of LAB_IMAGE_TAGS) if (!(await hasImage(docker, `${repo}:${tag}`))) missing.push(tag);
  return missing.length === 0 ? [] : importTestImage(docker, missing, repo);
}
