/** Object builders and a tiny multi-node log for the store tests. */
import {
  type Cluster,
  type Network,
  type Node,
  type Secret,
  type Service,
  type Task,
  TaskState,
} from '../../agent/api/objects';
import { MemoryStore, type MemoryStoreOptions, type Proposer, type StateMachine, type NewObject } from '../../agent/store';

export const T0 = new Date('2025-01-01T00:00:00.000Z');

/** A clock that advances one second per call, so every proposal gets a distinct, known timestamp. */
export function steppingClock(start = T0): () => Date {
  let t = start.getTime();
  return () => {
    const d = new Date(t);
    t += 1000;
    return d;
  };
}

export function node(id: string, hostname: string, extra: Partial<NewObject<'node'>> = {}): NewObject<'node'> {
  return {
    id,
    spec: { labels: {}, role: 'worker', availability: 'active' },
    status: { state: 'ready', message: '', addr: '10.0.0.1' },
    role: 'worker',
    description: {
      hostname,
      platform: { os: 'linux', arch: 'x86_64' },
      resources: { nanoCpus: 4e9, memoryBytes: 8 * 2 ** 30 },
    },
    ...extra,
  } satisfies Omit<Node, 'meta'>;
}

export function service(id: string, name: string, replicas = 1): NewObject<'service'> {
  return {
    id,
    spec: {
      name,
      labels: {},
      mode: { replicated: { replicas } },
      task: { container: { image: 'nginx:1.27', env: ['A=1'] } },
    },
    status: {},
    specVersion: 1,
  } satisfies Omit<Service, 'meta'>;
}

export function task(
  id: string,
  serviceId: string,
  slot: number,
  nodeId = '',
  desiredState: TaskState = TaskState.RUNNING,
): NewObject<'task'> {
  return {
    id,
    serviceId,
    slot,
    nodeId,
    desiredState,
    serviceAnnotations: { name: serviceId, labels: {} },
    spec: { container: { image: 'nginx:1.27' } },
    status: { state: TaskState.NEW, message: 'created', timestamp: T0.toISOString() },
  } satisfies Omit<Task, 'meta'>;
}

export function network(id: string, name: string): NewObject<'network'> {
  return { id, spec: { name, labels: {}, driver: { name: 'overlay' } }, status: {} } satisfies Omit<Network, 'meta'>;
}

export function secret(id: string, name: string, data = 'c2VjcmV0'): NewObject<'secret'> {
  return { id, spec: { name, labels: {}, data }, status: {} } satisfies Omit<Secret, 'meta'>;
}

export function cluster(id: string, name = 'default'): NewObject<'cluster'> {
  return {
    id,
    spec: {
      name,
      labels: {},
      orchestration: { taskHistoryRetentionLimit: 5 },
      dispatcher: { heartbeatPeriodMs: 5000 },
      caConfig: { nodeCertExpiryMs: 90 * 24 * 3600 * 1000 },
    },
    status: {},
    rootCa: { caCertPem: '-----BEGIN CERTIFICATE-----', joinTokens: { worker: 'SWMTKN-w', manager: 'SWMTKN-m' } },
  } satisfies Omit<Cluster, 'meta'>;
}

/**
 * A shared log for several stores, standing in for Raft: proposals from any node are appended in
 * arrival order and applied to every node when flush() runs; each proposal resolves with its own node's
 * apply result, as the real runner does.
 */
export class SharedLog {
  readonly entries: Uint8Array[] = [];
  private readonly machines: StateMachine[] = [];
  private readonly pending: { index: number; node: number; resolve(v: unknown): void }[] = [];
  private applied = 0;
  private autoFlush = false;

  addNode(options: MemoryStoreOptions = {}): MemoryStore {
    const nodeIndex = this.machines.length;
    const proposer: Proposer = {
      propose: (data) =>
        new Promise((resolve) => {
          this.entries.push(data);
          this.pending.push({ index: this.entries.length, node: nodeIndex, resolve });
          if (this.autoFlush) setImmediate(() => this.flush());
        }),
      linearizableBarrier: async () => {
        this.flush();
      },
    };
    const store = new MemoryStore(proposer, options);
    this.machines.push(store);
    return store;
  }

  /** Apply proposals soon after they arrive (on a later macrotask, like a network round trip). */
  setAutoFlush(on: boolean): void {
    this.autoFlush = on;
  }

  flush(): void {
    while (this.applied < this.entries.length) {
      const index = ++this.applied;
      const data = this.entries[index - 1];
      const results = this.machines.map((m) => m.apply(data, index));
      const p = this.pending.findIndex((x) => x.index === index);
      if (p >= 0) {
        const [{ node: n, resolve }] = this.pending.splice(p, 1);
        resolve(results[n]);
      }
    }
  }
}

/** Lets queued microtasks and timers run. */
export function tick(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
