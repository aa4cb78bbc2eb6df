/**
 * The allocator (SwarmKit's manager/allocator, the part swarmdesk needs so far): moves each new task
 * from NEW to PENDING once the resources it needs outside any node are settled, so the scheduler only
 * ever sees tasks that are ready to place.
 *
 * Host-mode published ports need nothing from the cluster (each node binds its own), so the only work
 * today is giving the task its service's endpoint, which is what the worker publishes and what the
 * scheduler checks host-port conflicts against. Overlay networks and the routing mesh will add steps:
 * each is an AllocationStep that may fill in the task or ask it to wait.
 *
 * Tasks told to stop before they were allocated stay NEW: nothing will ever run them.
 */
import type { Service, Task } from '../api/objects';
import { TaskState } from '../api/objects';
import { TASK_MESSAGES, advanceStatus } from '../api/task-lifecycle';
import { type Clock, type ComponentLogger, realClock, silentLogger } from '../runtime';
import type { ChangeEvent, MemoryStore, ReadTx, WriteTx } from '../store';
import { reconcilePass } from './orchestrator/reconcile-pass';
import { WatchLoop } from './orchestrator/watch-loop';
import { WorkQueue } from './orchestrator/work-queue';

/** One kind of resource: returns the task with it allocated, or 'wait' when it cannot be yet. */
export type AllocationStep = (tx: ReadTx, task: Task, service: Service) => Task | 'wait';

/** Host-mode ports: the task carries its service's endpoint (no address or port is reserved). */
export const hostPortsStep: AllocationStep = (_tx, task, service) => {
  const spec = service.spec.endpoint ?? { mode: 'vip' as const, ports: [] };
  return { ...task, endpoint: { spec, ports: spec.ports.filter((p) => p.publishMode === 'host'), virtualIps: [] } };
};

export interface AllocatorOptions {
  store: MemoryStore;
  clock?: Clock;
  logger?: ComponentLogger;
  /** Replaces the default steps ([hostPortsStep]); networks will be added here. */
  steps?: readonly AllocationStep[];
}

function needsAllocation(task: Task): boolean {
  return task.status.state === TaskState.NEW && task.desiredState <= TaskState.RUNNING;
}

export class Allocator {
  private readonly loop: WatchLoop;
  private readonly queue: WorkQueue;
  private readonly clock: Clock;
  private readonly steps: readonly AllocationStep[];

  constructor(private readonly options: AllocatorOptions) {
    const logger = options.logger ?? silentLogger;
    this.clock = options.clock ?? realClock;
    this.steps = options.steps ?? [hostPortsStep];
    this.loop = new WatchLoop(options.store, ['task'], { resync: (tx) => this.resync(tx), commit: (c) => this.commit(c) }, logger, 'allocator');
    this.queue = new WorkQueue((keys, current) => this.pass(keys, current), this.clock, logger, 'allocator');
  }

  start(): void {
    this.queue.start();
    this.loop.start();
  }

  stop(): void {
    this.loop.stop();
    this.queue.stop();
  }

  idle(): Promise<void> {
    return this.queue.idle();
  }

  private resync(tx: ReadTx): void {
    for (const task of tx.find('task', 'desiredState', TaskState.RUNNING)) if (needsAllocation(task)) this.queue.add(task.id);
  }

  private commit(changes: readonly ChangeEvent[]): void {
    for (const change of changes) {
      if (change.kind === 'task' && change.action !== 'delete' && needsAllocation(change.object)) this.queue.add(change.object.id);
    }
  }

  private pass(taskIds: readonly string[], current: () => boolean): Promise<void> {
    return reconcilePass(this.options.store, taskIds, (tx, id) => this.allocate(tx, id), this.options.logger ?? silentLogger, 'allocator', { current });
  }

  private allocate(tx: WriteTx, taskId: string): void {
    let task = tx.get('task', taskId);
    if (task === undefined || !needsAllocation(task)) return;
    const service = tx.get('service', task.serviceId);
    if (service === undefined) return;
    for (const step of this.steps) {
      const next = step(tx, task, service);
      if (next === 'wait') return;
      task = next;
    }
    const pending = advanceStatus(task, { state: TaskState.PENDING, message: TASK_MESSAGES.pending, timestamp: new Date(this.clock.now()).toISOString() });
    if (pending !== undefined) tx.update('task', pending);
  }
}
