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
 *
 * A reconcile reads every task of its service, and a transaction holds a hundred writes, so a service
 * scaled to 10,000 replicas would be read a hundred times while its tasks are created (each read of
 * 10,000 tasks holds the event loop for tens of milliseconds). Instead the pass remembers where the
 * creation stopped (ScaleUp) and goes on from there without reading the service again, then retires
 * the dead slots it read at first. That stays right until the pass ends: the slots it fills had neither
 * a live task nor a claim when read, and only a claim holder (restart supervisor, updater) puts a task
 * in a slot this orchestrator does not fill, which is checked slot by slot; the dead slots it retires
 * had no live task, and nobody revives one. A change of the service's spec (a new meta.version) drops
 * it. A task that finishes meanwhile marks the service again, and the next pass reads it afresh.
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
/** Where creating a service's tasks stopped when its transaction was full. */
interface ScaleUp {
  /** The service's meta.version when its tasks were read. */
  version: number;
  /** Its slots and their tasks as read. */
  slots: ReadonlyMap<number, readonly Task[]>;
  /** Slots occupied or filled so far. */
  kept: Set<number>;
  /** The slot to look at next. */
  nextSlot: number;
}

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
    // Known only to this pass: a later one (another leader term, another store) reads afresh.
    const scaleUps = new Map<string, ScaleUp>();
    await reconcilePass(this.options.store, keys, (tx, id, effects, full) => this.reconcile(tx, id, effects, full, scaleUps), this.options.logger, 'replicated orchestrator', { current });
    for (const id of keys) {
      const service = this.options.store.get('service', id);
      if (service !== undefined && isReplicated(service) && service.pendingDelete !== true) this.options.updates.ensure(id);
    }
  }

  /** Returns MORE when `full()` stopped it part-way (a big service is written over several transactions). */
  private reconcile(tx: WriteTx, serviceId: string, effects: TxEffects, full: () => boolean, scaleUps: Map<string, ScaleUp>): ReconcileOutcome {
    const { claims, restarts, logger } = this.options;
    const service = tx.get('service', serviceId);
    const scaleUp = scaleUps.get(serviceId);
    scaleUps.delete(serviceId);
    if (service === undefined || service.pendingDelete === true) {
      const { removed, done } = removeServiceTasks(tx, serviceId, claims, full);
      if (removed > 0) logger.info('service removed: its tasks are going away', { serviceId, tasks: removed });
      return done ? undefined : MORE;
    }
    if (!isReplicated(service)) return;
    if (scaleUp !== undefined && scaleUp.version === service.meta.version) return this.finishScaleUp(tx, service, scaleUp, full, scaleUps);

    const slots = new Map<number, Task[]>();
    for (const [key, tasks] of groupByInstance(tx.find('task', 'serviceId', serviceId))) {
      if (key.startsWith('slot:')) slots.set(tasks[0].slot, tasks);
    }

    const writesBeforeRestarts = tx.writes;
    for (const [slot, tasks] of slots) {
      if (claims.isClaimed(serviceId, slotKey(slot))) continue;
      for (const task of tasks) {
        if (full()) return MORE;
        if (isLive(task) && isTaskFinished(task.status.state)) restarts.restart(tx, service, task, effects);
      }
    }

    const occupied = this.occupiedSlots(tx, service, slots, tx.writes > writesBeforeRestarts);
    const replicas = replicasOf(service);
    for (const slot of occupied.slice(replicas)) {
      if (full()) return MORE;
      this.retire(tx, service, slot, slots.get(slot) ?? []);
    }
    return this.finishScaleUp(tx, service, { version: service.meta.version, slots, kept: new Set(occupied.slice(0, replicas)), nextSlot: 1 }, full, scaleUps);
  }

  /**
   * Fills the free slots, then retires the slots read that are not kept (dead ones above the count); on
   * MORE the pass remembers `scaleUp` and calls again with it, without reading the service's tasks again.
   */
  private finishScaleUp(tx: WriteTx, service: Service, scaleUp: ScaleUp, full: () => boolean, scaleUps: Map<string, ScaleUp>): ReconcileOutcome {
    // The slots not filled yet are not known to be kept: retire nothing until they are.
    let outcome = this.fillSlots(tx, service, scaleUp, full);
    for (const [slot, tasks] of scaleUp.slots) {
      if (outcome === MORE) break;
      if (scaleUp.kept.has(slot)) continue;
      if (full()) outcome = MORE;
      else this.retire(tx, service, slot, tasks);
    }
    if (outcome === MORE) scaleUps.set(service.id, scaleUp);
    return outcome;
  }

  /** Creates a task in each free slot from `scaleUp.nextSlot` on until `kept` holds the replica count, `full()` permitting. */
  private fillSlots(tx: WriteTx, service: Service, scaleUp: ScaleUp, full: () => boolean): ReconcileOutcome {
    const { kept } = scaleUp;
    const replicas = replicasOf(service);
    let created = 0;
    for (; kept.size < replicas; scaleUp.nextSlot++) {
      const slot = scaleUp.nextSlot;
      if (kept.has(slot)) continue;
      if (full()) {
        this.options.logger.debug('replicated orchestrator created tasks, more to come', { serviceId: service.id, created });
        return MORE;
      }
      // A slot claimed since the service was read is its claim holder's to fill.
      if (!this.options.claims.isClaimed(service.id, slotKey(slot))) {
        tx.create('task', newTask(service, { slot }, newId(), new Date(this.options.clock.now())));
        created++;
      }
      kept.add(slot);
    }
    if (created > 0) this.options.logger.debug('replicated orchestrator created tasks', { serviceId: service.id, created });
  }

  /** Slots with a live task or a claim, ascending (read again only if this pass's restarts wrote tasks). */
  private occupiedSlots(tx: ReadTx, service: Service, slots: ReadonlyMap<number, Task[]>, restarted: boolean): number[] {
    const occupied = new Set<number>();
    const live = restarted ? (t: Task) => { const now = tx.get('task', t.id); return now !== undefined && isLive(now); } : isLive;
    for (const [slot, tasks] of slots) {
      if (tasks.some(live)) occupied.add(slot);
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
