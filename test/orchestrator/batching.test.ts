/**
 * Big services are written in bounded pieces: no transaction over the pass limits (100 task writes; a
 * 5,000-replica service used to be one 2 MB transaction, over the 1 MiB entry limit, retried forever),
 * and the event loop runs between the pieces (a leader creating 30,000 tasks in one go stopped
 * heartbeating for seconds). Checked on the entries the store proposed and on what other
 * event-loop turns see, never on wall time.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { TaskState } from '../../agent/api/objects';
import { DEFAULT_PASS_LIMITS, MORE, type ReconcileOutcome, reconcilePass } from '../../agent/manager/orchestrator/reconcile-pass';
import { type LoggedEntry, createLocalStore, DEFAULT_MAX_ENTRY_BYTES } from '../../agent/store';
import { ReadTxImpl } from '../../agent/store/read-tx';
import { silentLogger } from '../../agent/runtime';
import { type World, createWorld } from './fixtures';

/** What the orchestrators write per transaction and per batch at most. */
const MAX_WRITES = Math.max(DEFAULT_PASS_LIMITS.maxTxWrites, DEFAULT_PASS_LIMITS.maxBatchWrites);

let world: World | undefined;
afterEach(() => world?.stop());

interface EntryActions {
  bytes: number;
  creates: number;
  updates: number;
  deletes: number;
}

function actionsOf(entry: LoggedEntry): EntryActions {
  const parsed = JSON.parse(new TextDecoder().decode(entry.data)) as { a: [string, string, ...unknown[]][] };
  const count = (op: string) => parsed.a.filter((a) => a[0] === op && a[1] === 'task').length;
  return { bytes: entry.data.length, creates: count('c'), updates: count('u'), deletes: count('d') };
}

/** Runs `fn` while counting event-loop turns, sampling `probe()` at each; returns the samples. */
async function sampleTurns<T>(probe: () => T, fn: () => Promise<void>): Promise<T[]> {
  const samples: T[] = [];
  let done = false;
  const tick = () => {
    samples.push(probe());
    if (!done) setImmediate(tick);
  };
  setImmediate(tick);
  await fn();
  done = true;
  return samples;
}

describe('orchestration in bounded transactions', () => {
  it('creates a 5,000-replica service over several transactions under the limits, releasing the event loop between them', async () => {
    world = await createWorld({ record: true });
    const w = world;
    await w.addNode('n1');
    const before = w.proposer.log.length;
    const service = await w.createService({ replicas: 5000 });
    const seen = await sampleTurns(() => w.store.view((tx) => tx.count('task')), () => w.settle());

    const tasks = w.tasks(service.id);
    expect(tasks).toHaveLength(5000);
    expect(new Set(tasks.map((t) => t.slot)).size).toBe(5000);
    expect(tasks.every((t) => t.status.state === TaskState.PENDING)).toBe(true); // the allocator got through them too

    const entries = w.proposer.log.slice(before + 1).map(actionsOf);
    const creating = entries.filter((e) => e.creates > 0);
    expect(creating.length).toBeGreaterThanOrEqual(5000 / MAX_WRITES);
    for (const e of entries) {
      expect(e.creates + e.updates + e.deletes).toBeLessThanOrEqual(MAX_WRITES);
      expect(e.bytes).toBeLessThan(DEFAULT_MAX_ENTRY_BYTES / 2);
    }
    // Other turns of the event loop ran while the tasks were being created, and saw them arrive.
    const partway = new Set(seen.filter((n) => n > 0 && n < 5000));
    expect(partway.size).toBeGreaterThanOrEqual(5);
  }, 120_000);

  it('reads a big service a few times while creating its tasks, not once a transaction', async () => {
    world = await createWorld();
    const w = world;
    await w.addNode('n1');
    const find = vi.spyOn(ReadTxImpl.prototype, 'find');
    const service = await w.createService({ replicas: 5000 });
    await w.settle();
    const reads = find.mock.calls.map((call) => call as unknown as readonly string[]).filter(([kind, index, key]) => kind === 'task' && index === 'serviceId' && key === service.id).length;
    find.mockRestore();
    expect(w.tasks(service.id)).toHaveLength(5000);
    // 50 transactions of 100 creates; the orchestrator reads the service at the first only (the update
    // supervisor looks too, after each pass).
    expect(reads).toBeLessThan(5000 / MAX_WRITES / 4);
  }, 120_000);

  it('a service rescaled while its tasks are being created ends with exactly the new slots', async () => {
    world = await createWorld();
    const w = world;
    await w.addNode('n1');
    const count = () => w.store.view((tx) => tx.count('task'));
    const down = await w.createService({ replicas: 3000 });
    const up = await w.createService({ replicas: 1500 });
    // Once creation is under way (but not done), change both services' replica counts.
    await sampleTurns(count, async () => {
      while (count() < 500) await new Promise((resolve) => setImmediate(resolve));
      await w.updateService(down.id, (s) => ({ ...s, mode: { replicated: { replicas: 1200 } } }));
      await w.updateService(up.id, (s) => ({ ...s, mode: { replicated: { replicas: 2500 } } }));
      await w.settle();
    });
    const liveSlots = (id: string) => w.tasks(id).filter((t) => t.desiredState <= TaskState.RUNNING).map((t) => t.slot).sort((a, b) => a - b);
    expect(liveSlots(down.id)).toEqual(Array.from({ length: 1200 }, (_, i) => i + 1));
    expect(liveSlots(up.id)).toEqual(Array.from({ length: 2500 }, (_, i) => i + 1));
  }, 120_000);

  it('removes a 2,000-task service and scales one down in bounded transactions', async () => {
    world = await createWorld({ record: true });
    const w = world;
    await w.addNode('n1');
    const big = await w.createService({ replicas: 2000 });
    const other = await w.createService({ replicas: 1500 });
    await w.settle();

    let from = w.proposer.log.length;
    await w.updateService(other.id, (s) => ({ ...s, mode: { replicated: { replicas: 10 } } }));
    await w.settle();
    const live = w.tasks(other.id).filter((t) => t.desiredState <= TaskState.RUNNING);
    expect(live.map((t) => t.slot).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    let entries = w.proposer.log.slice(from + 1).map(actionsOf);
    expect(entries.filter((e) => e.updates > 0).length).toBeGreaterThanOrEqual(1490 / MAX_WRITES);
    for (const e of entries) expect(e.creates + e.updates + e.deletes).toBeLessThanOrEqual(MAX_WRITES);

    from = w.proposer.log.length;
    await w.store.update((tx) => tx.delete('service', big.id));
    await w.settle();
    // Never given to a node, so the reaper deletes them as soon as they are told to go.
    expect(w.tasks(big.id)).toHaveLength(0);
    entries = w.proposer.log.slice(from + 1).map(actionsOf);
    expect(entries.filter((e) => e.updates > 0).length).toBeGreaterThanOrEqual(2000 / MAX_WRITES);
    expect(entries.filter((e) => e.deletes > 0).length).toBeGreaterThanOrEqual(2000 / MAX_WRITES);
    for (const e of entries) expect(e.creates + e.updates + e.deletes).toBeLessThanOrEqual(MAX_WRITES);
  }, 120_000);
});

describe('reconcilePass', () => {
  /** A store and a reconcile that creates `wanted[key]` objects for each key, `full()` permitting. */
  function setup(wanted: Record<string, number>) {
    const { store, proposer } = createLocalStore({ record: true });
    const made = new Map<string, number>();
    const calls: string[] = [];
    const reconcile = (tx: Parameters<Parameters<typeof reconcilePass>[2]>[0], key: string, _e: unknown, full: () => boolean): ReconcileOutcome => {
      calls.push(key);
      while ((made.get(key) ?? 0) < (wanted[key] ?? 0)) {
        if (full()) return MORE;
        const n = (made.get(key) ?? 0) + 1;
        tx.create('secret', { id: `${key}-${n}`, spec: { name: `${key}-${n}`, labels: {}, data: '' }, status: {} });
        made.set(key, n);
      }
    };
    return { store, proposer, calls, reconcile, made };
  }

  it('splits a key over transactions of maxTxWrites and commits a batch every maxBatchWrites', async () => {
    const { store, proposer, calls, reconcile } = setup({ a: 7, b: 0, c: 2 });
    await reconcilePass(store, ['a', 'b', 'c'], reconcile, silentLogger, 'test', { limits: { maxTxWrites: 3, maxBatchWrites: 5 } });
    expect(store.view((tx) => tx.count('secret'))).toBe(9);
    // a: 3 + 3 + 1 writes; b: none (counts as one); c: 2.
    expect(calls).toEqual(['a', 'a', 'a', 'b', 'c']);
    // Batches close at 5 writes or more: [a3, a3] [a1, b, c2] -> two batches, one entry each.
    expect(proposer.log.map((e) => JSON.parse(new TextDecoder().decode(e.data)).a.length)).toEqual([6, 3]);
  });

  it('does not loop on a reconcile that asks for more without writing', async () => {
    const { store } = createLocalStore();
    let calls = 0;
    await reconcilePass(store, ['x', 'y'], () => {
      calls++;
      return MORE;
    }, silentLogger, 'test');
    expect(calls).toBe(2);
  });

  it('ends between batches once its owner is no longer current', async () => {
    const { store, calls, reconcile } = setup({ a: 4, b: 4, c: 4 });
    let batches = 0;
    await reconcilePass(store, ['a', 'b', 'c'], reconcile, silentLogger, 'test', {
      limits: { maxTxWrites: 10, maxBatchWrites: 4 },
      current: () => batches++ < 1,
    });
    expect(calls).toEqual(['a']);
    expect(store.view((tx) => tx.count('secret'))).toBe(4);
  });
});
