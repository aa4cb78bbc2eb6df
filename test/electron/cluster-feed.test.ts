/**
 * The feed on a real MemoryStore (local proposer): a snapshot, then changes applied like the UI does.
 * 10,000 tasks arriving in bursts are coalesced into a handful of events of bounded size, and the counts
 * the UI shows (running/desired, tasks per node) stay right through every kind of change.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { TaskState, type Task } from '../../agent/api/objects';
import type { MembershipSnapshot } from '../../agent/manager/raft-membership';
import { createLocalStore, type MemoryStore } from '../../agent/store';
import type { SwarmdeskEvent } from '../../electron/contract';
import { ClusterFeed } from '../../electron/main/cluster-feed';
import { until } from '../cluster/harness';
import { node, service, task } from '../store/fixtures';
import { ClusterMirror } from './cluster-mirror';

const TASKS = 10_000;
const MAX_CHANGES = 2000;
let feed: ClusterFeed | undefined;

afterEach(() => feed?.close());

const membership = (): MembershipSnapshot => ({ selfId: 1, leaderId: 1, voters: [1], learners: [], reachable: new Set([1]), addresses: new Map([[1, '10.0.0.1:4242']]) });

function open(store: MemoryStore) {
  const events: SwarmdeskEvent[] = [];
  const holder: { mirror?: ClusterMirror } = {};
  feed = new ClusterFeed({
    store,
    membership,
    clusterId: 'c1',
    emit: (event) => {
      events.push(event);
      holder.mirror?.apply(event);
    },
    flushMs: 50,
    maxChangesPerEvent: MAX_CHANGES,
  });
  const mirror = new ClusterMirror(feed.start());
  holder.mirror = mirror;
  return { events, mirror };
}

function changeEvents(events: SwarmdeskEvent[]) {
  return events.filter((e): e is Extract<SwarmdeskEvent, { kind: 'changes' }> => e.kind === 'changes');
}

async function setup() {
  const { store } = createLocalStore();
  await store.update((tx) => {
    tx.create('node', node('n1', 'mgr-1', { role: 'manager', spec: { labels: {}, role: 'manager', availability: 'active' }, managerStatus: { raftId: 1, addr: '10.0.0.1:4242', leader: true, reachability: 'reachable' } }));
    tx.create('node', node('n2', 'wrk-1'));
    tx.create('service', service('s1', 'web', TASKS));
  });
  return store;
}

function placed(id: string, slot: number, nodeId: string): Omit<Task, 'meta'> {
  return { ...task(id, 's1', slot, nodeId), status: { state: TaskState.ASSIGNED, message: 'assigned', timestamp: new Date().toISOString() } };
}

describe('ClusterFeed', () => {
  it('starts with a snapshot: nodes with task counts, services with replicas, the cluster summary', async () => {
    const store = await setup();
    await store.update((tx) => tx.create('task', { ...placed('t1', 1, 'n2'), status: { state: TaskState.RUNNING, message: 'started', timestamp: new Date().toISOString() } }));
    const { mirror } = open(store);
    expect(mirror.revision).toBe(store.version);
    expect(mirror.nodes.get('n2')?.taskCount).toBe(1);
    expect(mirror.nodes.get('n1')?.taskCount).toBe(0);
    expect(mirror.services.get('s1')?.replicas).toEqual({ running: 1, desired: TASKS });
    expect(mirror.cluster).toEqual({ id: 'c1', name: '', leaderNodeId: 'n1', managers: { total: 1, reachable: 1, quorum: 1 }, hasQuorum: true });
  });

  it('delivers a burst of 10,000 tasks (created, then each moved twice) in bounded events, counts right', async () => {
    const store = await setup();
    const { events, mirror } = open(store);
    await store.batch((batch) => {
      for (let i = 1; i <= TASKS; i++) batch.update((tx) => tx.create('task', placed(`t${i}`, i, i % 2 === 0 ? 'n1' : 'n2')));
    });
    for (const state of [TaskState.STARTING, TaskState.RUNNING]) {
      const current = store.view((tx) => tx.list('task'));
      await store.batch((batch) => {
        for (const t of current) batch.update((tx) => tx.update('task', { ...t, status: { ...t.status, state, message: 'moved' } }));
      });
    }
    await until('the mirror at the store\'s revision', () => mirror.revision === store.version, 60_000, 20);
    expect(mirror.tasks.size).toBe(TASKS);
    expect([...mirror.tasks.values()].every((t) => t.status.state === TaskState.RUNNING)).toBe(true);
    expect(mirror.services.get('s1')?.replicas).toEqual({ running: TASKS, desired: TASKS });
    expect(mirror.nodes.get('n1')?.taskCount).toBe(TASKS / 2);
    expect(mirror.nodes.get('n2')?.taskCount).toBe(TASKS / 2);
    expect(mirror.revision).toBe(store.version);
    expect(mirror.problems).toEqual([]);
    const sent = changeEvents(events);
    // Never more than MAX_CHANGES per event, and never more upserts than writes (plus each event's counts).
    for (const event of sent) expect(event.changes.length).toBeLessThanOrEqual(MAX_CHANGES);
    const upserts = sent.reduce((sum, e) => sum + e.changes.length, 0);
    expect(upserts).toBeLessThanOrEqual(3 * TASKS + 3 * sent.length);
  }, 120_000);

  it('sends an object changed many times in quick succession once per flush, with its latest version', async () => {
    const store = await setup();
    await store.update((tx) => tx.create('task', placed('hot', 1, 'n1')));
    const events: SwarmdeskEvent[] = [];
    feed = new ClusterFeed({ store, membership, clusterId: 'c1', emit: (event) => events.push(event), flushMs: 500 });
    const mirror = new ClusterMirror(feed.start());
    const hot = store.get('task', 'hot');
    if (hot === undefined) throw new Error('no task');
    await store.batch((batch) => {
      for (let i = 0; i < 100; i++) batch.update((tx) => {
        const t = tx.get('task', 'hot');
        if (t !== undefined) tx.update('task', { ...t, status: { ...t.status, message: `update ${i}` } });
      });
    });
    await until('the last update delivered', () => {
      for (const event of events) mirror.apply(event);
      events.length = 0;
      return mirror.tasks.get('hot')?.status.message === 'update 99';
    }, 10_000, 20);
    const sent = changeEvents(mirror.seen);
    const hotUpserts = sent.flatMap((e) => e.changes).filter((c) => c.kind === 'task' && c.action === 'upsert').length;
    expect(hotUpserts).toBeGreaterThanOrEqual(1);
    expect(hotUpserts).toBeLessThanOrEqual(5);
  });

  it('keeps counts through a node going down, tasks stopping, being deleted, and a scale-down', async () => {
    const store = await setup();
    await store.update((tx) => {
      for (let i = 1; i <= 4; i++) tx.create('task', { ...placed(`t${i}`, i, i <= 2 ? 'n1' : 'n2'), status: { state: TaskState.RUNNING, message: 'started', timestamp: new Date().toISOString() } });
    });
    const { mirror } = open(store);
    expect(mirror.services.get('s1')?.replicas.running).toBe(4);

    const n2 = store.get('node', 'n2');
    if (n2 === undefined) throw new Error('no n2');
    await store.updateObject('node', { ...n2, status: { ...n2.status, state: 'down' } });
    await until('a down node\'s tasks not counted as running', () => mirror.services.get('s1')?.replicas.running === 2, 10_000, 10);
    expect(mirror.nodes.get('n2')?.status.state).toBe('down');
    expect(mirror.nodes.get('n2')?.taskCount).toBe(2);

    const t1 = store.get('task', 't1');
    if (t1 === undefined) throw new Error('no t1');
    await store.updateObject('task', { ...t1, desiredState: TaskState.SHUTDOWN });
    await until('a task told to stop no longer counted', () => mirror.nodes.get('n1')?.taskCount === 1 && mirror.services.get('s1')?.replicas.running === 1, 10_000, 10);
    await store.deleteObject('task', 't1');
    await until('a deleted task gone', () => !mirror.tasks.has('t1'), 10_000, 10);

    const s1 = store.get('service', 's1');
    if (s1 === undefined) throw new Error('no s1');
    await store.updateObject('service', { ...s1, spec: { ...s1.spec, mode: { replicated: { replicas: 3 } } } });
    await until('the new desired count', () => mirror.services.get('s1')?.replicas.desired === 3, 10_000, 10);

    const down = store.get('node', 'n2');
    if (down === undefined) throw new Error('no n2');
    await store.updateObject('node', { ...down, status: { ...down.status, state: 'ready' } });
    await until('the node back: its tasks count again', () => mirror.services.get('s1')?.replicas.running === 3, 10_000, 10);
    expect(mirror.services.get('s1')?.replicas).toEqual({ running: 3, desired: 3 });
    expect(mirror.problems).toEqual([]);
  });

  it('asks for a resync when the store is replaced from a snapshot, and stops sending', async () => {
    const store = await setup();
    const { events } = open(store);
    store.restore(store.snapshot(), store.version + 5);
    await until('a resync event', () => events.some((e) => e.kind === 'resync'), 10_000, 10);
    const count = events.length;
    await store.update((tx) => tx.create('task', placed('late', 1, 'n1')));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(events.length).toBe(count);
    expect(store.watcherCount).toBe(0);
  });
});
