/**
 * tsx test/bench/store-write-path.ts [--tasks N] [--per-tx N]: the store's write path alone, as the
 * leader runs it creating a service's tasks: transactions of `per-tx` task creates on a raft-less
 * store (createLocalStore), so the time is building the transaction (serialize, freeze, overlay
 * indexes), encoding the entry and applying it (decode, freeze, indexes, watch events).
 */
import { parseArgs } from 'node:util';
import type { Service } from '../../agent/api/objects';
import { newTask } from '../../agent/api/task-lifecycle';
import { createLocalStore, newId } from '../../agent/store';

const { values } = parseArgs({ options: { tasks: { type: 'string', default: '30000' }, 'per-tx': { type: 'string', default: '500' }, runs: { type: 'string', default: '3' } } });
const total = Number(values.tasks);
const perTx = Number(values['per-tx']);

async function run(): Promise<{ ms: number; cpuMs: number }> {
  const { store } = createLocalStore();
  const { value: service } = await store.update((tx) =>
    tx.create('service', {
      id: newId(),
      spec: { name: 'bench', labels: {}, mode: { replicated: { replicas: total } }, task: { container: { image: 'swarmdesk-bench:1', command: ['/bin/true'] } } },
      status: {},
      specVersion: 1,
    }),
  );
  const sub = store.watch({ kinds: ['task'], bufferSize: 1 << 20 });
  const started = performance.now();
  const cpu = process.cpuUsage();
  for (let slot = 1; slot <= total; ) {
    await store.batch((b) =>
      b.update((tx) => {
        for (let i = 0; i < perTx && slot <= total; i++, slot++) tx.create('task', newTask(service as Service, { slot }, newId(), new Date()));
      }),
    );
  }
  const elapsed = performance.now() - started;
  const used = process.cpuUsage(cpu);
  sub.close();
  return { ms: elapsed, cpuMs: (used.user + used.system) / 1000 };
}

for (let r = 0; r < Number(values.runs); r++) {
  const { ms, cpuMs } = await run();
  process.stdout.write(`${total} tasks, ${perTx} per transaction: ${ms.toFixed(0)} ms, CPU ${cpuMs.toFixed(0)} ms, ${((cpuMs * 1000) / total).toFixed(0)} us of CPU a task\n`);
}
