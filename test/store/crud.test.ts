import { describe, expect, it } from 'vitest';
import { ApiError, isApiError } from '../../agent/api/errors';
import { TaskState } from '../../agent/api/objects';
import { createLocalStore, newId } from '../../agent/store';
import { T0, cluster, network, node, secret, service, steppingClock, task } from './fixtures';

async function rejection(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  throw new Error('expected a ApiError, got success');
}

function syncError(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  throw new Error('expected a ApiError');
}

describe('create / get / list', () => {
  it('creates every kind and stamps meta from the entry', async () => {
    const { store } = createLocalStore({ now: steppingClock() });
    const res = await store.update((tx) => {
      tx.create('node', node('n1', 'host-a'));
      tx.create('service', service('s1', 'web'));
      tx.create('task', task('t1', 's1', 1));
      tx.create('network', network('net1', 'ingress'));
      tx.create('secret', secret('sec1', 'db-password'));
      tx.create('cluster', cluster('c1'));
      return 'done';
    });
    expect(res.value).toBe('done');
    expect(res.version).toBe(1);
    expect(res.changes.map((c) => `${c.action}:${c.kind}:${c.object.id}`)).toEqual([
      'create:node:n1',
      'create:service:s1',
      'create:task:t1',
      'create:network:net1',
      'create:secret:sec1',
      'create:cluster:c1',
    ]);
    const svc = store.get('service', 's1');
    // The session's clock read came first (provisional), the entry's second: the entry's wins.
    expect(svc?.meta).toEqual({ version: 1, createdAt: '2025-01-01T00:00:01.000Z', updatedAt: '2025-01-01T00:00:01.000Z' });
    expect(Object.isFrozen(svc)).toBe(true);
    expect(Object.isFrozen(svc?.spec.task.container)).toBe(true);
    expect(store.view((tx) => tx.list('secret')[0].spec.data)).toBe('c2VjcmV0');
    expect(store.view((tx) => [tx.count('task'), tx.count('node'), tx.version])).toEqual([1, 1, 1]);
  });

  it('updates keep createdAt and move version and updatedAt', async () => {
    const { store } = createLocalStore({ now: steppingClock() });
    const created = await store.createObject('service', service('s1', 'web'));
    const updated = await store.updateObject('service', { ...created, spec: { ...created.spec, labels: { a: 'b' } } });
    expect(updated.meta.version).toBe(2);
    expect(updated.meta.createdAt).toBe(created.meta.createdAt);
    expect(updated.meta.updatedAt > created.meta.updatedAt).toBe(true);
    expect(updated.spec.labels).toEqual({ a: 'b' });
    const deleted = await store.deleteObject('service', 's1');
    expect(deleted.meta.version).toBe(2);
    expect(store.get('service', 's1')).toBeUndefined();
    expect(store.version).toBe(3);
  });

  it('does not keep a reference to the caller object', async () => {
    const { store } = createLocalStore();
    const input = service('s1', 'web');
    await store.createObject('service', input);
    input.spec.name = 'changed';
    expect(store.get('service', 's1')?.spec.name).toBe('web');
  });

  it('finds tasks by serviceId, nodeId, desiredState and (serviceId, slot)', async () => {
    const { store } = createLocalStore();
    await store.update((tx) => {
      tx.create('task', task('t1', 'sA', 1, 'n1'));
      tx.create('task', task('t2', 'sA', 2, 'n2'));
      tx.create('task', task('t3', 'sA', 2, '', TaskState.SHUTDOWN));
      tx.create('task', task('t4', 'sB', 1, 'n1'));
      tx.create('task', task('t5', 'sAB', 1, 'n1'));
    });
    store.view((tx) => {
      const ids = (ts: { id: string }[]) => ts.map((t) => t.id);
      expect(ids(tx.find('task', 'serviceId', 'sA'))).toEqual(['t1', 't2', 't3']);
      expect(ids(tx.find('task', 'serviceId', 'sAB'))).toEqual(['t5']);
      expect(ids(tx.find('task', 'serviceId', 's'))).toEqual([]);
      expect(ids(tx.find('task', 'nodeId', 'n1'))).toEqual(['t1', 't4', 't5']);
      expect(ids(tx.find('task', 'nodeId', ''))).toEqual(['t3']);
      expect(ids(tx.find('task', 'desiredState', TaskState.RUNNING))).toEqual(['t1', 't2', 't4', 't5']);
      expect(ids(tx.find('task', 'desiredState', TaskState.SHUTDOWN))).toEqual(['t3']);
      expect(ids(tx.find('task', 'slot', 'sA', 2))).toEqual(['t2', 't3']);
      expect(ids(tx.find('task', 'slot', 'sA', 1))).toEqual(['t1']);
      expect(ids(tx.find('task', 'slot', 'sB', 2))).toEqual([]);
    });
  });

  it('keeps indexes in step with updates and deletes', async () => {
    const { store } = createLocalStore();
    await store.update((tx) => {
      tx.create('task', task('t1', 'sA', 1));
    });
    const t1 = store.get('task', 't1')!;
    await store.updateObject('task', { ...t1, nodeId: 'n9', desiredState: TaskState.SHUTDOWN });
    store.view((tx) => {
      expect(tx.find('task', 'nodeId', '')).toEqual([]);
      expect(tx.find('task', 'nodeId', 'n9').map((t) => t.id)).toEqual(['t1']);
      expect(tx.find('task', 'desiredState', TaskState.RUNNING)).toEqual([]);
    });
    await store.deleteObject('task', 't1');
    store.view((tx) => {
      expect(tx.find('task', 'nodeId', 'n9')).toEqual([]);
      expect(tx.find('task', 'serviceId', 'sA')).toEqual([]);
      expect(tx.find('task', 'slot', 'sA', 1)).toEqual([]);
    });
  });

  it('indexes nodes by name (falling back to hostname, not unique) and role', async () => {
    const { store } = createLocalStore();
    await store.update((tx) => {
      tx.create('node', node('n1', 'box'));
      tx.create('node', node('n2', 'BOX'));
      tx.create('node', node('n3', 'other', { spec: { name: 'box', labels: {}, role: 'manager', availability: 'active' }, role: 'manager' }));
    });
    store.view((tx) => {
      expect(tx.find('node', 'name', 'Box').map((n) => n.id)).toEqual(['n1', 'n2', 'n3']);
      expect(tx.find('node', 'name', 'other')).toEqual([]);
      expect(tx.find('node', 'role', 'manager').map((n) => n.id)).toEqual(['n3']);
      expect(tx.findByNamePrefix('node', 'bo').map((n) => n.id)).toEqual(['n1', 'n2', 'n3']);
    });
  });
});

describe('unique names', () => {
  it('rejects a second service, network, secret or cluster with the same name, case-insensitively', async () => {
    const { store } = createLocalStore();
    await store.update((tx) => {
      tx.create('service', service('s1', 'Web'));
      tx.create('network', network('net1', 'front'));
      tx.create('secret', secret('x1', 'key'));
      tx.create('cluster', cluster('c1', 'default'));
    });
    for (const [kind, make] of [
      ['service', () => service('s2', 'web')],
      ['network', () => network('net2', 'FRONT')],
      ['secret', () => secret('x2', 'key')],
      ['cluster', () => cluster('c2', 'Default')],
    ] as const) {
      const err = await rejection(store.update((tx) => tx.create(kind, make())));
      expect(err.code).toBe('AlreadyExists');
      expect(err.message).not.toContain('c2VjcmV0');
    }
    expect(store.view((tx) => tx.getByName('service', 'WEB')?.id)).toBe('s1');
    expect(store.view((tx) => tx.getByName('secret', 'nope'))).toBeUndefined();
    expect(store.version).toBe(1);
  });

  it('frees a name on rename and on delete', async () => {
    const { store } = createLocalStore();
    const s1 = await store.createObject('service', service('s1', 'web'));
    await store.updateObject('service', { ...s1, spec: { ...s1.spec, name: 'web-old' } });
    await store.createObject('service', service('s2', 'web'));
    await store.deleteObject('service', 's2');
    await store.createObject('service', service('s3', 'web'));
    expect(store.view((tx) => tx.getByName('service', 'web')?.id)).toBe('s3');
    expect(store.view((tx) => tx.getByName('service', 'web-old')?.id)).toBe('s1');
  });

  it('rejects a rename onto a taken name', async () => {
    const { store } = createLocalStore();
    await store.update((tx) => {
      tx.create('service', service('s1', 'a'));
      tx.create('service', service('s2', 'b'));
    });
    const s2 = store.get('service', 's2')!;
    const err = await rejection(store.updateObject('service', { ...s2, spec: { ...s2.spec, name: 'A' } }));
    expect(err.code).toBe('AlreadyExists');
    expect(store.get('service', 's2')?.spec.name).toBe('b');
  });

  it('allows swapping names inside one transaction', async () => {
    const { store } = createLocalStore();
    await store.update((tx) => {
      tx.create('service', service('s1', 'blue'));
      tx.create('service', service('s2', 'green'));
    });
    await store.update((tx) => {
      const a = tx.get('service', 's1')!;
      const b = tx.get('service', 's2')!;
      tx.update('service', { ...a, spec: { ...a.spec, name: 'tmp' } });
      tx.update('service', { ...b, spec: { ...b.spec, name: 'blue' } });
      const a2 = tx.get('service', 's1')!;
      tx.update('service', { ...a2, spec: { ...a2.spec, name: 'green' } });
    });
    store.view((tx) => {
      expect(tx.getByName('service', 'blue')?.id).toBe('s2');
      expect(tx.getByName('service', 'green')?.id).toBe('s1');
      expect(tx.getByName('service', 'tmp')).toBeUndefined();
    });
  });
});

describe('id prefix lookup', () => {
  it('resolves unique, exact, ambiguous and missing prefixes', async () => {
    const { store } = createLocalStore();
    await store.update((tx) => {
      tx.create('node', node('abc123', 'h1'));
      tx.create('node', node('abd456', 'h2'));
      tx.create('node', node('abd', 'h3'));
      tx.create('service', service('abz', 'x'));
    });
    expect(store.findByIdPrefix('node', 'abc').id).toBe('abc123');
    expect(store.findByIdPrefix('node', 'abd45').id).toBe('abd456');
    expect(store.findByIdPrefix('node', 'abd').id).toBe('abd'); // exact id wins over prefix matches
    const ambiguous = syncError(() => store.findByIdPrefix('node', 'ab'));
    expect(ambiguous.code).toBe('InvalidArgument');
    expect(ambiguous.message).toContain('ambiguous');
    expect(syncError(() => store.findByIdPrefix('node', 'abz')).code).toBe('NotFound'); // other kind
    expect(syncError(() => store.findByIdPrefix('node', 'zz')).code).toBe('NotFound');
    expect(syncError(() => store.findByIdPrefix('node', '')).code).toBe('InvalidArgument');
  });

  it('makes 25-character base-36 ids', () => {
    // Over several refills of the random pool (256 ids each): no id repeats across a refill.
    const ids = new Set(Array.from({ length: 1000 }, () => newId()));
    expect(ids.size).toBe(1000);
    for (const id of ids) expect(id).toMatch(/^[0-9a-z]{25}$/);
  });
});

describe('optimistic concurrency and atomicity', () => {
  it('rejects an update with a stale version and changes nothing', async () => {
    const { store } = createLocalStore();
    const v1 = await store.createObject('service', service('s1', 'web'));
    await store.updateObject('service', { ...v1, spec: { ...v1.spec, labels: { n: '2' } } });
    const err = await rejection(store.updateObject('service', { ...v1, spec: { ...v1.spec, labels: { n: 'stale' } } }));
    expect(err.code).toBe('Conflict');
    expect(isApiError(err, 'Conflict')).toBe(true);
    expect(store.get('service', 's1')?.spec.labels).toEqual({ n: '2' });
    expect(store.version).toBe(2);
  });

  it('aborts the whole transaction when one action fails in the callback', async () => {
    const { store } = createLocalStore();
    await store.createObject('service', service('s1', 'web'));
    const before = store.snapshot();
    const err = await rejection(
      store.update((tx) => {
        tx.create('service', service('s2', 'api'));
        tx.create('task', task('t1', 's2', 1));
        tx.create('service', service('s3', 'WEB')); // name clash
      }),
    );
    expect(err.code).toBe('AlreadyExists');
    expect(store.snapshot()).toEqual(before);
    expect(store.get('service', 's2')).toBeUndefined();
  });

  it('lets a callback catch a failed write and continue', async () => {
    const { store } = createLocalStore();
    await store.createObject('service', service('s1', 'web'));
    await store.update((tx) => {
      expect(() => tx.create('service', service('s1', 'dup-id'))).toThrow(ApiError);
      expect(() => tx.delete('task', 'missing')).toThrow(/not found/);
      tx.create('service', service('s2', 'api'));
    });
    expect(store.view((tx) => tx.list('service').map((s) => s.spec.name))).toEqual(['web', 'api']);
  });

  it('sees its own writes, indexes included, and collapses repeated writes to one action', async () => {
    const { store, proposer } = createLocalStore({ record: true });
    const res = await store.update((tx) => {
      const t = tx.create('task', task('t1', 'sA', 1));
      expect(tx.get('task', 't1')?.meta.version).toBe(0);
      expect(tx.find('task', 'serviceId', 'sA').map((x) => x.id)).toEqual(['t1']);
      tx.update('task', { ...t, nodeId: 'n1' });
      expect(tx.find('task', 'nodeId', 'n1').map((x) => x.id)).toEqual(['t1']);
      tx.create('task', task('t2', 'sA', 2));
      tx.delete('task', 't2');
      expect(tx.get('task', 't2')).toBeUndefined();
    });
    expect(res.changes.map((c) => `${c.action}:${c.object.id}`)).toEqual(['create:t1']);
    expect(store.get('task', 't1')?.nodeId).toBe('n1');
    const entry = JSON.parse(new TextDecoder().decode(proposer.log[0].data)) as { a: unknown[] };
    expect(entry.a).toHaveLength(1);
  });

  it('proposes nothing for a transaction that writes nothing', async () => {
    const { store, proposer } = createLocalStore({ record: true });
    const res = await store.update((tx) => tx.count('node'));
    expect(res).toEqual({ value: 0, version: 0, changes: [] });
    expect(proposer.log).toHaveLength(0);
  });

  it('rejects bad input with InvalidArgument', async () => {
    const { store } = createLocalStore();
    const noId = { ...service('', 'x') };
    expect((await rejection(store.createObject('service', noId))).code).toBe('InvalidArgument');
    const nul = service('a\u0000b', 'x');
    expect((await rejection(store.createObject('service', nul))).code).toBe('InvalidArgument');
    const badTask = { ...task('t1', 's', 1), serviceId: 42 as unknown as string };
    expect((await rejection(store.createObject('task', badTask))).code).toBe('InvalidArgument');
    const asyncFn = (async () => undefined) as unknown as () => void;
    expect((await rejection(store.update(asyncFn))).code).toBe('InvalidArgument');
    expect(store.version).toBe(0);
  });

  it('rejects a transaction larger than one entry', async () => {
    const { store } = createLocalStore({ maxEntryBytes: 4096 });
    const big = secret('x1', 'big', 'A'.repeat(8000));
    expect((await rejection(store.createObject('secret', big))).code).toBe('InvalidArgument');
  });

  it('reports proposer failures as Unavailable', async () => {
    const { store } = createLocalStore();
    const ac = new AbortController();
    ac.abort();
    const err = await rejection(store.createObject('service', service('s1', 'web'), { signal: ac.signal }));
    expect(err.code).toBe('Unavailable');
    expect(store.get('service', 's1')).toBeUndefined();
  });

  it('uses the injected clock only on the proposing side', async () => {
    const { store } = createLocalStore({ now: () => T0 });
    const s = await store.createObject('service', service('s1', 'web'));
    expect(s.meta.createdAt).toBe(T0.toISOString());
  });
});
