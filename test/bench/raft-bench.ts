/**
 * npm run bench:raft — three raft members in separate processes on loopback, gRPC transport, fsync on,
 * 256-byte values: writes per second and latency for one client and for 100 concurrent clients. When
 * Debian's etcd-server is installed, the same load runs against a three-member etcd for comparison.
 *   options: --sequential N (default 3000)  --concurrent N (default 30000)  --clients N (default 100)
 */
import { type ChildProcess, fork } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { etcdAvailable, startEtcdCluster } from './etcd-cluster';
import { etcdPutRequest, RawUnaryClient } from './grpc-unary';
import { type LoadResult, runLoad } from './load';

const { values } = parseArgs({
  options: {
    sequential: { type: 'string', default: '3000' },
    concurrent: { type: 'string', default: '30000' },
    clients: { type: 'string', default: '100' },
  },
});
const SEQUENTIAL_OPS = Number(values.sequential);
const CONCURRENT_OPS = Number(values.concurrent);
const CLIENTS = Number(values.clients);
const VALUE = Buffer.alloc(256, 'v');
const BASE_PORT = 24000 + Math.floor(Math.random() * 2000) * 10;

interface Target {
  name: string;
  put(client: RawUnaryClient, key: string): Promise<unknown>;
  address: string;
  stop(): Promise<void>;
}

async function startSwarmdeskRaft(): Promise<Target> {
  const dir = await mkdtemp(join(tmpdir(), 'swarmdesk-raft-bench-'));
  const ids = [1, 2, 3];
  const raftPort = (id: number) => BASE_PORT + id;
  const benchPort = (id: number) => BASE_PORT + 100 + id;
  const children: ChildProcess[] = ids.map((id) =>
    fork(join(import.meta.dirname, 'raft-bench-member.ts'), [
      '--id', String(id),
      '--port', String(raftPort(id)),
      '--bench-port', String(benchPort(id)),
      '--dir', join(dir, `m${id}`),
      '--peers', ids.filter((p) => p !== id).map((p) => `${p}=127.0.0.1:${raftPort(p)}`).join(','),
    ], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }),
  );
  await Promise.all(children.map((child) => new Promise((resolve, reject) => {
    child.once('message', resolve);
    child.once('exit', (code) => reject(new Error(`member exited with ${code}`)));
  })));
  const stop = async () => {
    for (const child of children) child.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 300));
    await rm(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    for (const id of ids) {
      const probe = new RawUnaryClient(`127.0.0.1:${benchPort(id)}`);
      const role = await probe.call('/swarmdesk.bench.Kv/Role', Buffer.alloc(0)).catch(() => Buffer.from('down'));
      probe.close();
      if (role.toString() === 'leader') {
        return {
          name: 'swarmdesk raft',
          address: `127.0.0.1:${benchPort(id)}`,
          put: (client, key) => client.call('/swarmdesk.bench.Kv/Put', Buffer.concat([Buffer.from(`${key}=`), VALUE])),
          stop,
        };
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  await stop();
  throw new Error('no raft leader within 20 s');
}

async function startEtcd(): Promise<Target> {
  const cluster = await startEtcdCluster(BASE_PORT + 500);
  return {
    name: `etcd ${cluster.version}`,
    address: cluster.leaderClientAddress,
    put: (client, key) => client.call('/etcdserverpb.KV/Put', etcdPutRequest(Buffer.from(key), VALUE)),
    stop: cluster.stop,
  };
}

async function measure(target: Target): Promise<{ sequential: LoadResult; concurrent: LoadResult }> {
  const clients = Array.from({ length: CLIENTS }, () => new RawUnaryClient(target.address));
  try {
    // Warm up connections and the JIT.
    await runLoad({ clients: CLIENTS, operations: 2000, operation: (c, i) => target.put(clients[c], `warm${i}`).then(() => undefined) });
    const sequential = await runLoad({ clients: 1, operations: SEQUENTIAL_OPS, operation: (c, i) => target.put(clients[0], `seq${i % 1000}`).then(() => undefined) });
    const concurrent = await runLoad({ clients: CLIENTS, operations: CONCURRENT_OPS, operation: (c, i) => target.put(clients[c], `con${i % 1000}`).then(() => undefined) });
    return { sequential, concurrent };
  } finally {
    for (const c of clients) c.close();
  }
}

function row(name: string, mode: string, r: LoadResult): string {
  return `| ${name} | ${mode} | ${r.clients} | ${r.operations} | ${Math.round(r.perSecond)} | ${r.p50Ms.toFixed(2)} | ${r.p99Ms.toFixed(2)} | ${r.errors} |`;
}

async function main(): Promise<void> {
  console.log(`machine: ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}`);
  const rows: string[] = [];
  const targets: (() => Promise<Target>)[] = [startSwarmdeskRaft];
  if (await etcdAvailable()) targets.push(startEtcd);
  else console.log('etcd not installed (apt-get install etcd-server etcd-client): measuring swarmdesk only');
  for (const start of targets) {
    const target = await start();
    try {
      const result = await measure(target);
      rows.push(row(target.name, 'sequential', result.sequential), row(target.name, 'concurrent', result.concurrent));
    } finally {
      await target.stop();
    }
  }
  console.log('| system | load | clients | writes | writes/s | p50 ms | p99 ms | errors |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const r of rows) console.log(r);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
