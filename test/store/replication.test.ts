import { describe, expect, it } from 'vitest';
import { ApiError } from '../../agent/api/errors';
import { TaskState } from '../../agent/api/objects';
import { MemoryStore, createLocalStore, type StoreEvent } from '../../agent/store';
import { SharedLog, cluster, network, node, secret, service, steppingClock, task, tick } from './fixtures';

const never = { propose: () => Promise.reject(new Error('read-only')), linearizableBarrier: async () => undefined };

async function buildHistory(store: MemoryStore): Promise<void> {
  await store.update((tx) => {
    tx.create('cluster', cluster('c1'));
    tx.create('node', node('n1', 'alpha'));
    tx.create('node', node('n2', 'beta'));
    tx.create('network', network('net1', 'ingress'));
    tx.create('secret', secret('x1', 'tls-key'));
  });
  await store.batch((b) => {
    for (let s = 0; s < 5; s++) {
      b.update((tx) => {
        tx.create('service', service(`s${s}`, `svc-${s}`, 4));
        for (let i = 1; i <= 4; i++) tx.create('task', task(`s${s}-t${i}`, `s${s}`, i, i % 2 ? 'n1' : 'n2'));
      });
    }
  });
  const t = store.get('task', 's1-t1')!;
  await store.updateObject('task', { ...t, status: { ...t.status, state: TaskState.RUNNING, message: 'started' } });
  await store.deleteObject('task', 's2-t2');
  // A rejected entry: it is committed, changes nothing, but still advances the applied index.
  await store.updateObject('task', t).catch(() => undefined);
}

describe('deterministic apply', () => {
  it('two stores fed the same entries end with byte-identical snapshots', async () => {
    const { store, proposer } = createLocalStore({ record: true, now: steppingClock(), maxEntryBytes: 2048 });
    await buildHistory(store);
    const replica = new MemoryStore(never);
    for (const e of proposer.log) replica.apply(e.data, e.index);
    expect(proposer.log.length).toBeGreaterThan(4);
    expect(replica.version).toBe(store.version);
    expect(Buffer.from(replica.snapshot()).equals(Buffer.from(store.snapshot()))).toBe(true);
    // Replay on a third store at a different wall-clock time: timestamps come from the entries.
    const later = new MemoryStore(never, { now: () => new Date('2099-01-01T00:00:00Z') });
    for (const e of proposer.log) later.apply(e.data, e.index);
    expect(Buffer.from(later.snapshot()).equals(Buffer.from(store.snapshot()))).toBe(true);
  });

  it('rejects conflicting writes from two managers identically on both', async () => {
    const log = new SharedLog();
    const a = log.addNode();
    const b = log.addNode();
    const created = a.createObject('service', service('s1', 'web'));
    await tick();
    log.flush();
    const s1 = await created;
    // Both managers read version 1 and write concurrently; the later entry must lose everywhere.
    const fromA = a.updateObject('service', { ...s1, spec: { ...s1.spec, labels: { by: 'a' } } });
    const fromB = b.updateObject('service', { ...s1, spec: { ...s1.spec, labels: { by: 'b' } } });
    await tick();
    expect(log.entries).toHaveLength(3);
    log.flush();
    expect((await fromA).spec.labels).toEqual({ by: 'a' });
    await expect(fromB).rejects.toMatchObject({ code: 'Conflict' });
    // Both managers see the name free and create; the later one must fail on every manager.
    const nameA = a.createObject('network', network('na', 'shared'));
    const nameB = b.createObject('network', network('nb', 'shared'));
    await tick();
    log.flush();
    expect((await nameA).id).toBe('na');
    await expect(nameB).rejects.toMatchObject({ code: 'AlreadyExists' });
    expect(Buffer.from(a.snapshot()).equals(Buffer.from(b.snapshot()))).toBe(true);
    expect(b.get('service', 's1')?.spec.labels).toEqual({ by: 'a' });
  });

  it('rejects malformed and replayed entries without changing state', () => {
    const store = new MemoryStore(never);
    const bad = store.apply(new TextEncoder().encode('{"v":1,"ts":"x","a":[["c","bogus",{}]]}'), 1);
    expect(bad).toMatchObject({ ok: false, version: 1, error: { code: 'InvalidArgument' } });
    expect(store.apply(new TextEncoder().encode('not json'), 2)).toMatchObject({ ok: false });
    const good = new TextEncoder().encode(
      `{"v":1,"ts":"2025-01-01T00:00:00.000Z","a":[["c","service",${JSON.stringify(service('s1', 'web'))}]]}`,
    );
    expect(store.apply(good, 3)).toMatchObject({ ok: true, version: 3 });
    expect(store.apply(good, 3)).toMatchObject({ ok: false, error: { code: 'FailedPrecondition' } });
    expect(store.apply(good, 4)).toMatchObject({ ok: false, error: { code: 'AlreadyExists' } });
    expect(store.version).toBe(4);
    expect(store.get('service', 's1')?.meta).toEqual({
      version: 3,
      createdAt: '2025-01-01T00:00:00.000Z',
      updatedAt: '2025-01-01T00:00:00.000Z',
    });
    // An empty entry (a new leader's no-op) only advances the index.
    expect(store.apply(new Uint8Array(), 5)).toMatchObject({ ok: true, changes: [] });
    expect(store.version).toBe(5);
  });

  it('applies all or nothing when a later action of an entry fails at apply time', async () => {
    const log = new SharedLog();
    const a = log.addNode();
    const b = log.addNode();
    const seed = a.createObject('service', service('s1', 'web'));
    await tick();
    log.flush();
    await seed;
    // b deletes s1 first; a's transaction (creates, then updates s1) reaches the log second.
    const s1 = a.get('service', 's1')!;
    const del = b.deleteObject('service', 's1');
    const multi = a.update((tx) => {
      tx.create('task', task('t1', 's1', 1));
      tx.create('service', service('s2', 'api'));
      tx.update('service', { ...s1, spec: { ...s1.spec, labels: { x: 'y' } } });
    });
    await tick();
    log.flush();
    await del;
    await expect(multi).rejects.toBeInstanceOf(ApiError);
    for (const s of [a, b]) {
      expect(s.get('task', 't1')).toBeUndefined();
      expect(s.get('service', 's2')).toBeUndefined();
      expect(s.view((tx) => tx.getByName('service', 'api'))).toBeUndefined();
    }
  });
});

describe('snapshot / restore', () => {
  it('round-trips the whole store, indexes included', async () => {
    const { store } = createLocalStore({ now: steppingClock(), maxEntryBytes: 2048 });
    await buildHistory(store);
    const bytes = store.snapshot();
    const copy = new MemoryStore(never);
    copy.restore(bytes, store.version);
    expect(copy.version).toBe(store.version);
    expect(Buffer.from(copy.snapshot()).equals(Buffer.from(bytes))).toBe(true);
    copy.view((tx) => {
      expect(tx.find('task', 'serviceId', 's3').map((t) => t.id)).toEqual(['s3-t1', 's3-t2', 's3-t3', 's3-t4']);
      expect(tx.find('task', 'slot', 's2', 2)).toEqual([]);
      expect(tx.find('task', 'nodeId', 'n1')).toHaveLength(10);
      expect(tx.getByName('service', 'SVC-4')?.id).toBe('s4');
      expect(tx.find('node', 'name', 'alpha').map((n) => n.id)).toEqual(['n1']);
      expect(tx.findByIdPrefix('secret', 'x').spec.name).toBe('tls-key');
      expect(tx.get('task', 's1-t1')).toEqual(store.get('task', 's1-t1'));
      expect(Object.isFrozen(tx.get('task', 's1-t1')?.status)).toBe(true);
    });
    // Uniqueness still enforced after restore.
    const err = copy.apply(
      new TextEncoder().encode(`{"v":1,"ts":"t","a":[["c","service",${JSON.stringify(service('zz', 'svc-1'))}]]}`),
      copy.version + 1,
    );
    expect(err).toMatchObject({ ok: false, error: { code: 'AlreadyExists' } });
  });

  it('replaces existing state and tells watchers to resync with one restored event', async () => {
    const { store: source } = createLocalStore();
    await source.createObject('service', service('s1', 'web'));
    const { store } = createLocalStore();
    await store.createObject('node', node('n1', 'old'));
    const sub = store.watch();
    store.restore(source.snapshot(), 42);
    // The store's version is the last entry that wrote to it, not the raft index of the snapshot.
    expect(store.version).toBe(source.version);
    expect(store.get('node', 'n1')).toBeUndefined();
    expect(store.get('service', 's1')?.spec.name).toBe('web');
    const ev: StoreEvent[] = [];
    ev.push((await sub.next()).value as StoreEvent);
    expect(ev).toEqual([{ type: 'restored', version: source.version }]);
    expect(sub.buffered).toBe(0);
    sub.close();
  });

  it('rejects corrupt snapshots', () => {
    const store = new MemoryStore(never);
    expect(() => store.restore(new TextEncoder().encode('{"v":9}'), 1)).toThrow(ApiError);
    const dup = `{"v":1,"version":1,"tables":{"service":[${[service('a', 'x'), service('b', 'X')]
      .map((s) => JSON.stringify({ ...s, meta: { version: 1, createdAt: '', updatedAt: '' } }))
      .join(',')}]}}`;
    expect(() => store.restore(new TextEncoder().encode(dup), 1)).toThrow(/unique name/);
  });

  it('captures the state at once and encodes it later in slices, byte-identical to snapshot()', async () => {
    const { store } = createLocalStore({ now: steppingClock(), maxEntryBytes: 1024 * 1024 });
    await buildHistory(store);
    await store.update((tx) => {
      for (let i = 0; i < 300; i++) tx.create('task', task(`bulk-${i}`, 's0', 100 + i, 'n1'));
    });
    const expected = Buffer.from(store.snapshot());
    const encode = store.captureSnapshot();
    // Writes after the capture must not reach the captured state.
    await store.update((tx) => tx.create('service', service('late', 'late-service', 1)));
    expect(Buffer.from(store.snapshot()).equals(expected)).toBe(false);
    let pauses = 0;
    const bytes = await encode({ due: () => true, pause: async () => void pauses++ });
    expect(Buffer.from(bytes).equals(expected)).toBe(true);
    // 300+ objects with every slice due: a pause at every 64th object of a table.
    expect(pauses).toBeGreaterThanOrEqual(4);
    // And an encoder that never pauses gives the same bytes.
    expect(Buffer.from(await encode({ due: () => false, pause: () => Promise.reject(new Error('no pause expected')) })).equals(expected)).toBe(true);
  });
});
