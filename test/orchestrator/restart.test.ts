import { afterEach, describe, expect, it } from 'vitest';
import { type RestartPolicy, TaskState } from '../../agent/api/objects';
import { type World, createWorld } from './fixtures';

let world: World;
afterEach(() => world?.stop());

async function serviceWith(restart: RestartPolicy, historyLimit?: number) {
  world = await createWorld({ historyLimit });
  await world.addNode('n1');
  const service = await world.createService({ replicas: 1, task: { container: { image: 'busybox:1' }, restart } });
  await world.converge();
  return service;
}

function slotTasks(serviceId: string) {
  return world.tasks(serviceId).sort((a, b) => Date.parse(a.meta.createdAt) - Date.parse(b.meta.createdAt) || a.meta.version - b.meta.version);
}

describe('restart supervisor', () => {
  it('replaces a failed task in the same slot only after the restart delay; the old one is told to shut down', async () => {
    const service = await serviceWith({ condition: 'any', delayMs: 3000, maxAttempts: 0, windowMs: 0 });
    const [first] = world.running(service.id);
    await world.setState(first.id, TaskState.FAILED, 'exit 1');
    await world.settle();
    expect(world.store.get('task', first.id)?.desiredState).toBe(TaskState.SHUTDOWN);
    expect(world.tasks(service.id)).toHaveLength(1);

    world.clock.advance(2999);
    await world.settle();
    expect(world.tasks(service.id)).toHaveLength(1);

    world.clock.advance(1);
    await world.settle();
    const replacement = world.tasks(service.id).find((t) => t.id !== first.id);
    expect(replacement?.slot).toBe(first.slot);
    expect(replacement?.desiredState).toBe(TaskState.RUNNING);
    await world.converge();
    expect(world.running(service.id).map((t) => t.id)).toEqual([replacement?.id]);
  });

  it('condition none leaves a finished task alone; on-failure restarts failures but not completions', async () => {
    const none = await serviceWith({ condition: 'none', delayMs: 0, maxAttempts: 0, windowMs: 0 });
    const [task] = world.running(none.id);
    await world.setState(task.id, TaskState.FAILED);
    await world.settle();
    world.clock.advance(60_000);
    await world.converge();
    expect(world.tasks(none.id).map((t) => [t.id, t.status.state, t.desiredState])).toEqual([[task.id, TaskState.FAILED, TaskState.RUNNING]]);
    world.stop();

    const onFailure = await serviceWith({ condition: 'on-failure', delayMs: 0, maxAttempts: 0, windowMs: 0 });
    const [a] = world.running(onFailure.id);
    await world.setState(a.id, TaskState.FAILED);
    await world.settle();
    world.clock.advance(0);
    await world.converge();
    const [b] = world.running(onFailure.id);
    expect(b.id).not.toBe(a.id);
    await world.setState(b.id, TaskState.COMPLETE);
    await world.settle();
    world.clock.advance(60_000);
    await world.converge();
    expect(world.running(onFailure.id)).toHaveLength(0);
    expect(world.tasks(onFailure.id)).toHaveLength(2);
  });

  it('stops after maxAttempts restarts when there is no window', async () => {
    const service = await serviceWith({ condition: 'any', delayMs: 1000, maxAttempts: 2, windowMs: 0 });
    for (let i = 0; i < 4; i++) {
      const live = world.tasks(service.id).filter((t) => t.desiredState === TaskState.RUNNING && t.status.state === TaskState.RUNNING);
      if (live.length === 0) break;
      await world.setState(live[0].id, TaskState.FAILED);
      await world.settle();
      world.clock.advance(1000);
      await world.converge();
    }
    // The original task and two restarts; the last one failed and was left alone.
    const tasks = slotTasks(service.id);
    expect(tasks).toHaveLength(3);
    expect(tasks.every((t) => t.status.state === TaskState.FAILED)).toBe(true);
    expect(tasks.map((t) => t.desiredState)).toEqual([TaskState.SHUTDOWN, TaskState.SHUTDOWN, TaskState.RUNNING]);
  });

  it('counts attempts within the window only', async () => {
    const service = await serviceWith({ condition: 'any', delayMs: 1000, maxAttempts: 1, windowMs: 10_000 });
    // Failures 30 s apart: each is the only one in its window, so each is restarted.
    for (let i = 0; i < 3; i++) {
      const [live] = world.running(service.id);
      expect(live).toBeDefined();
      world.clock.advance(30_000);
      await world.setState(live.id, TaskState.FAILED);
      await world.settle();
      world.clock.advance(1000);
      await world.converge();
    }
    expect(world.running(service.id)).toHaveLength(1);
    // Two failures within 10 s: the second is not restarted.
    const [live] = world.running(service.id);
    world.clock.advance(30_000);
    await world.setState(live.id, TaskState.FAILED);
    await world.settle();
    world.clock.advance(1000);
    await world.converge();
    const [next] = world.running(service.id);
    world.clock.advance(2000);
    await world.setState(next.id, TaskState.FAILED);
    await world.settle();
    world.clock.advance(60_000);
    await world.converge();
    expect(world.running(service.id)).toHaveLength(0);
    expect(world.store.get('task', next.id)?.desiredState).toBe(TaskState.RUNNING);
  });

  it('a scale-down during the delay cancels the restart of a retired slot', async () => {
    world = await createWorld();
    await world.addNode('n1');
    const service = await world.createService({ replicas: 2, task: { container: { image: 'busybox:1' }, restart: { condition: 'any', delayMs: 5000, maxAttempts: 0, windowMs: 0 } } });
    await world.converge();
    const slot2 = world.running(service.id).find((t) => t.slot === 2);
    if (slot2 === undefined) throw new Error('slot 2 missing');
    await world.setState(slot2.id, TaskState.FAILED);
    await world.settle();
    await world.updateService(service.id, (s) => ({ ...s, mode: { replicated: { replicas: 1 } } }));
    await world.settle();
    world.clock.advance(5000);
    await world.converge();
    // No replacement, and the retired slot's failed task is gone from the store (desired REMOVE, reaped).
    expect(world.tasks(service.id).filter((t) => t.slot === 2)).toHaveLength(0);
    expect(world.running(service.id).map((t) => t.slot)).toEqual([1]);
  });
});

describe('task reaper', () => {
  it('keeps at most the cluster history limit of tasks per slot, deleting the oldest stopped ones', async () => {
    const service = await serviceWith({ condition: 'any', delayMs: 0, maxAttempts: 0, windowMs: 0 }, 3);
    const seen: string[] = [];
    for (let i = 0; i < 6; i++) {
      const [live] = world.running(service.id);
      seen.push(live.id);
      world.clock.advance(1000);
      await world.setState(live.id, TaskState.FAILED);
      await world.settle();
      world.clock.advance(0);
      await world.converge();
    }
    const [current] = world.running(service.id);
    const left = world.tasks(service.id).map((t) => t.id).sort();
    // The running task plus the two most recent failures.
    expect(left).toEqual([current.id, seen[4], seen[5]].sort());
  });

  it('keeps maxAttempts + 1 tasks when the restart policy caps attempts, so the count survives', async () => {
    const service = await serviceWith({ condition: 'any', delayMs: 0, maxAttempts: 4, windowMs: 0 }, 2);
    for (let i = 0; i < 6; i++) {
      const live = world.running(service.id);
      if (live.length === 0) break;
      world.clock.advance(1000);
      await world.setState(live[0].id, TaskState.FAILED);
      await world.settle();
      world.clock.advance(0);
      await world.converge();
    }
    const tasks = world.tasks(service.id);
    expect(tasks).toHaveLength(5);
    expect(world.running(service.id)).toHaveLength(0);
  });
});
