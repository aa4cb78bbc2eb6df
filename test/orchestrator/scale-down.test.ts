/**
 * Scale-down as SwarmKit does it: the tasks of retired slots are desired REMOVE (never just SHUTDOWN),
 * so the worker removes their containers and the task reaper deletes them from the store once they
 * stopped, or at once when no node ever got them. What `task ls -a` shows afterwards is the live slots
 * and their history, nothing of the retired ones.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { TaskState } from '../../agent/api/objects';
import { type World, createWorld, describeTasks } from './fixtures';

let world: World | undefined;
afterEach(() => world?.stop());

const restartAny = { condition: 'any' as const, delayMs: 0, maxAttempts: 0, windowMs: 0 };

describe('scale-down', () => {
  it('deletes never-assigned PENDING tasks of retired slots at once', async () => {
    world = await createWorld();
    // No node: every task stays PENDING, none is ever given to a worker.
    const service = await world.createService({ replicas: 6 });
    await world.settle();
    expect(describeTasks(world.tasks(service.id))).toEqual(['1', '2', '3', '4', '5', '6'].map((s) => `${s}:PENDING/RUNNING`));

    await world.updateService(service.id, (s) => ({ ...s, mode: { replicated: { replicas: 2 } } }));
    await world.settle();
    expect(describeTasks(world.tasks(service.id))).toEqual(['1:PENDING/RUNNING', '2:PENDING/RUNNING']);
  });

  it('keeps running tasks of retired slots until the node reports them stopped, then deletes them', async () => {
    world = await createWorld();
    await world.addNode('n1');
    const service = await world.createService({ replicas: 6 });
    await world.converge();
    await world.updateService(service.id, (s) => ({ ...s, mode: { replicated: { replicas: 2 } } }));
    await world.settle();
    // Still running on the node: the worker must see them (desired REMOVE) to stop and remove them.
    expect(describeTasks(world.tasks(service.id))).toEqual([
      '1:RUNNING/RUNNING',
      '2:RUNNING/RUNNING',
      '3:RUNNING/REMOVE',
      '4:RUNNING/REMOVE',
      '5:RUNNING/REMOVE',
      '6:RUNNING/REMOVE',
    ]);
    const slot3 = world.tasks(service.id).find((t) => t.slot === 3);
    if (slot3 === undefined) throw new Error('slot 3 missing');
    await world.setState(slot3.id, TaskState.SHUTDOWN);
    await world.settle();
    expect(world.store.get('task', slot3.id)).toBeUndefined();
    expect(world.tasks(service.id)).toHaveLength(5);
    await world.converge();
    expect(describeTasks(world.tasks(service.id))).toEqual(['1:RUNNING/RUNNING', '2:RUNNING/RUNNING']);
  });

  it('keeps the history of live slots and drops that of retired ones', async () => {
    world = await createWorld();
    await world.addNode('n1');
    const service = await world.createService({ replicas: 3, task: { container: { image: 'busybox:1' }, restart: restartAny } });
    await world.converge();
    // One failure in every slot: each gets a replacement and keeps the failed task as history.
    for (const task of world.running(service.id)) await world.setState(task.id, TaskState.FAILED, 'boom');
    await world.settle();
    world.clock.advance(0);
    await world.converge();
    expect(world.tasks(service.id)).toHaveLength(6);

    await world.updateService(service.id, (s) => ({ ...s, mode: { replicated: { replicas: 1 } } }));
    await world.converge();
    expect(describeTasks(world.tasks(service.id))).toEqual(['1:FAILED/SHUTDOWN', '1:RUNNING/RUNNING']);
  });

  it('removes a dead slot above the replica count (left by an earlier scale-down), history included', async () => {
    world = await createWorld();
    await world.addNode('n1');
    const service = await world.createService({ replicas: 2 });
    await world.converge();
    // What an older manager left behind: slot 5 told to SHUTDOWN (not REMOVE), stopped, never deleted.
    const template = world.tasks(service.id)[0];
    await world.store.createObject('task', {
      ...template,
      id: 'leftover',
      slot: 5,
      desiredState: TaskState.SHUTDOWN,
      status: { state: TaskState.SHUTDOWN, message: 'shutdown', timestamp: new Date(world.clock.now()).toISOString() },
      meta: undefined,
    });
    await world.updateService(service.id, (s) => ({ ...s, labels: { touched: 'yes' } }));
    await world.converge();
    expect(world.store.get('task', 'leftover')).toBeUndefined();
    expect(describeTasks(world.tasks(service.id))).toEqual(['1:RUNNING/RUNNING', '2:RUNNING/RUNNING']);
  });

  it('scaling back up after a scale-down refills the retired slot numbers with new tasks', async () => {
    world = await createWorld();
    await world.addNode('n1');
    const service = await world.createService({ replicas: 4 });
    await world.converge();
    const before = new Set(world.tasks(service.id).map((t) => t.id));
    await world.updateService(service.id, (s) => ({ ...s, mode: { replicated: { replicas: 2 } } }));
    await world.converge();
    await world.updateService(service.id, (s) => ({ ...s, mode: { replicated: { replicas: 4 } } }));
    await world.converge();
    const tasks = world.tasks(service.id);
    expect(describeTasks(tasks)).toEqual(['1', '2', '3', '4'].map((s) => `${s}:RUNNING/RUNNING`));
    expect(tasks.filter((t) => t.slot > 2).every((t) => !before.has(t.id))).toBe(true);
  });
});
