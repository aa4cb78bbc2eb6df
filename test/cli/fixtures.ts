/** Nodes, clusters, services and tasks as a manager would return them, for swarmctl's tests. */
import type { ServiceView } from '../../agent/api/control';
import { type Cluster, type Node, type NodeSpec, type ServiceSpec, type Task, TaskState, type TaskStateName } from '../../agent/api/objects';

const META = { version: 7, createdAt: '2025-01-01T00:00:00.000Z', updatedAt: '2025-01-01T00:00:00.000Z' };

export interface NodeOptions {
  id: string;
  hostname: string;
  name?: string;
  role?: Node['role'];
  state?: Node['status']['state'];
  availability?: NodeSpec['availability'];
  labels?: Record<string, string>;
  manager?: { leader: boolean; reachability: 'reachable' | 'unreachable' | 'unknown' };
}

export function makeNode(options: NodeOptions): Node {
  const role = options.role ?? (options.manager === undefined ? 'worker' : 'manager');
  return {
    id: options.id,
    meta: { ...META },
    spec: {
      ...(options.name === undefined ? {} : { name: options.name }),
      labels: options.labels ?? {},
      role,
      availability: options.availability ?? 'active',
    },
    status: { state: options.state ?? 'ready', message: '', addr: '172.31.27.16' },
    role,
    description: {
      hostname: options.hostname,
      platform: { os: 'linux', arch: 'x86_64' },
      resources: { nanoCpus: 4e9, memoryBytes: 8 * 2 ** 30 },
    },
    ...(options.manager === undefined ? {} : { managerStatus: { raftId: 1, addr: '172.31.27.16:4242', ...options.manager } }),
  };
}

export function makeCluster(id: string, name = 'default'): Cluster {
  return {
    id,
    meta: { ...META },
    spec: {
      name,
      labels: {},
      orchestration: { taskHistoryRetentionLimit: 5 },
      dispatcher: { heartbeatPeriodMs: 5000 },
      caConfig: { nodeCertExpiryMs: 2160 * 60 * 60 * 1000 },
    },
    status: {},
    rootCa: {
      caCertPem: '-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n',
      joinTokens: {
        worker: 'SWMTKN-1-3vi7ajem0jed12ib3pb9ixsofe7bnwvkwnjgdbmdv6sgvj7wnn-29kxz34bcz8gvzdwjpimutxvp',
        manager: 'SWMTKN-1-3vi7ajem0jed12ib3pb9ixsofe7bnwvkwnjgdbmdv6sgvj7wnn-34npzkvzoxss2s6tx7q1ss11s',
      },
    },
  };
}

export const SERVICE_ID = 't2neubvbyyqc8rynt09drjhl9';

/** The seed's nginx service, with `running` of its replicas running. */
export function makeService(options: { id?: string; name?: string; image?: string; replicas?: number; running?: number; spec?: Partial<ServiceSpec> } = {}): ServiceView {
  const replicas = options.replicas ?? 1;
  return {
    id: options.id ?? SERVICE_ID,
    meta: { ...META },
    spec: {
      name: options.name ?? 'nginx',
      labels: {},
      mode: { replicated: { replicas } },
      task: { container: { image: options.image ?? 'nginx:1.11.1-alpine' } },
      ...options.spec,
    },
    specVersion: 1,
    status: {},
    replicas: { running: options.running ?? replicas, desired: replicas },
  };
}

export interface TaskOptions {
  id: string;
  service: ServiceView;
  slot: number;
  nodeId: string;
  state?: TaskStateName;
  desired?: TaskStateName;
  /** When the state was reached. */
  at: string;
  createdAt?: string;
}

export function makeTask(options: TaskOptions): Task {
  const { service } = options;
  return {
    id: options.id,
    meta: { ...META, createdAt: options.createdAt ?? options.at },
    spec: service.spec.task,
    serviceId: service.id,
    slot: options.slot,
    nodeId: options.nodeId,
    desiredState: TaskState[options.desired ?? 'RUNNING'],
    serviceAnnotations: { name: service.spec.name, labels: service.spec.labels },
    specVersion: service.specVersion,
    status: { state: TaskState[options.state ?? 'RUNNING'], message: 'started', timestamp: options.at },
    name: `${service.spec.name}.${options.slot}.${options.id}`,
  };
}
