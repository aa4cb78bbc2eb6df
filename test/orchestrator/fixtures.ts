/**
 * A store, a virtual clock and the orchestration duty, with the scheduler and the workers simulated by
 * writing task statuses directly (the real ones are tested elsewhere). `settle()` waits for every
 * reaction to finish by counting event-loop turns in which the store did not change, never wall time,
 * so the tests behave the same on a loaded machine.
 */
import type { Node, NodeAvailability, NodeState, Service, ServiceSpec, Task, TaskState as TaskStateT, UpdateConfig } from '../../agent/api/objects';
import { TaskState } from '../../agent/api/objects';
import { advanceStatus, isTaskFinished } from '../../agent/api/task-lifecycle';
import { defaultClusterSpec } from '../../agent/manager/cluster-objects';
import { createOrchestration, type Orchestration } from '../../agent/manager/orchestrator';
import { meetsConstraints } from '../../agent/manager/orchestrator/node-fitness';
import { createLocalStore, type LocalProposer, type MemoryStore } from '../../agent/store';
import { FakeClock } from '../support/fake-clock';

export const BROKEN_IMAGE = 'registry.invalid/broken:1';

export interface World {
  store: MemoryStore;
  /** Its log holds every entry proposed when the world was created with `record`. */
  proposer: LocalProposer;
  clock: FakeClock;
  orchestration: Orchestration;
  /** Waits until nothing reacts any more. */
  settle(): Promise<void>;
  /** Scheduler and workers until nothing moves: pending tasks placed, assigned ones run, stopped ones stop. */
  converge(): Promise<void>;
  /** One round of the simulated scheduler and workers; returns how many tasks it moved. */
  simulate(options?: { run?: boolean; stop?: boolean }): Promise<number>;
  addNode(id: string, options?: { labels?: Record<string, string>; state?: NodeState; availability?: NodeAvailability; role?: 'worker' | 'manager' }): Promise<Node>;
  updateNode(id: string, change: (node: Node) => Node): Promise<Node>;
  createService(spec: Partial<ServiceSpec> & { replicas?: number; global?: boolean; image?: string }): Promise<Service>;
  /** A spec change as the control API makes it: previous spec kept, specVersion bumped. */
  updateService(id: string, change: (spec: ServiceSpec) => ServiceSpec): Promise<Service>;
  tasks(serviceId?: string): Task[];
  /** Live (desired RUNNING) tasks by slot (or node for global services). */
  running(serviceId: string): Task[];
  setState(taskId: string, state: TaskStateT, err?: string): Promise<void>;
  stop(): void;
}

export function updateConfig(config: Partial<UpdateConfig>): UpdateConfig {
  return { parallelism: 1, delayMs: 0, failureAction: 'pause', monitorMs: 5000, maxFailureRatio: 0, order: 'stop-first', ...config };
}

export async function createWorld(options: { historyLimit?: number; record?: boolean } = {}): Promise<World> {
  const clock = new FakeClock();
  const { store, proposer } = createLocalStore({ now: () => new Date(clock.now()), record: options.record });
  const spec = defaultClusterSpec();
  if (options.historyLimit !== undefined) spec.orchestration.taskHistoryRetentionLimit = options.historyLimit;
  await store.createObject('cluster', { id: 'cluster', spec, status: {}, rootCa: { caCertPem: '', joinTokens: { worker: '', manager: '' } } });
  const orchestration = createOrchestration({ store, clock });
  orchestration.start();

  const iso = () => new Date(clock.now()).toISOString();
  let nextService = 0;

  async function settle(): Promise<void> {
    let version = store.version;
    let quiet = 0;
    for (let turn = 0; quiet < 5; turn++) {
      if (turn > 5000) throw new Error('the orchestrators never settled');
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (store.version === version) quiet++;
      else {
        version = store.version;
        quiet = 0;
      }
    }
  }

  async function setState(taskId: string, state: TaskStateT, err?: string): Promise<void> {
    await store.update((tx) => {
      const task = tx.get('task', taskId);
      if (task === undefined) throw new Error(`no task ${taskId}`);
      const next = advanceStatus(task, { state, message: `simulated ${state}`, err, timestamp: iso() });
      if (next !== undefined) tx.update('task', next);
    });
  }

  async function simulate(opts: { run?: boolean; stop?: boolean } = {}): Promise<number> {
    const run = opts.run ?? true;
    const stop = opts.stop ?? true;
    const { value } = await store.update((tx) => {
      let moved = 0;
      const nodes = tx.list('node').filter((n) => n.status.state === 'ready' && n.spec.availability === 'active');
      const load = new Map<string, number>();
      for (const t of tx.list('task')) if (t.nodeId !== '' && t.desiredState <= TaskState.RUNNING && !isTaskFinished(t.status.state)) load.set(t.nodeId, (load.get(t.nodeId) ?? 0) + 1);
      const put = (task: Task, state: TaskStateT, extra: Partial<Task> = {}, err?: string) => {
        const next = advanceStatus({ ...task, ...extra }, { state, message: `simulated ${state}`, err, timestamp: iso() });
        if (next !== undefined) {
          tx.update('task', next);
          moved++;
        }
      };
      for (const task of tx.list('task')) {
        const s = task.status.state;
        if (task.desiredState > TaskState.RUNNING) {
          if (stop && s >= TaskState.ASSIGNED && s <= TaskState.RUNNING) put(task, TaskState.SHUTDOWN);
          continue;
        }
        if (s === TaskState.PENDING) {
          // Scheduler: global tasks come with their node; replicated ones go to the least loaded node that fits.
          if (task.nodeId !== '') put(task, TaskState.ASSIGNED);
          else {
            const fits = nodes.filter((n) => meetsConstraints(n, task.spec)).sort((a, b) => (load.get(a.id) ?? 0) - (load.get(b.id) ?? 0) || (a.id < b.id ? -1 : 1));
            if (fits.length > 0) {
              load.set(fits[0].id, (load.get(fits[0].id) ?? 0) + 1);
              put(task, TaskState.ASSIGNED, { nodeId: fits[0].id });
            }
          }
        } else if (run && s >= TaskState.ASSIGNED && s < TaskState.RUNNING) {
          // Worker: a missing image is refused, anything else starts.
          if (task.spec.container.image === BROKEN_IMAGE) put(task, TaskState.REJECTED, {}, 'No such image: ' + BROKEN_IMAGE);
          else put(task, TaskState.RUNNING);
        }
      }
      return moved;
    });
    return value;
  }

  async function converge(): Promise<void> {
    for (let round = 0; ; round++) {
      if (round > 100) throw new Error('the simulated cluster never converged');
      await settle();
      if ((await simulate()) === 0) return;
    }
  }

  return {
    store,
    proposer,
    clock,
    orchestration,
    settle,
    converge,
    simulate,
    setState,
    async addNode(id, o = {}) {
      const role = o.role ?? 'worker';
      return store.createObject('node', {
        id,
        role,
        spec: { labels: o.labels ?? {}, role, availability: o.availability ?? 'active' },
        status: { state: o.state ?? 'ready', message: '', addr: '10.0.0.1' },
        description: { hostname: id, platform: { os: 'linux', arch: 'x86_64' }, resources: { nanoCpus: 4e9, memoryBytes: 8 * 1024 ** 3 } },
      });
    },
    async updateNode(id, change) {
      const node = store.get('node', id);
      if (node === undefined) throw new Error(`no node ${id}`);
      return store.updateObject('node', change(node));
    },
    async createService(s) {
      const { replicas, global, image, ...rest } = s;
      const spec: ServiceSpec = {
        name: `svc${++nextService}`,
        labels: {},
        mode: global === true ? { global: {} } : { replicated: { replicas: replicas ?? 1 } },
        task: { container: { image: image ?? 'busybox:1' } },
        ...rest,
      };
      return store.createObject('service', { id: `service-${nextService}`, spec, status: {}, specVersion: 1 });
    },
    async updateService(id, change) {
      const service = store.get('service', id);
      if (service === undefined) throw new Error(`no service ${id}`);
      return store.updateObject('service', { ...service, previousSpec: service.spec, spec: change(service.spec), specVersion: service.specVersion + 1 });
    },
    tasks(serviceId) {
      return store.view((tx) => (serviceId === undefined ? tx.list('task') : tx.find('task', 'serviceId', serviceId)));
    },
    running(serviceId) {
      return store
        .view((tx) => tx.find('task', 'serviceId', serviceId))
        .filter((t) => t.desiredState === TaskState.RUNNING && t.status.state === TaskState.RUNNING)
        .sort((a, b) => a.slot - b.slot || (a.nodeId < b.nodeId ? -1 : 1));
    },
    stop() {
      orchestration.stop();
    },
  };
}

/** `slot:state/desired` lines, sorted, for assertions a person can read. */
export function describeTasks(tasks: readonly Task[]): string[] {
  const name = (s: number) => Object.entries(TaskState).find(([, v]) => v === s)?.[0] ?? String(s);
  return tasks.map((t) => `${t.slot || t.nodeId}:${name(t.status.state)}/${name(t.desiredState)}`).sort();
}
