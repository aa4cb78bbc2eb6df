/**
 * tsx test/bench/converge-stall.ts [--nodes 1000] [--services 30] [--replicas 1000] [--unbounded]:
 * the leader's orchestration and scheduler alone (no raft, no network: createLocalStore) turning
 * services created at once into ASSIGNED tasks, and how long the event loop was held in one stretch
 * meanwhile — what decides whether a leader keeps heartbeating (raft's election timeout is 1 s, a
 * node's heartbeat 5 s). `--unbounded` lifts the orchestrators' per-transaction and per-batch limits,
 * which is how they worked before (one batch for a whole pass).
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { TaskState } from '../../agent/api/objects';
import { defaultClusterSpec } from '../../agent/manager/cluster-objects';
import { createOrchestration } from '../../agent/manager/orchestrator';
import { DEFAULT_PASS_LIMITS, type PassLimits } from '../../agent/manager/orchestrator/reconcile-pass';
import { Scheduler } from '../../agent/manager/scheduler';
import { createLocalStore } from '../../agent/store';

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '1000' },
    services: { type: 'string', default: '30' },
    replicas: { type: 'string', default: '1000' },
    unbounded: { type: 'boolean', default: false },
  },
});
const nodes = Number(values.nodes);
const services = Number(values.services);
const replicas = Number(values.replicas);
const total = services * replicas;
if (values.unbounded === true) Object.assign(DEFAULT_PASS_LIMITS as PassLimits, { maxTxWrites: Infinity, maxBatchWrites: Infinity });

const { store } = createLocalStore();
await store.createObject('cluster', { id: 'cluster', spec: defaultClusterSpec(), status: {}, rootCa: { caCertPem: '', joinTokens: { worker: '', manager: '' } } });
for (let i = 0; i < nodes; i += 200) {
  await store.update((tx) => {
    for (let j = i; j < Math.min(nodes, i + 200); j++) {
      const id = `node-${String(j).padStart(5, '0')}`;
      tx.create('node', {
        id,
        role: 'worker',
        spec: { labels: {}, role: 'worker', availability: 'active' },
        status: { state: 'ready', message: '', addr: '10.0.0.1' },
        description: { hostname: id, platform: { os: 'linux', arch: 'x86_64' }, resources: { nanoCpus: 4e9, memoryBytes: 8 * 1024 ** 3 } },
      });
    }
  });
}
const logger = { debug: () => {}, info: () => {}, warn: (m: string, f?: unknown) => process.stderr.write(`${(performance.now() / 1000).toFixed(1)} warn ${m} ${JSON.stringify(f)}\n`) };
const orchestration = createOrchestration({ store, logger });
const scheduler = new Scheduler({ store, logger });
orchestration.start();
scheduler.start();

let assigned = 0;
let created = 0;
let createdAt = 0;
const sub = store.watch({ kinds: ['task'], bufferSize: 1 << 20 });
const counting = (async () => {
  for await (const event of sub) {
    if (event.type !== 'change' || event.kind !== 'task') continue;
    if (event.action === 'create' && ++created === total) createdAt = performance.now();
    if (event.action === 'update' && event.object.status.state === TaskState.ASSIGNED && event.oldObject?.status.state !== TaskState.ASSIGNED) {
      if (++assigned === total) return;
    }
  }
})();

const delay = monitorEventLoopDelay({ resolution: 5 });
delay.enable();
// The same stretches in CPU time: on a loaded machine the wall clock stretches them by the load.
let longestCpuMs = 0;
let ticking = true;
let lastCpu = process.cpuUsage();
const tick = () => {
  const now = process.cpuUsage();
  longestCpuMs = Math.max(longestCpuMs, (now.user + now.system - lastCpu.user - lastCpu.system) / 1000);
  lastCpu = now;
  if (ticking) setTimeout(tick, 1);
};
setTimeout(tick, 1);
const cpu = process.cpuUsage();
const started = performance.now();
await Promise.all(
  Array.from({ length: services }, (_, i) =>
    store.createObject('service', {
      id: `service-${i + 1}`,
      spec: { name: `bench-${i + 1}`, labels: {}, mode: { replicated: { replicas } }, task: { container: { image: 'swarmdesk-bench:1', command: ['/bin/true'] } } },
      status: {},
      specVersion: 1,
    }),
  ),
);
await counting;
const elapsed = performance.now() - started;
const used = process.cpuUsage(cpu);
delay.disable();
ticking = false;
sub.close();
scheduler.stop();
orchestration.stop();

const ms = (ns: number) => `${(ns / 1e6).toFixed(0)} ms`;
process.stdout.write(
  `${values.unbounded === true ? 'unbounded' : 'bounded'}: ${services} × ${replicas} tasks on ${nodes} nodes: all created ${(createdAt - started).toFixed(0)} ms, all ASSIGNED ${elapsed.toFixed(0)} ms, CPU ${((used.user + used.system) / 1000).toFixed(0)} ms; ` +
    `event loop held at most ${ms(delay.max)} in one stretch (${longestCpuMs.toFixed(0)} ms of CPU; p99 ${ms(delay.percentile(99))}), load ${loadavg()[0]?.toFixed(1)}\n`,
);
