/**
 * The scheduler as a leader duty on a real (local, raft-less) store: tasks created PENDING become
 * ASSIGNED through its own writes, reasons appear on tasks that cannot be placed, and it reacts to
 * nodes and tasks changing. Time is a FakeClock: batches run when the test advances it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { TaskState, type Node, type Task } from '../../agent/api/objects';
import { TASK_MESSAGES } from '../../agent/api/task-lifecycle';
import { DEFAULT_MAX_BATCH_DELAY_MS, Scheduler, type SchedulerOptions } from '../../agent/manager/scheduler';
import { WRITE_SLICE } from '../../agent/manager/scheduler/scheduler';
import { createLocalStore, type LocalProposer, type MemoryStore, type NewObject } from '../../agent/store';
import { FakeClock } from '../support/fake-clock';
import { countByNode, makeNode, makeTask, makeTasks, type NodeOptions, type TaskOptions } from './fixtures';

function stripMeta<T extends { meta: unknown }>(obj: T): Omit<T, 'meta'> {
  const { meta: _meta, ...rest } = obj;
  return rest;
}

interface Harness {
  store: MemoryStore;
  /** Every entry proposed, in its log. */
  proposer: LocalProposer;
  clock: FakeClock;
  scheduler: Scheduler;
}

const running: Scheduler[] = [];
afterEach(() => {
  for (const s of running.splice(0)) s.stop();
});

async function harness(nodes: NodeOptions[] = [], options: Pick<SchedulerOptions, 'writeSlice'> = {}): Promise<Harness> {
  const clock = new FakeClock();
  const { store, proposer } = createLocalStore({ now: () => new Date(clock.now()), record: true });
  if (nodes.length > 0) await store.update((tx) => nodes.forEach((n) => tx.create('node', stripMeta(makeNode(n)) as NewObject<'node'>)));
  const scheduler = new Scheduler({ store, clock, ...options });
  running.push(scheduler);
  scheduler.start();
  return { store, proposer, clock, scheduler };
}

/** Lets watch events, batch timers and batch writes run until nothing is left to do. */
async function settle(h: Pick<Harness, 'clock' | 'scheduler'>): Promise<void> {
  for (let round = 0; round < 5; round++) {
    await new Promise((resolve) => setImmediate(resolve));
    h.clock.advance(DEFAULT_MAX_BATCH_DELAY_MS);
    await h.scheduler.settled();
  }
  await new Promise((resolve) => setImmediate(resolve));
}

async function createTasks(store: MemoryStore, tasks: Task[]): Promise<void> {
  await store.update((tx) => tasks.forEach((t) => tx.create('task', stripMeta(t) as NewObject<'task'>)));
}

function tasksOf(store: MemoryStore): Task[] {
  return store.view((tx) => tx.list('task'));
}

function task(store: MemoryStore, id: string): Task {
  const t = store.get('task', id);
  if (t === undefined) throw new Error(`no task ${id}`);
  return t;
}

async function updateNode(store: MemoryStore, id: string, change: (n: Node) => Node): Promise<void> {
  await store.update((tx) => {
    const n = tx.get('node', id);
    if (n !== undefined) tx.update('node', change(n));
  });
}

async function updateTask(store: MemoryStore, id: string, change: (t: Task) => Task): Promise<void> {
  await store.update((tx) => {
    const t = tx.get('task', id);
    if (t !== undefined) tx.update('task', change(t));
  });
}

const pendingTasks = (n: number, o: Omit<TaskOptions, 'id'> & { prefix?: string } = {}) => makeTasks(n, o);

describe('Scheduler (leader duty)', () => {
  it('assigns pending tasks, 2/2/2 over three nodes, in one raft entry', async () => {
    const h = await harness([{ id: 'a' }, { id: 'b' }, { id: 'c' }]);
    await createTasks(h.store, pendingTasks(6));
    const before = h.store.version;
    await settle(h);

    const tasks = tasksOf(h.store);
    expect(tasks.every((t) => t.status.state === TaskState.ASSIGNED)).toBe(true);
    expect(tasks.every((t) => t.status.message === TASK_MESSAGES.assigned && t.status.err === undefined)).toBe(true);
    expect(countByNode(tasks)).toEqual({ a: 2, b: 2, c: 2 });
    expect(h.store.version - before).toBe(1);
    expect(h.scheduler.pendingCount).toBe(0);
  });

  it('places tasks that were pending before it started', async () => {
    const clock = new FakeClock();
    const { store } = createLocalStore();
    await store.update((tx) => tx.create('node', stripMeta(makeNode({ id: 'a' })) as NewObject<'node'>));
    await createTasks(store, pendingTasks(2));
    const scheduler = new Scheduler({ store, clock });
    running.push(scheduler);
    scheduler.start();
    await settle({ clock, scheduler });
    expect(countByNode(tasksOf(store))).toEqual({ a: 2 });
  });

  it('leaves an unplaceable task PENDING with the reason, and places it when a node joins', async () => {
    const h = await harness();
    await createTasks(h.store, [makeTask({ id: 't1' })]);
    await settle(h);
    const waiting = task(h.store, 't1');
    expect(waiting.status.state).toBe(TaskState.PENDING);
    expect(waiting.nodeId).toBe('');
    expect(waiting.status.err).toBe('no suitable node (no nodes in the cluster)');

    await h.store.update((tx) => tx.create('node', stripMeta(makeNode({ id: 'late' })) as NewObject<'node'>));
    await settle(h);
    const placed = task(h.store, 't1');
    expect(placed.status.state).toBe(TaskState.ASSIGNED);
    expect(placed.nodeId).toBe('late');
    expect(placed.status.err).toBeUndefined();
  });

  it('gives nothing to drained nodes, and says so when only drained nodes are left', async () => {
    const h = await harness([{ id: 'a', availability: 'drain' }, { id: 'b' }]);
    await createTasks(h.store, pendingTasks(3, { prefix: 'first' }));
    await settle(h);
    expect(countByNode(tasksOf(h.store))).toEqual({ b: 3 });

    await updateNode(h.store, 'b', (n) => ({ ...n, spec: { ...n.spec, availability: 'drain' } }));
    await createTasks(h.store, pendingTasks(1, { prefix: 'second' }));
    await settle(h);
    const t = task(h.store, 'second-1');
    expect(t.status.state).toBe(TaskState.PENDING);
    expect(t.status.err).toBe('no suitable node (drained on 2 nodes)');
  });

  it('writes a pending reason only when it changes', async () => {
    const h = await harness([{ id: 'a', memoryGb: 1 }]);
    await createTasks(h.store, [makeTask({ id: 'big', memoryGb: 4 })]);
    await settle(h);
    expect(task(h.store, 'big').status.err).toBe('no suitable node (insufficient memory on 1 node)');

    // A node change that does not help: the scheduler tries again, finds the same reason, writes nothing.
    await updateNode(h.store, 'a', (n) => ({ ...n, spec: { ...n.spec, labels: { zone: 'x' } } }));
    const v = h.store.version;
    await settle(h);
    expect(h.store.version).toBe(v);

    // One that changes the reason is written.
    await h.store.update((tx) => tx.create('node', stripMeta(makeNode({ id: 'b', state: 'down' })) as NewObject<'node'>));
    await settle(h);
    expect(task(h.store, 'big').status.err).toBe('no suitable node (not ready on 1 node; insufficient memory on 1 node)');
  });

  it('places a pending task once a finished task frees the memory it needs', async () => {
    const h = await harness([{ id: 'a', memoryGb: 4 }]);
    await createTasks(h.store, [makeTask({ id: 'first', memoryGb: 4 })]);
    await settle(h);
    await createTasks(h.store, [makeTask({ id: 'second', serviceId: 'other', memoryGb: 4 })]);
    await settle(h);
    expect(task(h.store, 'second').status.state).toBe(TaskState.PENDING);

    await updateTask(h.store, 'first', (t) => ({ ...t, status: { ...t.status, state: TaskState.COMPLETE, message: 'finished' } }));
    await settle(h);
    expect(task(h.store, 'second').nodeId).toBe('a');
    expect(task(h.store, 'second').status.state).toBe(TaskState.ASSIGNED);
  });

  it('checks that a global task still fits its node', async () => {
    const h = await harness([{ id: 'a' }, { id: 'b', hostname: 'bee', availability: 'pause' }]);
    await createTasks(h.store, [
      makeTask({ id: 'g-a', serviceId: 'global', nodeId: 'a' }),
      makeTask({ id: 'g-b', serviceId: 'global', nodeId: 'b' }),
    ]);
    await settle(h);
    expect(task(h.store, 'g-a').status.state).toBe(TaskState.ASSIGNED);
    expect(task(h.store, 'g-a').nodeId).toBe('a');
    const blocked = task(h.store, 'g-b');
    expect(blocked.status.state).toBe(TaskState.PENDING);
    expect(blocked.status.err).toBe('node bee not suitable: paused');

    await updateNode(h.store, 'b', (n) => ({ ...n, spec: { ...n.spec, availability: 'active' } }));
    await settle(h);
    expect(task(h.store, 'g-b').status.state).toBe(TaskState.ASSIGNED);
  });

  it('does not assign a task that changed after it was placed', async () => {
    const h = await harness([{ id: 'a' }]);
    await createTasks(h.store, [makeTask({ id: 't' })]);
    await new Promise((resolve) => setImmediate(resolve)); // the scheduler has seen it pending
    // The orchestrator shuts it down; the write is queued before the scheduler's batch.
    const shutdown = updateTask(h.store, 't', (t) => ({ ...t, desiredState: TaskState.SHUTDOWN }));
    h.clock.advance(DEFAULT_MAX_BATCH_DELAY_MS);
    await shutdown;
    await settle(h);
    const t = task(h.store, 't');
    expect(t.desiredState).toBe(TaskState.SHUTDOWN);
    expect(t.status.state).toBe(TaskState.PENDING);
    expect(t.nodeId).toBe('');

    // The undone placement no longer counts on the node: max 1 per node still allows a new task there.
    await createTasks(h.store, [makeTask({ id: 'u', placement: { maxReplicasPerNode: 1 } })]);
    await settle(h);
    expect(task(h.store, 'u').nodeId).toBe('a');
  });

  it('ignores tasks whose desired state is not RUNNING', async () => {
    const h = await harness([{ id: 'a' }]);
    await createTasks(h.store, [makeTask({ id: 'stop', desiredState: TaskState.SHUTDOWN })]);
    await settle(h);
    expect(task(h.store, 'stop').status.state).toBe(TaskState.PENDING);
    expect(task(h.store, 'stop').status.err).toBeUndefined();
  });

  it('spreads over zones with uneven node counts', async () => {
    const h = await harness([
      { id: 'a1', labels: { zone: 'a' } },
      { id: 'b1', labels: { zone: 'b' } },
      { id: 'b2', labels: { zone: 'b' } },
    ]);
    await createTasks(h.store, pendingTasks(4, { placement: { preferences: [{ spread: { descriptor: 'node.labels.zone' } }] } }));
    await settle(h);
    expect(countByNode(tasksOf(h.store))).toEqual({ a1: 2, b1: 1, b2: 1 });
  });

  it('stops watching when stopped, and picks up where the store is when started again', async () => {
    const h = await harness([{ id: 'a' }]);
    const watchers = h.store.watcherCount;
    h.scheduler.stop();
    expect(h.store.watcherCount).toBe(watchers - 1);
    await createTasks(h.store, [makeTask({ id: 'while-stopped' })]);
    await settle(h);
    expect(task(h.store, 'while-stopped').status.state).toBe(TaskState.PENDING);

    h.scheduler.start();
    await settle(h);
    expect(task(h.store, 'while-stopped').nodeId).toBe('a');
  });

  it('waits for a burst to end, but never more than maxBatchDelayMs', async () => {
    // Entries are counted: a count-only write slice, so a slow turn on a loaded machine cannot split one by time.
    const h = await harness([{ id: 'a' }], { writeSlice: { maxWrites: 100 } });
    const v0 = h.store.version;
    // A task every 40 ms keeps pushing the 50 ms quiet period back...
    for (let i = 0; i < 30; i++) {
      await createTasks(h.store, [makeTask({ id: `burst-${i}` })]);
      await new Promise((resolve) => setImmediate(resolve));
      h.clock.advance(40);
      await h.scheduler.settled();
    }
    // ...yet after 1.2 s the first tasks are placed, in few batches rather than one per task.
    const assigned = tasksOf(h.store).filter((t) => t.status.state === TaskState.ASSIGNED).length;
    expect(assigned).toBeGreaterThanOrEqual(20);
    expect(assigned).toBeLessThan(30);
    const schedulerEntries = h.store.version - v0 - 30; // 30 entries created the tasks
    expect(schedulerEntries).toBeLessThanOrEqual(2);
  });

  it('places 2,600 tasks in bounded writes, letting the event loop run between them', async () => {
    const h = await harness(Array.from({ length: 13 }, (_, i) => ({ id: `n${String(i).padStart(2, '0')}` })));
    const tasks = pendingTasks(2600);
    for (let i = 0; i < tasks.length; i += 500) await createTasks(h.store, tasks.slice(i, i + 500));
    const from = h.proposer.log.length;
    const assignedNow = () => h.store.view((tx) => tx.find('task', 'desiredState', TaskState.RUNNING).filter((t) => t.status.state === TaskState.ASSIGNED).length);
    // Another turn of the event loop, sampling as long as the scheduler works.
    const seen: number[] = [];
    let done = false;
    const tick = () => {
      seen.push(assignedNow());
      if (!done) setImmediate(tick);
    };
    setImmediate(tick);
    await settle(h);
    done = true;

    expect(assignedNow()).toBe(2600);
    expect(Object.values(countByNode(tasksOf(h.store))).every((n) => n === 200)).toBe(true);
    const sizes = h.proposer.log.slice(from).map((e) => (JSON.parse(new TextDecoder().decode(e.data)) as { a: unknown[] }).a.length);
    expect(sizes.length).toBeGreaterThanOrEqual(2600 / 500);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(500);
    expect(new Set(seen.filter((n) => n > 0 && n < 2600)).size).toBeGreaterThanOrEqual(4);
    expect(WRITE_SLICE.maxWrites).toBeLessThanOrEqual(500);
  });
});
