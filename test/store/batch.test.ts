import { describe, expect, it } from 'vitest';
import { ApiError } from '../../agent/api/errors';
import { TaskState } from '../../agent/api/objects';
import { createLocalStore } from '../../agent/store';
import { SharedLog, service, task, tick } from './fixtures';

function entrySizes(log: { data: Uint8Array }[]): number[] {
  return log.map((e) => e.data.length);
}

describe('batch', () => {
  it('splits many writes into bounded entries, each applied atomically', async () => {
    const max = 16 * 1024;
    const { store, proposer } = createLocalStore({ record: true, maxEntryBytes: max });
    const res = await store.batch((b) => {
      for (let i = 0; i < 1000; i++) b.update((tx) => tx.create('task', task(`t${String(i).padStart(4, '0')}`, 'sA', i + 1)));
      return 'ok';
    });
    expect(res.value).toBe('ok');
    expect(res.changes).toHaveLength(1000);
    expect(proposer.log.length).toBeGreaterThan(5);
    expect(res.versions).toEqual(proposer.log.map((e) => e.index));
    for (const size of entrySizes(proposer.log)) expect(size).toBeLessThanOrEqual(max);
    // Entries are well filled (not one object each).
    expect(proposer.log.length).toBeLessThan(Math.ceil((1000 * 300) / max) * 2);
    expect(store.view((tx) => tx.count('task'))).toBe(1000);
    expect(res.changes.map((c) => c.object.meta.version)).toEqual(
      res.changes.map((c) => proposer.log.find((e) => new TextDecoder().decode(e.data).includes(`"${c.object.id}"`))?.index),
    );
  });

  it('lets a later entry update what an earlier entry of the same batch wrote', async () => {
    const { store, proposer } = createLocalStore({ record: true, maxEntryBytes: 4096 });
    await store.createObject('service', service('s1', 'web'));
    const res = await store.batch((b) => {
      b.update((tx) => tx.create('task', task('t-first', 's1', 1)));
      for (let i = 0; i < 40; i++) b.update((tx) => tx.create('task', task(`filler-${i}`, 's1', i + 2)));
      b.update((tx) => {
        const t = tx.get('task', 't-first')!;
        tx.update('task', { ...t, nodeId: 'n1' });
        const s = tx.get('service', 's1')!;
        tx.update('service', { ...s, specVersion: 2 });
      });
      b.update((tx) => {
        const s = tx.get('service', 's1')!;
        tx.update('service', { ...s, specVersion: 3 });
      });
    });
    expect(proposer.log.length).toBeGreaterThan(2);
    expect(store.get('task', 't-first')?.nodeId).toBe('n1');
    expect(store.get('task', 't-first')?.meta.version).toBe(res.versions.at(-1));
    expect(store.get('service', 's1')?.specVersion).toBe(3);
  });

  it('rolls back one failing callback and carries on', async () => {
    const { store } = createLocalStore();
    await store.createObject('service', service('s1', 'web'));
    const errors: string[] = [];
    await store.batch((b) => {
      b.update((tx) => tx.create('task', task('t1', 's1', 1)));
      try {
        b.update((tx) => {
          tx.create('task', task('t2', 's1', 2));
          tx.create('service', service('s2', 'WEB'));
        });
      } catch (err) {
        errors.push((err as ApiError).code);
      }
      b.update((tx) => {
        expect(tx.get('task', 't2')).toBeUndefined();
        tx.create('task', task('t3', 's1', 3));
      });
    });
    expect(errors).toEqual(['AlreadyExists']);
    expect(store.view((tx) => tx.list('task').map((t) => t.id))).toEqual(['t1', 't3']);
  });

  it('stops at the first rejected entry and reports how far it got', async () => {
    const log = new SharedLog();
    log.setAutoFlush(true);
    const a = log.addNode({ maxEntryBytes: 4096 });
    const b = log.addNode();
    await a.batch((bt) => {
      for (let i = 0; i < 30; i++) bt.update((tx) => tx.create('task', task(`t${String(i).padStart(2, '0')}`, 's', i)));
    });
    const t25 = a.get('task', 't25')!;
    const batch = a.batch((bt) => {
      for (let i = 0; i < 30; i++) {
        bt.update((tx) => {
          const t = tx.get('task', `t${String(i).padStart(2, '0')}`)!;
          tx.update('task', { ...t, desiredState: TaskState.SHUTDOWN });
        });
      }
    });
    // Another manager changes a task that sits in a later entry of the batch before it applies.
    await b.updateObject('task', { ...t25, nodeId: 'elsewhere' });
    const err = await batch.then(
      () => null,
      (e: unknown) => e as ApiError,
    );
    await tick();
    expect(err?.code).toBe('Conflict');
    expect(err?.details.committedEntries).toBeGreaterThan(0);
    expect(err?.details.totalEntries).toBeGreaterThan(Number(err?.details.committedEntries));
    const shutdown = a.view((tx) => tx.find('task', 'desiredState', TaskState.SHUTDOWN).length);
    expect(shutdown).toBeGreaterThan(0);
    expect(shutdown).toBeLessThan(30);
    expect(a.get('task', 't25')?.desiredState).toBe(TaskState.RUNNING);
  });

  it('rejects use of the batch handle after the callback returns', async () => {
    const { store } = createLocalStore();
    let saved: { update(fn: () => void): void } | undefined;
    await store.batch((b) => {
      saved = b;
    });
    expect(() => saved?.update(() => undefined)).toThrow(ApiError);
  });
});
