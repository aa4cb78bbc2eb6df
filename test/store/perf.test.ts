import { describe, expect, it } from 'vitest';
import { createLocalStore } from '../../agent/store';
import { task } from './fixtures';

describe('performance sanity', () => {
  it('creates 100k tasks in batches and serves indexed lookups in O(log n + k)', async () => {
    const { store, proposer } = createLocalStore({ record: true });
    const services = 1000;
    const perService = 100;
    for (let chunk = 0; chunk < 10; chunk++) {
      await store.batch((b) => {
        for (let s = chunk * 100; s < (chunk + 1) * 100; s++) {
          b.update((tx) => {
            for (let i = 1; i <= perService; i++) tx.create('task', task(`task-${s}-${i}`, `svc-${s}`, i, `node-${i % 50}`));
          });
        }
      });
    }
    expect(store.view((tx) => tx.count('task'))).toBe(services * perService);
    // ~300 bytes per task, 1 MiB entries: a few dozen entries, not thousands.
    expect(proposer.log.length).toBeLessThan(100);

    const { found, visited } = store.view((tx) => ({ found: tx.find('task', 'serviceId', 'svc-500'), visited: tx.nodesVisited }));
    expect(found).toHaveLength(perService);
    expect(found.every((t) => t.serviceId === 'svc-500')).toBe(true);
    // Each of the k results costs an index step plus an id lookup (~log2(100k) = 17 nodes); a scan would be 100k.
    const log2n = Math.log2(services * perService);
    expect(visited).toBeLessThan(perService * 2 * (log2n + 2));
    expect(visited).toBeLessThan(services * perService / 20);

    const slot = store.view((tx) => ({ r: tx.find('task', 'slot', 'svc-999', 42), v: tx.nodesVisited }));
    expect(slot.r.map((t) => t.id)).toEqual(['task-999-42']);
    expect(slot.v).toBeLessThan(4 * (log2n + 2));

    const prefix = store.view((tx) => ({ r: tx.findByIdPrefix('task', 'task-77-7'), v: tx.nodesVisited }));
    expect(prefix.r.id).toBe('task-77-7');
    expect(prefix.v).toBeLessThan(4 * (log2n + 2));

    // A write touches O(log n) nodes, so one more small transaction after 100k objects is cheap too.
    const t = store.get('task', 'task-1-1')!;
    const updated = await store.updateObject('task', { ...t, nodeId: 'node-x' });
    expect(store.view((tx) => tx.find('task', 'nodeId', 'node-x').map((x) => x.id))).toEqual([updated.id]);
  }, 120_000);
});
