/** Starts a three-member etcd on loopback (Debian's etcd-server) so our numbers have a peer to compare. */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { stopChildren } from './child-processes';

const run = promisify(execFile);

export interface EtcdCluster {
  leaderClientAddress: string;
  version: string;
  /** The members' process ids (for CPU accounting), in member order. */
  pids: number[];
  /** Which of `pids` leads. */
  leaderIndex: number;
  stop(): Promise<void>;
}

export async function etcdAvailable(): Promise<boolean> {
  try {
    await run('etcd', ['--version']);
    return true;
  } catch {
    return false;
  }
}

export async function startEtcdCluster(basePort: number): Promise<EtcdCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'swarmdesk-etcd-'));
  const names = ['e1', 'e2', 'e3'];
  const clientPort = (i: number) => basePort + i * 2;
  const peerPort = (i: number) => basePort + i * 2 + 1;
  const initialCluster = names.map((n, i) => `${n}=http://127.0.0.1:${peerPort(i)}`).join(',');
  const processes: ChildProcess[] = names.map((name, i) =>
    spawn(
      'etcd',
      [
        '--name', name,
        '--data-dir', join(dir, name),
        '--listen-client-urls', `http://127.0.0.1:${clientPort(i)}`,
        '--advertise-client-urls', `http://127.0.0.1:${clientPort(i)}`,
        '--listen-peer-urls', `http://127.0.0.1:${peerPort(i)}`,
        '--initial-advertise-peer-urls', `http://127.0.0.1:${peerPort(i)}`,
        '--initial-cluster', initialCluster,
        '--initial-cluster-state', 'new',
        '--initial-cluster-token', 'swarmdesk-bench',
        '--log-level', 'error',
      ],
      { stdio: 'ignore', env: { ...process.env, ETCD_UNSUPPORTED_ARCH: process.arch === 'x64' ? '' : process.arch } },
    ),
  );
  const endpoints = names.map((_, i) => `127.0.0.1:${clientPort(i)}`);
  const stop = async () => {
    await stopChildren(processes);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const deadline = Date.now() + 30_000;
    while (true) {
      try {
        const { stdout } = await run('etcdctl', ['--endpoints', endpoints.join(','), 'endpoint', 'status', '-w', 'json'], {
          env: { ...process.env, ETCDCTL_API: '3' },
        });
        // Member ids are uint64: compare them as digit strings, not as (rounded) JSON numbers.
        const members = stdout.split('{"Endpoint":').slice(1).map((part) => `"Endpoint":${part}`);
        for (const member of members) {
          const endpoint = /"Endpoint":"([^"]+)"/.exec(member)?.[1];
          const id = /"member_id":(\d+)/.exec(member)?.[1];
          const leader = /"leader":(\d+)/.exec(member)?.[1];
          const version = /"version":"([^"]+)"/.exec(member)?.[1] ?? 'unknown';
          if (endpoint && id && id === leader && members.length === 3) {
            return { leaderClientAddress: endpoint, version, pids: processes.map((p) => p.pid ?? 0), leaderIndex: endpoints.indexOf(endpoint), stop };
          }
        }
      } catch {
        // not up yet
      }
      if (Date.now() > deadline) throw new Error('etcd cluster did not elect a leader within 30 s');
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
  } catch (error) {
    await stop();
    throw error;
  }
}
