/**
 * The replicated orchestrator (SwarmKit's orchestrator/replicated): keeps one live task in each slot
 * 1..replicas of every replicated service.
 *
 * - Scaling up fills the lowest free slot numbers; scaling down retires the highest occupied slots:
 *   their tasks get desiredState REMOVE (as SwarmKit's), so the worker stops and removes their
 *   containers and the task reaper deletes them once stopped. A slot left with no live task and not
 *   refilled (a dead slot above the replica count) goes the same way, history included.
 * - A slot whose task was told to stop by someone else (the constraint enforcer moving it off a
 *   drained or lost node, a new leader finding it empty) is refilled at once; the scheduler picks a node.
 * - A task that finished while still desired RUNNING goes to the restart supervisor, which refills the
 *   slot after the restart delay (or leaves it, as the restart policy says).
 * - Slots claimed by the restart supervisor or the rolling updater are theirs: counted as occupied,
 *   never refilled or restarted here.
 * - A deleted (or pendingDelete) service gets all its tasks set to desiredState REMOVE; at start, so do
 *   tasks whose service no longer exists.
 * After each pass the update supervisor is told which services it looked at, to start or continue a
 * rolling update where tasks run an old spec.
 */
import type { Service, Task } from '../../api/objects';
import { TaskState } from '../../api/objects';
import { isTaskFinished, newTask } from '../../api/task-lifecycle';
import type { Clock, ComponentLogger } from '../../runtime';
import { type ChangeEvent, type MemoryStore, newId, type ReadTx, type WriteTx } from '../../store';
import type { InstanceClaims } from './claims';
import { MORE, type ReconcileOutcome, reconcilePass } from './reconcile-pass';
import type { RestartSupervisor } from './restart-supervisor';
import { removeServiceTasks } from './service-removal';
import { groupByInstance, isLive, isReplicated, raiseDesiredState, replicasOf, slotKey } from './tasks';
import type { TxEffects } from './tx-effects';
import { WatchLoop } from './watch-loop';
import { WorkQueue } from './work-queue';

/** What the orchestrators need of the update supervisor. */
export interface UpdateTrigger {
  /** Look at this service: start, restart or finish its rolling update as needed. */
  ensure(serviceId: string): void;
}

export interface OrchestratorOptions {
  store: MemoryStore;
  clock: Clock;
  logger: ComponentLogger;
  claims: InstanceClaims;
  restarts: RestartSupervisor;
  updates: UpdateTrigger;
}

/** A task change the replicated orchestrator must look at: anything but progress of a running task. */
export function taskNeedsAttention(change: ChangeEvent & { kind: 'task' }): boolean {
  const task = change.object;
  if (change.action === 'delete') return true;
  if (change.action === 'create') return false;
  return !isLive(task) || isTaskFinished(task.status.state);
}

export class ReplicatedOrchestrator {
  private readonly loop: WatchLoop;
  private readonly queue: WorkQueue;
  private unlisten: (() => void) | undefined;

  constructor(private readonly options: OrchestratorOptions) {
    this.loop = new WatchLoop(options.store, ['service', 'task'], { resync: (tx) => this.resync(tx), commit: (c) => this.commit(c) }, options.logger, 'replicated orchestrator');
    this.queue = new WorkQueue((keys, current) => this.pass(keys, current), options.clock, options.logger, 'replicated orchestrator');
  }

  start(): void {
    this.queue.start();
    this.unlisten = this.options.claims.onRelease((serviceId) => this.queue.add(serviceId));
    this.loop.start();
  }

  stop(): void {
    this.loop.stop();
    this.queue.stop();
    this.unlisten?.();
    this.unlisten = undefined;
  }

  /** Resolves when no pass is running or queued (tests). */
  idle(): Promise<void> {
    return this.queue.idle();
  }

  private resync(tx: ReadTx): void {
    const ids = new Set<string>();
    for (const service of tx.iterate('service')) if (isReplicated(service) || service.pendingDelete === true) ids.add(service.id);
    // Tasks of services deleted while no leader was watching.
    for (const task of tx.iterate('task')) {
      if (task.desiredState < TaskState.REMOVE && tx.get('service', task.serviceId) === undefined) ids.add(task.serviceId);
    }
    this.queue.addAll(ids);
  }

  private commit(changes: readonly ChangeEvent[]): void {
    for (const change of changes) {
      if (change.kind === 'service') {
        const service = change.object;
        if (isReplicated(service) || change.action === 'delete' || service.pendingDelete === true || (change.oldObject !== undefined && isReplicated(change.oldObject))) {
          this.queue.add(service.id);
        }
      } else if (change.kind === 'task' && taskNeedsAttention(change)) {
        this.queue.add(change.object.serviceId);
      }
    }
  }

  private async pass(keys: readonly string[], current: () => boolean): Promise<void> {
    await reconcilePass(this.options.store, keys, (tx, id, effects, full) => this.reconcile(tx, id, effects, full), this.options.logger, 'replicated orchestrator', { current });
    for (const id of keys) {
      const service = this.options.store.get('service', id);
      if (service !== undefined && isReplicated(service) && service.pendingDelete !== true) this.options.updates.ensure(id);
    }
  }

  /** Returns MORE when `full()` stopped it part-way (a big service is written over several transactions). */
  private reconcile(tx: WriteTx, serviceId: string, effects: TxEffects, full: () => boolean): ReconcileOutcome {
    const { claims, restarts, logger } = this.options;
    const service = tx.get('service', serviceId);
    if (service === undefined || service.pendingDelete === true) {
      const { removed, done } = removeServiceTasks(tx, serviceId, claims, full);
      if (removed > 0) logger.info('service removed: its tasks are going away', { serviceId, tasks: removed });
      return done ? undefined : MORE;
    }
    if (!isReplicated(service)) return;

    const slots = new Map<number, Task[]>();
    for (const [key, tasks] of groupByInstance(tx.find('task', 'serviceId', serviceId))) {
      if (key.startsWith('slot:')) slots.set(tasks[0].slot, tasks);
    }

    for (const [slot, tasks] of slots) {
      if (claims.isClaimed(serviceId, slotKey(slot))) continue;
      for (const task of tasks) {
        if (full()) return MORE;
        if (isLive(task) && isTaskFinished(task.status.state)) restarts.restart(tx, service, task, effects);
      }
    }

    const occupied = this.occupiedSlots(tx, service, slots);
    const replicas = replicasOf(service);
    for (const slot of occupied.slice(replicas)) {
      if (full()) return MORE;
      this.retire(tx, service, slot, slots.get(slot) ?? []);
    }
    const kept = new Set(occupied.slice(0, replicas));
    let created = 0;
    for (let slot = 1; kept.size < replicas; slot++) {
      if (kept.has(slot)) continue;
      if (full()) {
        // The slots not filled yet are not known to be kept: retire nothing more until they are.
        logger.debug('replicated orchestrator created tasks, more to come', { serviceId, created });
        return MORE;
      }
      tx.create('task', newTask(service, { slot }, newId(), new Date(this.options.clock.now())));
      kept.add(slot);
      created++;
    }
    if (created > 0) logger.debug('replicated orchestrator created tasks', { serviceId, created });
    for (const [slot, tasks] of slots) {
      if (kept.has(slot)) continue;
      if (full()) return MORE;
      this.retire(tx, service, slot, tasks);
    }
  }

  /** Slots with a live task or a claim, ascending (read after this pass's restarts). */
  private occupiedSlots(tx: ReadTx, service: Service, slots: ReadonlyMap<number, Task[]>): number[] {
    const occupied = new Set<number>();
    for (const [slot, tasks] of slots) {
      if (tasks.some((t) => { const now = tx.get('task', t.id); return now !== undefined && isLive(now); })) occupied.add(slot);
    }
    for (const key of this.options.claims.claimedKeys(service.id)) {
      if (key.startsWith('slot:')) occupied.add(Number(key.slice(5)));
    }
    return [...occupied].sort((a, b) => a - b);
  }

  private retire(tx: WriteTx, service: Service, slot: number, tasks: readonly Task[]): void {
    this.options.claims.cancel(service.id, slotKey(slot));
    let raised = 0;
    for (const task of tasks) if (raiseDesiredState(tx, task.id, TaskState.REMOVE)) raised++;
    if (raised > 0) this.options.logger.debug('slot retired: its tasks are going away', { serviceId: service.id, slot, tasks: raised });
  }
}
