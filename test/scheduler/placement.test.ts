import { describe, expect, it } from 'vitest';
import { TaskState } from '../../agent/api/objects';
import { FAILURE_WINDOW_MS, MAX_RECENT_FAILURES, failureKeyOf } from '../../agent/manager/scheduler/node-info';
import { placeTasks } from '../../agent/manager/scheduler/placement';
import { countByNode, makeNode, makeTask, makeTasks, nodeSetOf } from './fixtures';

const NOW = Date.UTC(2025, 0, 1, 12);

describe('filters', () => {
  it('skips nodes that are not ready, drained or paused', () => {
    const nodes = nodeSetOf([
      makeNode({ id: 'down', state: 'down' }),
      makeNode({ id: 'unknown', state: 'unknown' }),
      makeNode({ id: 'drained', availability: 'drain' }),
      makeNode({ id: 'paused', availability: 'pause' }),
      makeNode({ id: 'ok' }),
    ]);
    const { assigned, unplaced } = placeTasks(nodes, makeTasks(4), NOW);
    expect(unplaced).toEqual([]);
    expect(countByNode(assigned)).toEqual({ ok: 4 });
  });

  it('says which availability problems kept a task pending', () => {
    const nodes = nodeSetOf([
      makeNode({ id: 'a', state: 'down' }),
      makeNode({ id: 'b', state: 'disconnected' }),
      makeNode({ id: 'c', availability: 'drain' }),
      makeNode({ id: 'd', availability: 'pause' }),
    ]);
    const { assigned, unplaced } = placeTasks(nodes, makeTasks(1), NOW);
    expect(assigned).toEqual([]);
    expect(unplaced[0].reason).toBe('no suitable node (not ready on 2 nodes; drained on 1 node; paused on 1 node)');
  });

  it('says so when the cluster has no node at all', () => {
    const { unplaced } = placeTasks(nodeSetOf([]), makeTasks(1), NOW);
    expect(unplaced[0].reason).toBe('no suitable node (no nodes in the cluster)');
  });

  it('places by memory and CPU reservations and stops when they run out', () => {
    const nodes = nodeSetOf([makeNode({ id: 'small', cpus: 1, memoryGb: 1 }), makeNode({ id: 'big', cpus: 4, memoryGb: 8 })]);
    const tasks = makeTasks(6, { memoryGb: 2 });
    const { assigned, unplaced } = placeTasks(nodes, tasks, NOW);
    expect(countByNode(assigned)).toEqual({ big: 4 });
    expect(unplaced.map((u) => u.reason)).toEqual([
      'no suitable node (insufficient memory on 2 nodes)',
      'no suitable node (insufficient memory on 2 nodes)',
    ]);
    expect(nodes.get('big')?.availableMemoryBytes).toBe(0);
  });

  it('names CPU, memory or both', () => {
    const nodes = nodeSetOf([
      makeNode({ id: 'few-cpus', cpus: 1, memoryGb: 64 }),
      makeNode({ id: 'little-memory', cpus: 64, memoryGb: 1 }),
      makeNode({ id: 'tiny', cpus: 1, memoryGb: 1 }),
    ]);
    const { unplaced } = placeTasks(nodes, [makeTask({ id: 't', cpus: 2, memoryGb: 2 })], NOW);
    expect(unplaced[0].reason).toBe(
      'no suitable node (insufficient CPU on 1 node; insufficient memory on 1 node; insufficient CPU and memory on 1 node)',
    );
  });

  it('counts the reservations of tasks already running on a node', () => {
    const running = makeTask({ id: 'old', serviceId: 'other', memoryGb: 7, nodeId: 'a', state: TaskState.RUNNING });
    const nodes = nodeSetOf([makeNode({ id: 'a', memoryGb: 8 }), makeNode({ id: 'b', memoryGb: 8 })], [running]);
    const { assigned } = placeTasks(nodes, makeTasks(2, { memoryGb: 4 }), NOW);
    expect(countByNode(assigned)).toEqual({ b: 2 });
  });

  it('frees the reservation of a task once it has stopped', () => {
    const old = makeTask({ id: 'old', serviceId: 'other', memoryGb: 8, nodeId: 'a', state: TaskState.RUNNING });
    const nodes = nodeSetOf([makeNode({ id: 'a', memoryGb: 8 })], [old]);
    expect(placeTasks(nodes, [makeTask({ id: 'x', memoryGb: 1 })], NOW).assigned).toEqual([]);
    nodes.observeTask({ ...old, status: { ...old.status, state: TaskState.COMPLETE } }, NOW);
    expect(placeTasks(nodes, [makeTask({ id: 'y', memoryGb: 1 })], NOW).assigned.map((a) => a.nodeId)).toEqual(['a']);
  });

  it('keeps nodes that fail constraints out and reports them', () => {
    const nodes = nodeSetOf([
      makeNode({ id: 'a', labels: { zone: 'a' } }),
      makeNode({ id: 'b', labels: { zone: 'b' } }),
      makeNode({ id: 'c' }),
    ]);
    const ok = placeTasks(nodes, makeTasks(3, { prefix: 'ok', placement: { constraints: ['node.labels.zone==a'] } }), NOW);
    expect(countByNode(ok.assigned)).toEqual({ a: 3 });
    const none = placeTasks(nodes, makeTasks(1, { prefix: 'no', placement: { constraints: ['node.labels.zone==z'] } }), NOW);
    expect(none.unplaced[0].reason).toBe('no suitable node (constraint not met on 3 nodes)');
  });

  it('reports each node under the first filter it fails, in pipeline order', () => {
    const nodes = nodeSetOf([
      makeNode({ id: 'a', memoryGb: 1, labels: { zone: 'a' } }),
      makeNode({ id: 'b', memoryGb: 1, labels: { zone: 'b' } }),
      makeNode({ id: 'c', memoryGb: 16, labels: { zone: 'b' } }),
    ]);
    const { unplaced } = placeTasks(nodes, [makeTask({ id: 't', memoryGb: 2, placement: { constraints: ['node.labels.zone==a'] } })], NOW);
    expect(unplaced[0].reason).toBe('no suitable node (insufficient memory on 2 nodes; constraint not met on 1 node)');
  });

  it('reports an unparsable constraint instead of trying nodes', () => {
    const nodes = nodeSetOf([makeNode({ id: 'a' })]);
    const { unplaced } = placeTasks(nodes, [makeTask({ id: 't', placement: { constraints: ['node.labels.zone=a'] } })], NOW);
    expect(unplaced[0].reason).toBe('invalid constraint "node.labels.zone=a": expected exactly one operator, == or !=');
  });

  it('honours node.role and node.hostname constraints', () => {
    const nodes = nodeSetOf([
      makeNode({ id: 'm', hostname: 'manager-1', role: 'manager' }),
      makeNode({ id: 'w1', hostname: 'worker-1' }),
      makeNode({ id: 'w2', hostname: 'worker-2' }),
    ]);
    const managers = placeTasks(nodes, makeTasks(2, { prefix: 'm', serviceId: 's1', placement: { constraints: ['node.role==manager'] } }), NOW);
    expect(countByNode(managers.assigned)).toEqual({ m: 2 });
    const notW1 = placeTasks(
      nodes,
      makeTasks(4, { prefix: 'h', serviceId: 's2', placement: { constraints: ['node.role==worker', 'node.hostname!=worker-1'] } }),
      NOW,
    );
    expect(countByNode(notW1.assigned)).toEqual({ w2: 4 });
  });

  it('matches the requested platform, arch aliases included', () => {
    const nodes = nodeSetOf([
      makeNode({ id: 'x86', os: 'linux', arch: 'x86_64' }),
      makeNode({ id: 'arm', os: 'linux', arch: 'aarch64' }),
      makeNode({ id: 'win', os: 'windows', arch: 'x86_64' }),
    ]);
    const arm = placeTasks(nodes, makeTasks(2, { prefix: 'arm', serviceId: 'a', placement: { platforms: [{ os: 'linux', arch: 'arm64' }] } }), NOW);
    expect(countByNode(arm.assigned)).toEqual({ arm: 2 });
    const amd = placeTasks(nodes, makeTasks(2, { prefix: 'amd', serviceId: 'b', placement: { platforms: [{ os: 'linux', arch: 'amd64' }] } }), NOW);
    expect(countByNode(amd.assigned)).toEqual({ x86: 2 });
    const mips = placeTasks(nodes, makeTasks(1, { prefix: 'mips', serviceId: 'c', placement: { platforms: [{ os: 'linux', arch: 'mips' }] } }), NOW);
    expect(mips.unplaced[0].reason).toBe('no suitable node (unsupported platform on 3 nodes)');
  });

  it('never puts two tasks publishing the same host port on one node', () => {
    const nodes = nodeSetOf([makeNode({ id: 'a' }), makeNode({ id: 'b' }), makeNode({ id: 'c' })]);
    const { assigned, unplaced } = placeTasks(nodes, makeTasks(4, { hostPorts: [8080] }), NOW);
    expect(countByNode(assigned)).toEqual({ a: 1, b: 1, c: 1 });
    expect(unplaced).toHaveLength(1);
    expect(unplaced[0].reason).toBe('no suitable node (host port tcp/8080 in use on 3 nodes)');
    // Another port still fits everywhere, and another service's port is checked too.
    const other = placeTasks(nodes, makeTasks(3, { serviceId: 'other', hostPorts: [9090] }), NOW);
    expect(countByNode(other.assigned)).toEqual({ a: 1, b: 1, c: 1 });
  });

  it('sees host ports held by running tasks of other services', () => {
    const holder = makeTask({ id: 'h', serviceId: 'holder', hostPorts: [80], nodeId: 'a', state: TaskState.RUNNING });
    const nodes = nodeSetOf([makeNode({ id: 'a' }), makeNode({ id: 'b' })], [holder]);
    const { assigned } = placeTasks(nodes, makeTasks(1, { hostPorts: [80] }), NOW);
    expect(assigned.map((a) => a.nodeId)).toEqual(['b']);
  });

  it('stops at max replicas per node', () => {
    const nodes = nodeSetOf([makeNode({ id: 'a' }), makeNode({ id: 'b' })]);
    const { assigned, unplaced } = placeTasks(nodes, makeTasks(5, { placement: { maxReplicasPerNode: 2 } }), NOW);
    expect(countByNode(assigned)).toEqual({ a: 2, b: 2 });
    expect(unplaced.map((u) => u.reason)).toEqual(['no suitable node (max replicas per node (2) reached on 2 nodes)']);
  });
});

describe('spread', () => {
  it('puts 6 replicas on 3 nodes as 2/2/2', () => {
    const nodes = nodeSetOf([makeNode({ id: 'a' }), makeNode({ id: 'b' }), makeNode({ id: 'c' })]);
    const { assigned } = placeTasks(nodes, makeTasks(6), NOW);
    expect(countByNode(assigned)).toEqual({ a: 2, b: 2, c: 2 });
  });

  it('fills the nodes with fewest tasks of the service first', () => {
    const existing = [
      makeTask({ id: 'e1', nodeId: 'a', state: TaskState.RUNNING }),
      makeTask({ id: 'e2', nodeId: 'a', state: TaskState.RUNNING }),
      makeTask({ id: 'e3', nodeId: 'b', state: TaskState.RUNNING }),
    ];
    const nodes = nodeSetOf([makeNode({ id: 'a' }), makeNode({ id: 'b' }), makeNode({ id: 'c' })], existing);
    const { assigned } = placeTasks(nodes, makeTasks(3, { prefix: 'new' }), NOW);
    expect(countByNode(assigned)).toEqual({ b: 1, c: 2 });
  });

  it('breaks ties by the total number of tasks on the node', () => {
    const busy = [
      makeTask({ id: 'o1', serviceId: 'other', nodeId: 'a', state: TaskState.RUNNING }),
      makeTask({ id: 'o2', serviceId: 'other', nodeId: 'a', state: TaskState.RUNNING }),
      makeTask({ id: 'o3', serviceId: 'other', nodeId: 'b', state: TaskState.RUNNING }),
    ];
    const nodes = nodeSetOf([makeNode({ id: 'a' }), makeNode({ id: 'b' }), makeNode({ id: 'c' })], busy);
    const { assigned } = placeTasks(nodes, makeTasks(1), NOW);
    expect(assigned[0].nodeId).toBe('c');
    const two = placeTasks(nodes, makeTasks(1, { serviceId: 's2' }), NOW);
    expect(two.assigned[0].nodeId).toBe('b');
  });

  it('does not count tasks being shut down', () => {
    const stopping = [
      makeTask({ id: 's1', nodeId: 'a', state: TaskState.RUNNING, desiredState: TaskState.SHUTDOWN }),
      makeTask({ id: 's2', nodeId: 'a', state: TaskState.RUNNING, desiredState: TaskState.SHUTDOWN }),
      makeTask({ id: 'r1', nodeId: 'b', state: TaskState.RUNNING }),
    ];
    const nodes = nodeSetOf([makeNode({ id: 'a' }), makeNode({ id: 'b' })], stopping);
    expect(placeTasks(nodes, makeTasks(1), NOW).assigned[0].nodeId).toBe('a');
  });

  it('spreads many tasks evenly over many nodes', () => {
    const nodes = nodeSetOf(Array.from({ length: 7 }, (_, i) => makeNode({ id: `n${i}` })));
    const { assigned } = placeTasks(nodes, makeTasks(100), NOW);
    const counts = Object.values(countByNode(assigned));
    expect(counts).toHaveLength(7);
    expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
  });

  it('tries last a node where this service failed 5 times in the last 5 minutes', () => {
    const nodes = nodeSetOf([makeNode({ id: 'a' }), makeNode({ id: 'b' })]);
    const key = failureKeyOf({ serviceId: 'svc', specVersion: 1 });
    for (let i = 0; i < MAX_RECENT_FAILURES; i++) nodes.get('a')?.recordFailure(key, NOW - 60_000 + i);
    // b already runs two tasks of the service: without the penalty, a would be chosen.
    nodes.observeTask(makeTask({ id: 'r1', nodeId: 'b', state: TaskState.RUNNING }), NOW);
    nodes.observeTask(makeTask({ id: 'r2', nodeId: 'b', state: TaskState.RUNNING }), NOW);
    expect(placeTasks(nodes, [makeTask({ id: 'x' })], NOW).assigned[0].nodeId).toBe('b');
    // Once the failures are older than the window, a is preferred again.
    expect(placeTasks(nodes, [makeTask({ id: 'y' })], NOW + FAILURE_WINDOW_MS).assigned[0].nodeId).toBe('a');
  });

  it('counts failures only for the same service version, and only from 5 on', () => {
    const nodes = nodeSetOf([makeNode({ id: 'a' }), makeNode({ id: 'b' })]);
    nodes.observeTask(makeTask({ id: 'r1', nodeId: 'b', state: TaskState.RUNNING }), NOW);
    const old = failureKeyOf({ serviceId: 'svc', specVersion: 0 });
    for (let i = 0; i < 10; i++) nodes.get('a')?.recordFailure(old, NOW - i);
    const current = failureKeyOf({ serviceId: 'svc', specVersion: 1 });
    for (let i = 0; i < MAX_RECENT_FAILURES - 1; i++) nodes.get('a')?.recordFailure(current, NOW - i);
    expect(placeTasks(nodes, [makeTask({ id: 'x' })], NOW).assigned[0].nodeId).toBe('a');
  });

  it('records a failure when a task on the node fails', () => {
    const nodes = nodeSetOf([makeNode({ id: 'a' })]);
    for (let i = 0; i < 3; i++) {
      const t = makeTask({ id: `f${i}`, nodeId: 'a', state: TaskState.RUNNING });
      nodes.observeTask(t, NOW);
      nodes.observeTask({ ...t, status: { ...t.status, state: i === 2 ? TaskState.REJECTED : TaskState.FAILED } }, NOW);
      // A repeated report of the same failure is not a new failure.
      nodes.observeTask({ ...t, status: { ...t.status, state: TaskState.FAILED } }, NOW);
    }
    expect(nodes.get('a')?.recentFailureCount(failureKeyOf({ serviceId: 'svc', specVersion: 1 }), NOW)).toBe(3);
    expect(nodes.get('a')?.activeTasks).toBe(0);
  });
});

describe('spread preferences', () => {
  const zoned = () =>
    nodeSetOf([
      makeNode({ id: 'a1', labels: { zone: 'a' } }),
      makeNode({ id: 'b1', labels: { zone: 'b' } }),
      makeNode({ id: 'b2', labels: { zone: 'b' } }),
      makeNode({ id: 'b3', labels: { zone: 'b' } }),
    ]);
  const spreadZone = { preferences: [{ spread: { descriptor: 'node.labels.zone' } }] };

  it('splits tasks evenly between label values, not nodes', () => {
    const nodes = zoned();
    const { assigned } = placeTasks(nodes, makeTasks(6, { placement: spreadZone }), NOW);
    expect(countByNode(assigned)).toEqual({ a1: 3, b1: 1, b2: 1, b3: 1 });
  });

  it('gives the remainder to the zone with fewer tasks of the service', () => {
    const nodes = zoned();
    nodes.observeTask(makeTask({ id: 'e1', nodeId: 'b1', state: TaskState.RUNNING }), NOW);
    nodes.observeTask(makeTask({ id: 'e2', nodeId: 'b2', state: TaskState.RUNNING }), NOW);
    const { assigned } = placeTasks(nodes, makeTasks(3, { placement: spreadZone }), NOW);
    // b has 2: a catches up with 2, and the third (5 do not split evenly) goes to a too, the zone
    // with fewer tasks when the pass started.
    expect(countByNode(assigned)).toEqual({ a1: 3 });
    // Now a has 3 and b 2: 2 more both go to b (4/3), filling its empty node first.
    const more = placeTasks(nodes, makeTasks(2, { prefix: 'more', placement: spreadZone }), NOW);
    expect(countByNode(more.assigned)).toEqual({ b3: 2 });
    expect(nodes.get('a1')?.tasksOfService('svc')).toBe(3);
  });

  it('puts nodes without the label in a branch of their own', () => {
    const nodes = nodeSetOf([
      makeNode({ id: 'a1', labels: { zone: 'a' } }),
      makeNode({ id: 'a2', labels: { zone: 'a' } }),
      makeNode({ id: 'x1' }),
      makeNode({ id: 'x2' }),
    ]);
    const { assigned } = placeTasks(nodes, makeTasks(4, { placement: spreadZone }), NOW);
    expect(countByNode(assigned)).toEqual({ a1: 1, a2: 1, x1: 1, x2: 1 });
  });

  it('moves a full zone\'s share to the others', () => {
    const nodes = nodeSetOf([
      makeNode({ id: 'a1', labels: { zone: 'a' }, memoryGb: 2 }),
      makeNode({ id: 'b1', labels: { zone: 'b' }, memoryGb: 8 }),
      makeNode({ id: 'c1', labels: { zone: 'c' }, memoryGb: 8 }),
    ]);
    const { assigned, unplaced } = placeTasks(nodes, makeTasks(9, { memoryGb: 1, placement: spreadZone }), NOW);
    expect(unplaced).toEqual([]);
    expect(countByNode(assigned)).toEqual({ a1: 2, b1: 4, c1: 3 });
  });

  it('nests preferences: zone, then rack within the zone', () => {
    const nodes = nodeSetOf([
      makeNode({ id: 'a-r1', labels: { zone: 'a', rack: 'r1' } }),
      makeNode({ id: 'a-r2a', labels: { zone: 'a', rack: 'r2' } }),
      makeNode({ id: 'a-r2b', labels: { zone: 'a', rack: 'r2' } }),
      makeNode({ id: 'b-r1', labels: { zone: 'b', rack: 'r1' } }),
    ]);
    const placement = { preferences: [{ spread: { descriptor: 'node.labels.zone' } }, { spread: { descriptor: 'node.labels.rack' } }] };
    const { assigned } = placeTasks(nodes, makeTasks(8, { placement }), NOW);
    expect(countByNode(assigned)).toEqual({ 'a-r1': 2, 'a-r2a': 1, 'a-r2b': 1, 'b-r1': 4 });
  });

  it('spreads over engine labels too', () => {
    const nodes = nodeSetOf([
      makeNode({ id: 's1', engineLabels: { disk: 'ssd' } }),
      makeNode({ id: 'h1', engineLabels: { disk: 'hdd' } }),
      makeNode({ id: 'h2', engineLabels: { disk: 'hdd' } }),
    ]);
    const placement = { preferences: [{ spread: { descriptor: 'engine.labels.disk' } }] };
    const { assigned } = placeTasks(nodes, makeTasks(4, { placement }), NOW);
    expect(countByNode(assigned)).toEqual({ s1: 2, h1: 1, h2: 1 });
  });
});

describe('global tasks (node chosen in advance)', () => {
  it('assigns a task to its node when the node fits', () => {
    const nodes = nodeSetOf([makeNode({ id: 'a' }), makeNode({ id: 'b' })]);
    const { assigned } = placeTasks(nodes, [makeTask({ id: 'g', serviceId: 'global', nodeId: 'b' })], NOW);
    expect(assigned).toEqual([expect.objectContaining({ nodeId: 'b' })]);
    expect(nodes.get('b')?.activeTasks).toBe(1);
  });

  it('keeps it pending with the node\'s problem otherwise', () => {
    const nodes = nodeSetOf([
      makeNode({ id: 'a', hostname: 'alpha', availability: 'drain' }),
      makeNode({ id: 'b', hostname: 'beta', memoryGb: 1 }),
    ]);
    const { unplaced } = placeTasks(
      nodes,
      [
        makeTask({ id: 'g1', serviceId: 'global', nodeId: 'a' }),
        makeTask({ id: 'g2', serviceId: 'global2', nodeId: 'b', memoryGb: 2 }),
        makeTask({ id: 'g3', serviceId: 'global', nodeId: 'gone' }),
      ],
      NOW,
    );
    expect(unplaced.map((u) => u.reason)).toEqual([
      'node alpha not suitable: drained',
      'node beta not suitable: insufficient memory',
      'node gone is not in the cluster',
    ]);
  });
});

describe('batches', () => {
  it('lets later groups of a batch see the load of earlier ones', () => {
    const nodes = nodeSetOf([makeNode({ id: 'a', memoryGb: 4 }), makeNode({ id: 'b', memoryGb: 4 })]);
    const tasks = [...makeTasks(2, { serviceId: 's1', memoryGb: 3 }), ...makeTasks(2, { serviceId: 's2', memoryGb: 3 })];
    const { assigned, unplaced } = placeTasks(nodes, tasks, NOW);
    expect(countByNode(assigned)).toEqual({ a: 1, b: 1 });
    expect(unplaced.map((u) => u.task.serviceId)).toEqual(['s2', 's2']);
  });

  it('undoes a decision with removeTask', () => {
    const nodes = nodeSetOf([makeNode({ id: 'a', memoryGb: 4 })]);
    const { assigned } = placeTasks(nodes, makeTasks(1, { memoryGb: 4 }), NOW);
    nodes.removeTask(assigned[0].task.id);
    expect(nodes.get('a')?.availableMemoryBytes).toBe(4 * 1024 ** 3);
    expect(nodes.get('a')?.activeTasks).toBe(0);
  });
});

describe('node infos', () => {
  it('keeps the load of a node across description changes', () => {
    const t = makeTask({ id: 'r', memoryGb: 3, hostPorts: [80], nodeId: 'a', state: TaskState.RUNNING });
    const nodes = nodeSetOf([makeNode({ id: 'a', memoryGb: 8 })], [t]);
    nodes.upsertNode(makeNode({ id: 'a', memoryGb: 16, labels: { zone: 'z' } }));
    const info = nodes.get('a');
    expect(info?.availableMemoryBytes).toBe(13 * 1024 ** 3);
    expect(info?.labels).toEqual({ zone: 'z' });
    expect(info?.hostPorts.has('tcp/80')).toBe(true);
    expect(info?.tasksOfService('svc')).toBe(1);
  });

  it('counts tasks again when their node comes back', () => {
    const t = makeTask({ id: 'r', memoryGb: 3, nodeId: 'a', state: TaskState.RUNNING });
    const nodes = nodeSetOf([makeNode({ id: 'a', memoryGb: 8 })], [t]);
    nodes.removeNode('a');
    expect(nodes.get('a')).toBeUndefined();
    nodes.upsertNode(makeNode({ id: 'a', memoryGb: 8 }));
    expect(nodes.get('a')?.availableMemoryBytes).toBe(5 * 1024 ** 3);
  });

  it('moves a task that changed node', () => {
    const t = makeTask({ id: 'r', nodeId: 'a', state: TaskState.RUNNING });
    const nodes = nodeSetOf([makeNode({ id: 'a' }), makeNode({ id: 'b' })], [t]);
    nodes.observeTask({ ...t, nodeId: 'b' }, NOW);
    expect(nodes.get('a')?.activeTasks).toBe(0);
    expect(nodes.get('b')?.activeTasks).toBe(1);
  });
});
