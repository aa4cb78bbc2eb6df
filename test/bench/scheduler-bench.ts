/**
 * npm run bench:scheduler — the scheduler on 1,000 nodes with 1,000, 10,000 and 100,000 tasks of one
 * service, as SwarmKit's BenchmarkScheduler1kNodes*Tasks, with and without a constraint (the constraint
 * holds on every third node, like SwarmKit's network-plugin variant).
 *
 * Two measurements per case, medians of several runs:
 *  - core: the placement core alone (NodeSet built from the node objects, then placeTasks), what the
 *    issue asks to compare;
 *  - with store: the Scheduler duty on a local (raft-less) store, from proposing the tasks' creation
 *    until every task is ASSIGNED in the store, as SwarmKit's benchmark measures it (creation commit,
 *    watch, placement, batched writes).
 *   options: --sizes 1000,10000,100000  --nodes 1000  --runs N (core, default 7)  --store-runs N (default 3)
 *            --large-store-runs N (with store at 100,000 tasks, default 1)  --no-store (core only)
 */
import { cpus, loadavg, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { TaskState, type Node, type Task } from '../../agent/api/objects';
import { newTask } from '../../agent/api/task-lifecycle';
import { NodeSet, Scheduler, placeTasks } from '../../agent/manager/scheduler';
import { createLocalStore, newId, type NewObject } from '../../agent/store';
import { silentLogger } from '../../agent/runtime';

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '1000,10000,100000' },
    nodes: { type: 'string', default: '1000' },
    runs: { type: 'string', default: '7' },
    'store-runs': { type: 'string', default: '3' },
    'large-store-runs': { type: 'string', default: '1' },
    'no-store': { type: 'boolean', default: false },
  },
});
const SIZES = values.sizes.split(',').map(Number);
const NODES = Number(values.nodes);
const RUNS = Number(values.runs);
const STORE_RUNS = Number(values['store-runs']);
const LARGE_STORE_RUNS = Number(values['large-store-runs']);
const CONSTRAINT = 'node.labels.special==true';
const T0 = '2025-01-01T00:00:00.000Z';

function makeNodes(count: number): Node[] {
  return Array.from({ length: count }, (_, i): Node => ({
    id: newId(),
    meta: { version: 1, createdAt: T0, updatedAt: T0 },
    role: 'worker',
    spec: { name: `name${i}`, labels: i % 3 === 0 ? { special: 'true' } : ({} as Record<string, string>), role: 'worker', availability: 'active' },
    status: { state: 'ready', message: '', addr: '' },
    description: { hostname: `name${i}`, platform: { os: 'linux', arch: 'x86_64' }, resources: { nanoCpus: 4e9, memoryBytes: 8 * 2 ** 30 } },
  }));
}

/** `count` PENDING tasks of one service, as the orchestrator and allocator would leave them. */
function makeTasks(count: number, constrained: boolean): NewObject<'task'>[] {
  const service = {
    id: newId(),
    meta: { version: 1, createdAt: T0, updatedAt: T0 },
    specVersion: 1,
    spec: {
      name: 'bench',
      labels: {},
      mode: { replicated: { replicas: count } },
      task: { container: { image: 'busybox' }, placement: { constraints: constrained ? [CONSTRAINT] : [] } },
    },
    status: {},
  };
  const now = new Date(T0);
  return Array.from({ length: count }, (_, i) => {
    const t = newTask(service, { slot: i + 1 }, newId(), now);
    return { ...t, status: { state: TaskState.PENDING, message: 'pending task scheduling', timestamp: T0 } };
  });
}

function withMeta(tasks: NewObject<'task'>[]): Task[] {
  return tasks.map((t) => ({ ...t, meta: { version: 1, createdAt: T0, updatedAt: T0 } }));
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

function benchCore(nodes: Node[], tasks: Task[]): number {
  const start = performance.now();
  const set = new NodeSet();
  for (const n of nodes) set.upsertNode(n);
  const result = placeTasks(set, tasks, Date.now());
  const ms = performance.now() - start;
  if (result.assigned.length !== tasks.length) throw new Error(`core placed ${result.assigned.length}/${tasks.length}`);
  return ms;
}

interface StoreRun {
  /** Proposing the creation until every task is ASSIGNED. */
  total: number;
  /** Of which: committing the creation (the store's share, before the scheduler can write). */
  create: number;
  /** Of which: the scheduler's placement decisions (summed over its batches). */
  place: number;
}

async function benchWithStore(nodes: Node[], tasks: NewObject<'task'>[]): Promise<StoreRun> {
  const { store } = createLocalStore();
  await store.batch((b) => {
    for (const n of nodes) b.update((tx) => tx.create('node', n));
  });
  let place = 0;
  const logger = {
    ...silentLogger,
    debug: (message: string, fields?: Readonly<Record<string, unknown>>) => {
      if (message === 'scheduler placed a batch' && typeof fields?.ms === 'number') place += fields.ms;
    },
  };
  const scheduler = new Scheduler({ store, logger });
  scheduler.start();
  let assigned = 0;
  let done: () => void = () => {};
  const finished = new Promise<void>((resolve) => (done = resolve));
  const watch = store.watch({
    kinds: ['task'],
    filter: (ev) => ev.action === 'update' && ev.kind === 'task' && ev.object.status.state === TaskState.ASSIGNED,
    bufferSize: 1 << 20,
  });
  void (async () => {
    for await (const ev of watch) {
      if (ev.type === 'change' && ++assigned === tasks.length) done();
    }
  })();
  const start = performance.now();
  await store.batch((b) => {
    for (const t of tasks) b.update((tx) => tx.create('task', t));
  });
  const create = performance.now() - start;
  await finished;
  const total = performance.now() - start;
  scheduler.stop();
  watch.close();
  return { total, create, place };
}

function fmt(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(ms < 10 ? 2 : 1)} ms`;
}

async function main(): Promise<void> {
  const cpu = cpus();
  console.log(
    `machine: ${cpu.length} × ${cpu[0]?.model ?? '?'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node.js ${process.version}, ` +
      `load average at start ${loadavg().map((l) => l.toFixed(2)).join(' ')}`,
  );
  const nodes = makeNodes(NODES);
  const rows: string[] = [];
  for (const constrained of [false, true]) {
    for (const size of SIZES) {
      const fresh = makeTasks(size, constrained);
      const tasks = withMeta(fresh);
      benchCore(nodes, tasks); // warm-up: JIT
      const core: number[] = [];
      for (let i = 0; i < RUNS; i++) core.push(benchCore(nodes, tasks));
      const stored: StoreRun[] = [];
      // With the store, 100,000 tasks take minutes on a busy 2-core machine: one run unless asked.
      const storeRuns = values['no-store'] ? 0 : size >= 100_000 ? Math.min(STORE_RUNS, LARGE_STORE_RUNS) : STORE_RUNS;
      for (let i = 0; i < storeRuns; i++) stored.push(await benchWithStore(nodes, makeTasks(size, constrained)));
      const label = `${NODES.toLocaleString('en')} nodes, ${size.toLocaleString('en')} tasks${constrained ? ', constraint' : ''}`;
      const storeCell =
        stored.length === 0
          ? '- | - | -'
          : [
              `**${fmt(median(stored.map((r) => r.total)))}** (${stored.map((r) => fmt(r.total)).join(', ')})`,
              fmt(median(stored.map((r) => r.create))),
              fmt(median(stored.map((r) => r.place))),
            ].join(' | ');
      const row = `| ${label} | **${fmt(median(core))}** (${core.map(fmt).join(', ')}) | ${storeCell} |`;
      rows.push(row);
      console.log(row);
    }
  }
  console.log(
    `\n| case | core: median (runs) | with store: median (runs) | of which creation commit | of which placement |\n` +
      `|---|---|---|---|---|\n${rows.join('\n')}`,
  );
  console.log(`constraint: ${CONSTRAINT}, true on every third node`);
  console.log(`load average at end ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
}

await main();
