/** Nodes and tasks for scheduler tests, with only the fields a test cares about spelled out. */
import type { Node, NodeAvailability, NodeRole, NodeState, Placement, PortConfig, Task, TaskState as TaskStateT } from '../../agent/api/objects';
import { TaskState } from '../../agent/api/objects';
import { NodeSet } from '../../agent/manager/scheduler/node-set';

const META = { version: 1, createdAt: '2025-01-01T00:00:00.000Z', updatedAt: '2025-01-01T00:00:00.000Z' };
export const GB = 1024 ** 3;
export const CPU = 1e9;

export interface NodeOptions {
  id: string;
  hostname?: string;
  role?: NodeRole;
  labels?: Record<string, string>;
  engineLabels?: Record<string, string>;
  os?: string;
  arch?: string;
  cpus?: number;
  memoryGb?: number;
  availability?: NodeAvailability;
  state?: NodeState;
}

export function makeNode(o: NodeOptions): Node {
  return {
    id: o.id,
    meta: META,
    role: o.role ?? 'worker',
    spec: { labels: o.labels ?? {}, role: o.role ?? 'worker', availability: o.availability ?? 'active' },
    status: { state: o.state ?? 'ready', message: '', addr: '127.0.0.1' },
    description: {
      hostname: o.hostname ?? o.id,
      platform: { os: o.os ?? 'linux', arch: o.arch ?? 'x86_64' },
      resources: { nanoCpus: (o.cpus ?? 4) * CPU, memoryBytes: (o.memoryGb ?? 8) * GB },
      engine: { version: '27.0', labels: o.engineLabels ?? {} },
    },
  };
}

export interface TaskOptions {
  id: string;
  serviceId?: string;
  specVersion?: number;
  placement?: Partial<Placement>;
  cpus?: number;
  memoryGb?: number;
  hostPorts?: number[];
  nodeId?: string;
  state?: TaskStateT;
  desiredState?: TaskStateT;
}

export function makeTask(o: TaskOptions): Task {
  const ports: PortConfig[] = (o.hostPorts ?? []).map((p) => ({ protocol: 'tcp', targetPort: 80, publishedPort: p, publishMode: 'host' }));
  const reservations = o.cpus !== undefined || o.memoryGb !== undefined ? { nanoCpus: (o.cpus ?? 0) * CPU, memoryBytes: (o.memoryGb ?? 0) * GB } : undefined;
  return {
    id: o.id,
    meta: META,
    serviceId: o.serviceId ?? 'svc',
    slot: 1,
    nodeId: o.nodeId ?? '',
    desiredState: o.desiredState ?? TaskState.RUNNING,
    specVersion: o.specVersion ?? 1,
    serviceAnnotations: { name: o.serviceId ?? 'svc', labels: {} },
    spec: {
      container: { image: 'busybox' },
      resources: reservations ? { reservations } : undefined,
      placement: o.placement ? { constraints: [], ...o.placement } : undefined,
    },
    status: { state: o.state ?? TaskState.PENDING, message: 'pending task scheduling', timestamp: META.createdAt },
    endpoint: ports.length > 0 ? { spec: { mode: 'vip', ports }, ports, virtualIps: [] } : undefined,
  };
}

/** `n` pending tasks of one service: `${prefix}1`..`${prefix}n`. */
export function makeTasks(n: number, o: Omit<TaskOptions, 'id'> & { prefix?: string } = {}): Task[] {
  const out: Task[] = [];
  for (let i = 1; i <= n; i++) out.push(makeTask({ ...o, id: `${o.prefix ?? o.serviceId ?? 't'}-${i}` }));
  return out;
}

export function nodeSetOf(nodes: readonly Node[], tasks: readonly Task[] = []): NodeSet {
  const set = new NodeSet();
  for (const n of nodes) set.upsertNode(n);
  for (const t of tasks) set.observeTask(t, 0);
  return set;
}

/** nodeId -> number of assignments, for spread assertions. */
export function countByNode(assigned: readonly { nodeId: string }[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const a of assigned) out[a.nodeId] = (out[a.nodeId] ?? 0) + 1;
  return out;
}
