/**
 * A cluster for provisioning tests: one real swarmd manager on this machine, listening on the lab
 * bridge's host address so lab VMs can join it, and a ControlClient on its control socket.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { ControlClient } from '../../agent/api/control-client';
import { SwarmdProcess } from '../cluster/harness';

export interface HostManager {
  control: ControlClient;
  process: SwarmdProcess;
  /** host:port VMs join through. */
  address: string;
  port: number;
  stop(): Promise<void>;
}

/** A port free on `ip` now (4242 may be taken on 0.0.0.0 by anything else running on this machine). */
async function freePortOn(ip: string): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, ip, () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolvePort(port));
    });
  });
}

export async function startHostManager(hostIp: string): Promise<HostManager> {
  const port = await freePortOn(hostIp);
  const stateDir = await mkdtemp(join(tmpdir(), 'swarmdesk-provision-manager-'));
  const proc = new SwarmdProcess('host-manager', stateDir, port, [
    '--state-dir', stateDir,
    '--listen-remote-api', `${hostIp}:${port}`,
    '--hostname', 'host-manager',
    // The manager runs no tasks in these tests: no engine.
    '--engine-addr', join(stateDir, 'no-docker.sock'),
  ]);
  await proc.start();
  const control = ControlClient.forSocket(proc.socket);
  return {
    control,
    process: proc,
    address: `${hostIp}:${port}`,
    port,
    stop: async () => {
      control.close();
      await proc.stop();
      await rm(stateDir, { recursive: true, force: true });
    },
  };
}
