/** Small cluster objects for the renderer's unit tests. */
import { TaskState } from '../../agent/api/objects';
import type { ClusterSnapshot, NodeView, ServiceView, Task } from '../../electron/contract';

const meta = (version: number) => ({ version, createdAt: '2026-11-26T20:00:00.000Z', updatedAt: '2026-11-26T20:00:00.000Z' });

export function node(id: string, version = 1, overrides: Partial<NodeView> = {}): NodeView {
  return {
    id,
    meta: meta(version),
    spec: { labels: {}, role: 'worker', availability: 'active' },
    status: { state: 'ready', message: '', addr: '10.0.0.1' },
    role: 'worker',
    description: { hostname: `host-${id}`, platform: { os: 'linux', arch: 'x86_64' }, resources: { nanoCpus: 2e9, memoryBytes: 2 ** 31 } },
    taskCount: 0,
    ...overrides,
  };
}

export function service(id: string, name: string, version = 1, overrides: Partial<ServiceView> = {}): ServiceView {
  return {
    id,
    meta: meta(version),
    spec: { name, labels: {}, mode: { replicated: { replicas: 2 } }, task: { container: { image: 'nginx' } } },
    status: {},
    specVersion: 1,
    replicas: { running: 2, desired: 2 },
    ...overrides,
  };
}

export function task(id: string, serviceId: string, slot: number, version = 1, overrides: Partial<Task> = {}): Task {
  return {
    id,
    meta: meta(version),
    spec: { container: { image: 'nginx' } },
    status: { state: TaskState.RUNNING, message: 'started', timestamp: '2026-11-26T20:00:00.000Z' },
    serviceId,
    slot,
    nodeId: 'n1',
    desiredState: TaskState.RUNNING,
    serviceAnnotations: { name: serviceId, labels: {} },
    specVersion: 1,
    ...overrides,
  };
}

export function snapshot(revision: number, parts: Partial<Omit<ClusterSnapshot, 'revision'>> = {}): ClusterSnapshot {
  return {
    revision,
    cluster: { id: 'c1', name: 'default', leaderNodeId: 'n1', managers: { total: 1, reachable: 1, quorum: 1 }, hasQuorum: true },
    nodes: [],
    services: [],
    tasks: [],
    ...parts,
  };
}
