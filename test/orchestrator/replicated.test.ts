import { afterEach, describe, expect, it } from 'vitest';
import { TaskState } from '../../agent/api/objects';
import { type World, createWorld, describeTasks } from './fixtures';

let world: World;
afterEach(() => world?.stop());

describe('allocator', () => {
  it('moves new tasks to PENDING with their service endpoint (host-mode ports)', async () => {
    world = await createWorld();
    const ports = [{ protocol: 'tcp' as const, targetPort: 80, publishedPort: 8080, publishMode: 'host' as const }];
    const service = await world.createService({ replicas: 2, endpoint: { mode: 'vip', ports } });
    await world.settle();
    const tasks = world.tasks(service.id);
    expect(tasks).toHaveLength(2);
    for (const task of tasks) {
      expect(task.status.state).toBe(TaskState.PENDING);
      expect(task.status.message).toBe('pending task scheduling');
      expect(task.endpoint?.ports).toEqual(ports);
    }
  });
});

describe('replicated orchestrator', () => {
  it('creates one task per slot 1..N, named service.slot.id, from the service spec', async () => {
    world = await createWorld();
    await world.addNode('n1');
    const service = await world.createService({ replicas: 3, image: 'nginx:1' });
    await world.converge();
    const running = world.running(service.id);
    expect(running.map((t) => t.slot)).toEqual([1, 2, 3]);
    for (const t of running) {
      expect(t.name).toBe(`${service.spec.name}.${t.slot}.${t.id}`);
      expect(t.spec.container.image).toBe('nginx:1');
      expect(t.specVersion).toBe(1);
    }
  });

  it('scales up into new slots and down by retiring the highest slots (desired REMOVE, deleted once stopped)', async () => {
    world = await createWorld();
    await world.addNode('n1');
    const service = await world.createService({ replicas: 3 });
    await world.converge();
    const original = new Map(world.running(service.id).map((t) => [t.slot, t.id]));

    await world.updateService(service.id, (s) => ({ ...s, mode: { replicated: { replicas: 5 } } }));
    await world.converge();
    expect(world.running(service.id).map((t) => t.slot)).toEqual([1, 2, 3, 4, 5]);
    // Scaling is not an update: the first three tasks were not replaced.
    for (const [slot, id] of original) expect(world.running(service.id).find((t) => t.slot === slot)?.id).toBe(id);

    await world.updateService(service.id, (s) => ({ ...s, mode: { replicated: { replicas: 2 } } }));
    await world.settle();
    expect(describeTasks(world.tasks(service.id))).toEqual([
      '1:RUNNING/RUNNING',
      '2:RUNNING/RUNNING',
      '3:RUNNING/REMOVE',
      '4:RUNNING/REMOVE',
      '5:RUNNING/REMOVE',
    ]);
    await world.converge();
    expect(world.running(service.id).map((t) => t.slot)).toEqual([1, 2]);
    // Once the node reported them stopped, the retired slots' tasks are deleted: only the live slots remain.
    expect(describeTasks(world.tasks(service.id))).toEqual(['1:RUNNING/RUNNING', '2:RUNNING/RUNNING']);

    // Scaling up again reuses the lowest free slots.
    await world.updateService(service.id, (s) => ({ ...s, mode: { replicated: { replicas: 4 } } }));
    await world.converge();
    expect(world.running(service.id).map((t) => t.slot)).toEqual([1, 2, 3, 4]);
  });

  it('refills a slot whose task was stopped by someone else, at once', async () => {
    world = await createWorld();
    await world.addNode('n1');
    const service = await world.createService({ replicas: 2 });
    await world.converge();
    const victim = world.running(service.id)[0];
    await world.store.update((tx) => {
      const t = tx.get('task', victim.id);
      if (t) tx.update('task', { ...t, desiredState: TaskState.SHUTDOWN });
    });
    await world.settle();
    const slot1 = world.tasks(service.id).filter((t) => t.slot === victim.slot && t.desiredState === TaskState.RUNNING);
    expect(slot1).toHaveLength(1);
    expect(slot1[0].id).not.toBe(victim.id);
  });

  it('tells all tasks of a deleted service to go (REMOVE); the reaper deletes them once stopped', async () => {
    world = await createWorld();
    await world.addNode('n1');
    const service = await world.createService({ replicas: 3 });
    await world.converge();
    await world.store.deleteObject('service', service.id);
    await world.settle();
    const tasks = world.tasks(service.id);
    expect(tasks.map((t) => t.desiredState)).toEqual([TaskState.REMOVE, TaskState.REMOVE, TaskState.REMOVE]);
    // Still running on the worker: kept until it reports them stopped.
    expect(tasks.every((t) => t.status.state === TaskState.RUNNING)).toBe(true);
    await world.setState(tasks[0].id, TaskState.SHUTDOWN);
    await world.settle();
    expect(world.tasks(service.id)).toHaveLength(2);
    await world.converge();
    expect(world.tasks(service.id)).toHaveLength(0);
  });

  it('deletes a pendingDelete service after its tasks are gone', async () => {
    world = await createWorld();
    await world.addNode('n1');
    const service = await world.createService({ replicas: 2 });
    await world.converge();
    const current = world.store.get('service', service.id);
    if (current === undefined) throw new Error('service missing');
    await world.store.updateObject('service', { ...current, pendingDelete: true });
    await world.settle();
    expect(world.store.get('service', service.id)).toBeDefined();
    expect(world.tasks(service.id).every((t) => t.desiredState === TaskState.REMOVE)).toBe(true);
    await world.converge();
    expect(world.tasks(service.id)).toHaveLength(0);
    expect(world.store.get('service', service.id)).toBeUndefined();
  });

  it('a new leader picks up where the store is: missing slots filled, orphaned tasks removed', async () => {
    world = await createWorld();
    await world.addNode('n1');
    const service = await world.createService({ replicas: 2 });
    await world.converge();
    world.orchestration.stop();
    const gone = await world.createService({ replicas: 1 });
    const current = world.store.get('service', service.id);
    if (current === undefined) throw new Error('service missing');
    await world.store.updateObject('service', { ...current, spec: { ...current.spec, mode: { replicated: { replicas: 3 } } } });
    // A task of a service that is deleted while nobody leads.
    await world.store.createObject('task', { ...world.tasks(service.id)[0], id: 'orphan', serviceId: 'deleted-service', meta: undefined });
    world.orchestration.start();
    await world.converge();
    expect(world.running(service.id).map((t) => t.slot)).toEqual([1, 2, 3]);
    expect(world.running(gone.id)).toHaveLength(1);
    expect(world.store.get('task', 'orphan')).toBeUndefined();
  });
});

describe('orchestration duty', () => {
  it('does nothing once stopped (leadership lost)', async () => {
    world = await createWorld();
    await world.addNode('n1');
    world.orchestration.stop();
    const service = await world.createService({ replicas: 2 });
    await world.settle();
    expect(world.tasks(service.id)).toHaveLength(0);
    world.orchestration.start();
    await world.settle();
    expect(world.tasks(service.id)).toHaveLength(2);
  });
});
