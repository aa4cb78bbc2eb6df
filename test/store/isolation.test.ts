import { describe, expect, it } from 'vitest';
import { createLocalStore } from '../../agent/store';
import { service, task } from './fixtures';

describe('view isolation', () => {
  it('a view taken before an update does not see it, even while iterating across the apply', async () => {
    const { store } = createLocalStore();
    await store.update((tx) => {
      for (let i = 0; i < 100; i++) tx.create('task', task(`t${String(i).padStart(3, '0')}`, 'sA', i + 1));
    });
    const seen: string[] = [];
    let versionInside = -1;
    // An async view: it keeps its snapshot across awaits while writes apply in between.
    await store.view(async (tx) => {
      versionInside = tx.version;
      let n = 0;
      for (const t of tx.iterate('task')) {
        seen.push(`${t.id}:${t.nodeId}`);
        if (++n === 50) {
          const t99 = tx.get('task', 't099')!;
          await store.update((w) => {
            w.delete('task', 't000');
            w.update('task', { ...t99, nodeId: 'moved' });
            w.create('task', task('t100', 'sA', 101));
          });
          expect(store.get('task', 't099')?.nodeId).toBe('moved');
        }
      }
      expect(tx.get('task', 't000')).toBeDefined();
      expect(tx.get('task', 't100')).toBeUndefined();
      expect(tx.find('task', 'nodeId', 'moved')).toEqual([]);
      expect(tx.count('task')).toBe(100);
    });
    expect(versionInside).toBe(1);
    expect(seen).toHaveLength(100);
    expect(seen[99]).toBe('t099:');
    expect(store.view((tx) => tx.count('task'))).toBe(100);
  });

  it('objects read from a view are frozen', async () => {
    const { store } = createLocalStore();
    const s = await store.createObject('service', service('s1', 'web'));
    expect(() => {
      (s.spec as { name: string }).name = 'x';
    }).toThrow(TypeError);
    expect(() => {
      s.spec.task.container.env?.push('B=2');
    }).toThrow(TypeError);
  });

  it('a write transaction reads a consistent base plus its own writes only', async () => {
    const { store } = createLocalStore();
    await store.createObject('service', service('s1', 'web'));
    const p1 = store.update((tx) => {
      tx.create('service', service('s2', 'api'));
      return tx.count('service');
    });
    const p2 = store.update((tx) => tx.count('service'));
    // The second transaction runs after the first has committed (local writes are serialized).
    expect((await p1).value).toBe(2);
    expect((await p2).value).toBe(2);
  });
});
