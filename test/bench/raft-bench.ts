/**
 * npm run bench:raft — three raft members in separate processes on loopback, gRPC transport, fsync on,
 * 256-byte values: writes per second and latency for one client and for 100 concurrent clients. When
 * Debian's etcd-server is installed, the same load runs against a three-member etcd for comparison.
 *   options: --sequential N (default 3000)  --concurrent N (default 30000)  --clients N (default 100)
 *            --systems swarmdesk,etcd (which to run; also swarmdesk-eager: commit indexes announced at once;
 *              swarmdesk-blocking-wal: WAL writes block the members' loops, never the product's way, to
 *              measure what the thread pool's hand-offs cost)
 *            --cpu-prof DIR (members write V8 CPU profiles there)
 *            --rounds N (default 1: run the systems N times, every other round in reverse order, and print
 *              medians and each round's ratio to etcd — single runs on a shared machine swing by ±20 %;
 *              name each system once, the rounds do the repeating)
 * Besides writes/s it prints each process's CPU time per write (client, leader, followers): that barely
 * moves with other load on the machine, so it is the number to compare two versions by.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { stopChildren } from './child-processes';
import { etcdAvailable, startEtcdCluster } from './etcd-cluster';
import { cpuMeter } from './process-cpu';
import { etcdPutRequest, RawUnaryClient } from './grpc-unary';
import { type LoadResult, runLoad } from './load';

const { values } = parseArgs({
  options: {
    sequential: { type: 'string', default: '3000' },
    concurrent: { type: 'string', default: '30000' },
    clients: { type: 'string', default: '100' },
    systems: { type: 'string', default: 'swarmdesk,etcd' },
    'cpu-prof': { type: 'string' },
    rounds: { type: 'string', default: '1' },
  },
});
const SEQUENTIAL_OPS = Number(values.sequential);
const CONCURRENT_OPS = Number(values.concurrent);
const CLIENTS = Number(values.clients);
const ROUNDS = Number(values.rounds);
const VALUE = Buffer.alloc(256, 'v');
const BASE_PORT = 24000 + Math.floor(Math.random() * 2000) * 10;

interface Target {
  name: string;
  put(client: RawUnaryClient, key: string): Promise<unknown>;
  address: string;
  /** The members' process ids, and which of them leads. */
  pids: number[];
  leader: number;
  stop(): Promise<void>;
}

interface Phase {
  load: LoadResult;
  /** CPU ms per write: the client (this process), then each member. */
  cpuPerWrite: number[];
}

/** The product's members, or one of two variants kept for comparison (see the options above). */
type SwarmdeskVariant = 'as shipped' | 'eager commit' | 'blocking WAL';

async function startSwarmdeskRaft(variant: SwarmdeskVariant = 'as shipped'): Promise<Target> {
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
      ...(variant === 'eager commit' ? ['--eager-commit'] : []),
      ...(variant === 'blocking WAL' ? ['--blocking-wal'] : []),
    ], { execArgv: ['--import', 'tsx', ...profileArgs(id)], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }),
  );
  await Promise.all(children.map((child) => new Promise((resolve, reject) => {
    child.once('message', resolve);
    child.once('exit', (code) => reject(new Error(`member exited with ${code}`)));
  })));
  const stop = async () => {
    // The members write their CPU profiles as they exit.
    await stopChildren(children);
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
          name: variant === 'as shipped' ? 'swarmdesk raft' : `swarmdesk raft (${variant})`,
          address: `127.0.0.1:${benchPort(id)}`,
          pids: children.map((child) => child.pid ?? 0),
          leader: ids.indexOf(id),
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
    pids: cluster.pids,
    leader: cluster.leaderIndex,
    put: (client, key) => client.call('/etcdserverpb.KV/Put', etcdPutRequest(Buffer.from(key), VALUE)),
    stop: cluster.stop,
  };
}

function profileArgs(id: number): string[] {
  const dir = values['cpu-prof'];
  // One directory per member: the tsx loader's worker thread writes a profile of its own next to the main thread's.
  return dir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', join(dir, `member-${id}`)];
}

async function phase(target: Target, run: () => Promise<LoadResult>): Promise<Phase> {
  // What each process burns doing nothing (heartbeats, timers) is measured first and taken off, so a
  // slower run (a busier machine) does not charge its longer idle time to its writes.
  // Half a second first, so the previous phase's stragglers (its last answers, garbage collection) settle.
  await new Promise((resolve) => setTimeout(resolve, 500));
  const idle = cpuMeter(target.pids);
  const idleStarted = performance.now();
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const idleMsPerMs = idle().map((ms) => ms / (performance.now() - idleStarted));
  const cpu = cpuMeter(target.pids);
  const load = await run();
  const elapsedMs = load.seconds * 1000;
  return { load, cpuPerWrite: cpu().map((ms, i) => Math.max(0, ms - idleMsPerMs[i] * elapsedMs) / Math.max(1, load.operations)) };
}

async function measure(target: Target): Promise<{ sequential: Phase; concurrent: Phase }> {
  const clients = Array.from({ length: CLIENTS }, () => new RawUnaryClient(target.address));
  try {
    // Warm up connections and the JIT.
    await runLoad({ clients: CLIENTS, operations: 2000, operation: (c, i) => target.put(clients[c], `warm${i}`).then(() => undefined) });
    const sequential = await phase(target, () =>
      runLoad({ clients: 1, operations: SEQUENTIAL_OPS, operation: (c, i) => target.put(clients[0], `seq${i % 1000}`).then(() => undefined) }),
    );
    const concurrent = await phase(target, () =>
      runLoad({ clients: CLIENTS, operations: CONCURRENT_OPS, operation: (c, i) => target.put(clients[c], `con${i % 1000}`).then(() => undefined) }),
    );
    return { sequential, concurrent };
  } finally {
    for (const c of clients) c.close();
  }
}

function row(name: string, mode: string, r: LoadResult): string {
  return `| ${name} | ${mode} | ${r.clients} | ${r.operations} | ${Math.round(r.perSecond)} | ${r.p50Ms.toFixed(2)} | ${r.p99Ms.toFixed(2)} | ${r.errors} |`;
}

function cpuRow(name: string, mode: string, target: Target, p: Phase): string {
  const [client, ...members] = p.cpuPerWrite;
  const followers = members.filter((_, i) => i !== target.leader).map((ms) => ms.toFixed(2)).join(' / ');
  const total = p.cpuPerWrite.reduce((sum, ms) => sum + ms, 0);
  return `| ${name} | ${mode} | ${client.toFixed(2)} | ${members[target.leader].toFixed(2)} | ${followers} | ${total.toFixed(2)} |`;
}

/** One system's results in one round. */
interface Measured {
  name: string;
  target: Target;
  sequential: Phase;
  concurrent: Phase;
}

async function main(): Promise<void> {
  if (!Number.isInteger(ROUNDS) || ROUNDS < 1) throw new Error(`--rounds wants a positive whole number, not ${values.rounds}`);
  console.log(`machine: ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}`);
  // In the order given, so interleaved runs can swap which system goes first.
  const targets: (() => Promise<Target>)[] = [];
  for (const system of (values.systems ?? '').split(',')) {
    if (system === 'swarmdesk') targets.push(() => startSwarmdeskRaft());
    else if (system === 'swarmdesk-eager') targets.push(() => startSwarmdeskRaft('eager commit'));
    else if (system === 'swarmdesk-blocking-wal') targets.push(() => startSwarmdeskRaft('blocking WAL'));
    else if (system !== 'etcd') throw new Error(`unknown system ${system} (swarmdesk, swarmdesk-eager, swarmdesk-blocking-wal, etcd)`);
    else if (await etcdAvailable()) targets.push(startEtcd);
    else console.log('etcd not installed (apt-get install etcd-server etcd-client): measuring swarmdesk only');
  }
  const rounds: Measured[][] = [];
  for (let round = 0; round < ROUNDS; round++) {
    // Every other round in reverse, so no system always runs first (on a fresh page cache, a cooler CPU).
    const order = round % 2 === 0 ? targets : [...targets].reverse();
    const measured: Measured[] = [];
    for (const start of order) {
      const target = await start();
      try {
        const result = await measure(target);
        measured.push({ name: target.name, target, ...result });
        if (ROUNDS > 1) console.log(`round ${round + 1}: ${target.name}: sequential ${Math.round(result.sequential.load.perSecond)}/s, concurrent ${Math.round(result.concurrent.load.perSecond)}/s`);
      } finally {
        await target.stop();
      }
    }
    rounds.push(measured);
    if (round === 0) printTables(measured);
  }
  if (ROUNDS > 1) printSummary(rounds);
}

function printTables(results: Measured[]): void {
  console.log('| system | load | clients | writes | writes/s | p50 ms | p99 ms | errors |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const r of results) console.log(`${row(r.target.name, 'sequential', r.sequential.load)}\n${row(r.target.name, 'concurrent', r.concurrent.load)}`);
  console.log('\nCPU ms per write, idle use taken off (/proc/<pid>/task/*/schedstat):');
  console.log('| system | load | client | leader | followers | total |');
  console.log('|---|---|---|---|---|---|');
  for (const r of results) console.log(`${cpuRow(r.target.name, 'sequential', r.target, r.sequential)}\n${cpuRow(r.target.name, 'concurrent', r.target, r.concurrent)}`);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** Medians over the rounds, and each round's ratio to etcd measured in that same round. */
function printSummary(rounds: Measured[][]): void {
  const names = [...new Set(rounds.flat().map((m) => m.name))];
  const etcdName = names.find((name) => name.startsWith('etcd'));
  const cpuTotal = (p: Phase) => p.cpuPerWrite.reduce((sum, ms) => sum + ms, 0);
  console.log(`\nMedians of ${rounds.length} rounds (ratios: each round against etcd in the same round, then their median):`);
  console.log('| system | sequential writes/s | ratio | p50 ms | concurrent writes/s | ratio | p50 ms | CPU ms/write seq / conc |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const name of names) {
    const own = rounds.map((round) => round.find((m) => m.name === name)).filter((m): m is Measured => m !== undefined);
    const ratios = (mode: 'sequential' | 'concurrent') => {
      if (etcdName === undefined || name === etcdName) return '';
      const perRound = rounds.flatMap((round) => {
        const mine = round.find((m) => m.name === name);
        const etcd = round.find((m) => m.name === etcdName);
        return mine && etcd ? [mine[mode].load.perSecond / etcd[mode].load.perSecond] : [];
      });
      return `${median(perRound).toFixed(2)}× (${perRound.map((r) => r.toFixed(2)).join(', ')})`;
    };
    const perSecond = (mode: 'sequential' | 'concurrent') => Math.round(median(own.map((m) => m[mode].load.perSecond)));
    const p50 = (mode: 'sequential' | 'concurrent') => median(own.map((m) => m[mode].load.p50Ms)).toFixed(2);
    console.log(
      `| ${name} | ${perSecond('sequential')} | ${ratios('sequential')} | ${p50('sequential')} | ${perSecond('concurrent')} | ${ratios('concurrent')} | ${p50('concurrent')} | ` +
        `${median(own.map((m) => cpuTotal(m.sequential))).toFixed(2)} / ${median(own.map((m) => cpuTotal(m.concurrent))).toFixed(2)} |`,
    );
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
