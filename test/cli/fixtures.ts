/** Nodes and clusters as a manager would return them, for swarmctl's tests. */
import type { Cluster, Node, NodeSpec } from '../../agent/api/objects';

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
