import { afterEach, describe, expect, it } from 'vitest';
import { TaskState } from '../../agent/api/objects';
import { type World, createWorld, describeTasks } from './fixtures';

let world: World;
afterEach(() => world?.stop());

function nodesOf(tasks: { nodeId: string }[]): string[] {
  return tasks.map((t) => t.nodeId).sort();
}

describe('global orchestrator', () => {
  it('runs one task on every ready, active node that meets the constraints, and follows the nodes', async () => {
    world = await createWorld();
    await world.addNode('a', { labels: { zone: 'east' } });
    await world.addNode('b', { labels: { zone: 'east' } });
    await world.addNode('c', { labels: { zone: 'west' } });
    const service = await world.createService({ global: true, task: { container: { image: 'agent:1' }, placement: { constraints: ['node.labels.zone==east'] } } });
    await world.converge();
    expect(nodesOf(world.running(service.id))).toEqual(['a', 'b']);
    for (const t of world.running(service.id)) expect(t.name).toBe(`${service.spec.name}.${t.nodeId}.${t.id}`);

    // A node joins: it gets a task once it is ready.
    await world.addNode('d', { labels: { zone: 'east' }, state: 'unknown' });
    await world.converge();
    expect(nodesOf(world.running(service.id))).toEqual(['a', 'b']);
    await world.updateNode('d', (n) => ({ ...n, status: { ...n.status, state: 'ready' } }));
    await world.converge();
    expect(nodesOf(world.running(service.id))).toEqual(['a', 'b', 'd']);

    // Drained: its task is told to stop. Labels change: west now qualifies, b does not.
    await world.updateNode('a', (n) => ({ ...n, spec: { ...n.spec, availability: 'drain' } }));
    await world.updateNode('b', (n) => ({ ...n, spec: { ...n.spec, labels: { zone: 'west' } } }));
    await world.updateNode('c', (n) => ({ ...n, spec: { ...n.spec, labels: { zone: 'east' } } }));
    await world.settle();
    const byNode = new Map(world.tasks(service.id).filter((t) => t.desiredState === TaskState.SHUTDOWN).map((t) => [t.nodeId, t]));
    expect([...byNode.keys()].sort()).toEqual(['a', 'b']);
    await world.converge();
    expect(nodesOf(world.running(service.id))).toEqual(['c', 'd']);

    // Back to active: a new task.
    await world.updateNode('a', (n) => ({ ...n, spec: { ...n.spec, availability: 'active' } }));
    await world.converge();
    expect(nodesOf(world.running(service.id))).toEqual(['a', 'c', 'd']);

    // Down, then removed.
    await world.updateNode('c', (n) => ({ ...n, status: { ...n.status, state: 'down' } }));
    await world.store.deleteObject('node', 'd');
    await world.settle();
    expect(describeTasks(world.tasks(service.id).filter((t) => t.nodeId === 'c' || t.nodeId === 'd'))).toContain('c:RUNNING/SHUTDOWN');
    expect(describeTasks(world.tasks(service.id).filter((t) => t.nodeId === 'd'))).toContain('d:RUNNING/SHUTDOWN');
  });

  it('keeps tasks on nodes in unknown state (a leader change) and restarts failed ones on the same node', async () => {
    world = await createWorld();
    await world.addNode('a');
    const service = await world.createService({ global: true, task: { container: { image: 'agent:1' }, restart: { condition: 'any', delayMs: 2000, maxAttempts: 0, windowMs: 0 } } });
    await world.converge();
    const [first] = world.running(service.id);
    await world.updateNode('a', (n) => ({ ...n, status: { ...n.status, state: 'unknown' } }));
    await world.settle();
    expect(world.store.get('task', first.id)?.desiredState).toBe(TaskState.RUNNING);

    await world.updateNode('a', (n) => ({ ...n, status: { ...n.status, state: 'ready' } }));
    await world.setState(first.id, TaskState.FAILED);
    await world.settle();
    expect(world.tasks(service.id)).toHaveLength(1);
    world.clock.advance(2000);
    await world.converge();
    const [second] = world.running(service.id);
    expect(second.id).not.toBe(first.id);
    expect(second.nodeId).toBe('a');
  });
});

describe('constraint enforcer and drain', () => {
  it('moves replicated tasks off a drained node: slots refilled, placed on the other nodes', async () => {
    world = await createWorld();
    await world.addNode('a');
    await world.addNode('b');
    const service = await world.createService({ replicas: 4 });
    await world.converge();
    expect(nodesOf(world.running(service.id))).toEqual(['a', 'a', 'b', 'b']);
    const onB = world.running(service.id).filter((t) => t.nodeId === 'b');

    await world.updateNode('b', (n) => ({ ...n, spec: { ...n.spec, availability: 'drain' } }));
    await world.settle();
    for (const t of onB) expect(world.store.get('task', t.id)?.desiredState).toBe(TaskState.SHUTDOWN);
    await world.converge();
    expect(nodesOf(world.running(service.id))).toEqual(['a', 'a', 'a', 'a']);
    expect(world.running(service.id).map((t) => t.slot)).toEqual([1, 2, 3, 4]);
  });

  it('moves a task whose node stops meeting its constraints, and one whose node goes down', async () => {
    world = await createWorld();
    await world.addNode('a', { labels: { disk: 'ssd' } });
    await world.addNode('b', { labels: { disk: 'ssd' } });
    const service = await world.createService({ replicas: 2, task: { container: { image: 'db:1' }, placement: { constraints: ['node.labels.disk==ssd'] } } });
    await world.converge();
    expect(nodesOf(world.running(service.id))).toEqual(['a', 'b']);

    await world.updateNode('b', (n) => ({ ...n, spec: { ...n.spec, labels: { disk: 'hdd' } } }));
    await world.converge();
    expect(nodesOf(world.running(service.id))).toEqual(['a', 'a']);

    await world.addNode('c', { labels: { disk: 'ssd' } });
    await world.updateNode('a', (n) => ({ ...n, status: { ...n.status, state: 'down' } }));
    await world.converge();
    expect(nodesOf(world.running(service.id))).toEqual(['c', 'c']);
  });

  it('leaves tasks alone on a paused node or a node in unknown state', async () => {
    world = await createWorld();
    await world.addNode('a');
    const service = await world.createService({ replicas: 2 });
    await world.converge();
    const before = world.running(service.id).map((t) => t.id);
    await world.updateNode('a', (n) => ({ ...n, spec: { ...n.spec, availability: 'pause' }, status: { ...n.status, state: 'unknown' } }));
    await world.converge();
    expect(world.tasks(service.id).map((t) => t.id).sort()).toEqual([...before].sort());
  });
});
