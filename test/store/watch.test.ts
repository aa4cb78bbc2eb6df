import { describe, expect, it } from 'vitest';
import { ApiError } from '../../agent/api/errors';
import { FELL_BEHIND_MESSAGE, type StoreEvent, type Subscription, createLocalStore } from '../../agent/store';
import { SharedLog, node, service, task, tick } from './fixtures';

async function take(sub: Subscription, n: number): Promise<StoreEvent[]> {
  const out: StoreEvent[] = [];
  while (out.length < n) {
    const r = await sub.next();
    if (r.done) break;
    out.push(r.value);
  }
  return out;
}

function describeEvent(e: StoreEvent): string {
  if (e.type !== 'change') return `${e.type}@${e.version}`;
  return `${e.action}:${e.kind}:${e.object.id}@${e.version}`;
}

describe('watch', () => {
  it('delivers ordered changes with before/after objects and a commit marker per entry', async () => {
    const { store } = createLocalStore();
    const sub = store.watch();
    const s1 = await store.createObject('service', service('s1', 'web'));
    await store.update((tx) => {
      tx.update('service', { ...s1, spec: { ...s1.spec, labels: { v: '2' } } });
      tx.create('task', task('t1', 's1', 1));
    });
    await store.deleteObject('task', 't1');
    const events = await take(sub, 7);
    expect(events.map(describeEvent)).toEqual([
      'create:service:s1@1',
      'commit@1',
      'update:service:s1@2',
      'create:task:t1@2',
      'commit@2',
      'delete:task:t1@3',
      'commit@3',
    ]);
    const upd = events[2];
    if (upd.type !== 'change' || upd.kind !== 'service') throw new Error('unexpected event');
    expect(upd.oldObject?.spec.labels).toEqual({});
    expect(upd.oldObject?.meta.version).toBe(1);
    expect(upd.object.spec.labels).toEqual({ v: '2' });
    expect(upd.object.meta.version).toBe(2);
    const del = events[5];
    expect(del.type === 'change' && del.object.id === 't1' && del.object.meta.version === 2).toBe(true);
    sub.close();
    expect(await sub.next()).toEqual({ value: undefined, done: true });
    expect(store.watcherCount).toBe(0);
  });

  it('filters by kind and predicate; commit markers only follow delivered changes', async () => {
    const { store } = createLocalStore();
    const tasksOfS1 = store.watch({ kinds: ['task'], filter: (e) => e.kind === 'task' && e.object.serviceId === 's1' });
    await store.createObject('node', node('n1', 'h'));
    await store.createObject('task', task('t0', 's0', 1));
    await store.createObject('task', task('t1', 's1', 1));
    expect((await take(tasksOfS1, 2)).map(describeEvent)).toEqual(['create:task:t1@3', 'commit@3']);
    expect(tasksOfS1.buffered).toBe(0);
    tasksOfS1.close();
  });

  it('ends a for-await loop on close()', async () => {
    const { store } = createLocalStore();
    const sub = store.watch();
    const seen: string[] = [];
    const loop = (async () => {
      for await (const ev of sub) {
        seen.push(describeEvent(ev));
        if (ev.type === 'commit') sub.close();
      }
    })();
    await store.createObject('node', node('n1', 'h'));
    await loop;
    expect(seen).toEqual(['create:node:n1@1', 'commit@1']);
  });

  it('closes a subscriber that falls behind, drops its buffer, and keeps the others', async () => {
    const { store } = createLocalStore();
    const slow = store.watch({ bufferSize: 10 });
    const fast = store.watch({ bufferSize: 10 });
    const fastSeen: StoreEvent[] = [];
    const pump = (async () => {
      for await (const ev of fast) fastSeen.push(ev);
    })();
    let maxBuffered = 0;
    for (let i = 0; i < 30; i++) {
      await store.createObject('node', node(`n${i}`, 'h'));
      maxBuffered = Math.max(maxBuffered, slow.buffered);
    }
    expect(maxBuffered).toBeLessThanOrEqual(10);
    expect(slow.closed).toBe(true);
    expect(slow.buffered).toBe(0);
    const err = await slow.next().then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ code: 'Unavailable', message: FELL_BEHIND_MESSAGE });
    expect(slow.error?.code).toBe('Unavailable');
    expect(store.watcherCount).toBe(1);
    await tick();
    expect(fastSeen).toHaveLength(60);
    fast.close();
    await pump;
  });

  it('never cuts off a caught-up subscriber because one transaction is larger than its buffer', async () => {
    const { store } = createLocalStore();
    const sub = store.watch({ bufferSize: 4 });
    await store.update((tx) => {
      for (let i = 0; i < 20; i++) tx.create('node', node(`n${i}`, 'h'));
    });
    expect(sub.closed).toBe(false);
    expect((await take(sub, 21)).at(-1)).toEqual({ type: 'commit', version: 1 });
    sub.close();
  });

  it('closes on abort signal', async () => {
    const { store } = createLocalStore();
    const ac = new AbortController();
    const sub = store.watch({ signal: ac.signal });
    const pending = sub.next();
    ac.abort();
    expect(await pending).toEqual({ value: undefined, done: true });
    expect(store.watcherCount).toBe(0);
  });

  it('offers a callback form', async () => {
    const { store } = createLocalStore();
    const seen: string[] = [];
    let closedWith: ApiError | undefined | 'open' = 'open';
    const sub = store.subscribe(
      { kinds: ['service'] },
      (ev) => seen.push(describeEvent(ev)),
      (err) => {
        closedWith = err;
      },
    );
    await store.createObject('service', service('s1', 'web'));
    await store.createObject('node', node('n1', 'h'));
    await tick();
    expect(seen).toEqual(['create:service:s1@1', 'commit@1']);
    sub.close();
    await tick();
    expect(closedWith).toBeUndefined();
  });
});

describe('viewAndWatch', () => {
  it('gives a snapshot plus exactly the later events under concurrent writes (no gap, no duplicate)', async () => {
    const log = new SharedLog();
    log.setAutoFlush(true);
    const writerA = log.addNode();
    const writerB = log.addNode();
    const reader = log.addNode();
    const N = 200;
    // Two managers write concurrently; entries apply on microtasks interleaved with the reader below.
    const writes = Promise.all([
      (async () => {
        for (let i = 0; i < N; i++) await writerA.createObject('task', task(`a${i}`, 'sA', i + 1));
      })(),
      (async () => {
        for (let i = 0; i < N; i++) {
          await writerB.createObject('task', task(`b${i}`, 'sB', i + 1));
          if (i % 3 === 0) await writerB.deleteObject('task', `b${i}`);
        }
      })(),
    ]);
    const subs: { ids: Set<string>; version: number; sub: Subscription }[] = [];
    for (let round = 0; round < 20; round++) {
      await tick();
      const { value, version, subscription } = reader.viewAndWatch((tx) => new Set(tx.list('task').map((t) => t.id)));
      subs.push({ ids: value, version, sub: subscription });
    }
    await writes;
    const finalIds = reader.view((tx) => tx.list('task').map((t) => t.id).sort());
    expect(finalIds).toHaveLength(N + N - Math.ceil(N / 3));
    const distinctVersions = new Set(subs.map((s) => s.version));
    expect(distinctVersions.size).toBeGreaterThan(5); // snapshots really were taken mid-stream
    for (const { ids, version, sub } of subs) {
      const state = new Set(ids);
      let lastVersion = version;
      while (sub.buffered > 0) {
        const { value: ev } = await sub.next();
        if (ev.type === 'restored') throw new Error('unexpected restore');
        expect(ev.version).toBeGreaterThan(version); // nothing from before the snapshot
        expect(ev.version).toBeGreaterThanOrEqual(lastVersion);
        lastVersion = ev.version;
        if (ev.type !== 'change') continue;
        if (ev.action === 'create') {
          expect(state.has(ev.object.id)).toBe(false); // no duplicate
          state.add(ev.object.id);
        } else if (ev.action === 'delete') {
          expect(state.has(ev.object.id)).toBe(true); // no gap
          state.delete(ev.object.id);
        }
      }
      expect([...state].sort()).toEqual(finalIds);
      sub.close();
    }
    expect(reader.watcherCount).toBe(0);
  });

  it('closes the subscription if the view callback throws', () => {
    const { store } = createLocalStore();
    expect(() =>
      store.viewAndWatch(() => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(store.watcherCount).toBe(0);
  });
});
