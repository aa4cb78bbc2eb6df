/**
 * One rolling update of one service to one spec version (SwarmKit's orchestrator/update/updater.go).
 *
 * The instances whose live task runs an out-of-date spec are replaced in batches of `parallelism`
 * (0 = all at once), with `delayMs` between batches. Replacing an instance, stop-first: its old task is
 * told to stop, the new one is created once the old has stopped; start-first: the new one is created,
 * and the old told to stop once the new is running (if the new one fails, the old keeps running). A
 * batch is done when each new task runs (or has failed).
 *
 * Every new task is watched from creation until it has run for `monitorMs`; one that stops on its own
 * meanwhile is a failure. When failures exceed `maxFailureRatio` of the instances to update,
 * `failureAction` applies: pause (status paused), continue, or rollback (the spec goes back to the
 * previous one; a rollback that fails pauses). After the last batch the updater keeps watching for one
 * more monitor window, then marks the update completed.
 *
 * While it replaces an instance the updater claims it, so the orchestrators neither refill nor restart
 * it meanwhile. Cancelling (newer spec, service removed, leadership lost) abandons the waits and the
 * claims; whoever comes next starts from what the store says.
 */
import type { Service, Task, UpdateConfig, UpdateStatus } from '../../../api/objects';
import { TaskState } from '../../../api/objects';
import { isTaskFinished, newTask } from '../../../api/task-lifecycle';
import type { Clock, ComponentLogger, TimerHandle } from '../../../runtime';
import { type MemoryStore, newId, type ReadTx } from '../../../store';
import type { ClaimHolder, InstanceClaims } from '../claims';
import { nodeFitness } from '../node-fitness';
import {
  type InstanceKey,
  groupByInstance,
  instanceTasks,
  isLive,
  isNodeLost,
  isStopped,
  isTaskDirty,
  placementOf,
  raiseDesiredState,
} from '../tasks';
import { isRollingBack, updateConfigFor } from './config';
import { rolledBackService } from './rollback';
import { Cancelled, type TaskTracker } from './task-tracker';

export interface UpdaterContext {
  store: MemoryStore;
  clock: Clock;
  logger: ComponentLogger;
  claims: InstanceClaims;
  tracker: TaskTracker;
  /** The update paused at this spec version: do not start it again until the spec changes. */
  paused(serviceId: string, specVersion: number): void;
}

/** States a task reaches on its own, which during the monitor window count as failures. */
const FAILED_STATES: ReadonlySet<number> = new Set([TaskState.COMPLETE, TaskState.FAILED, TaskState.REJECTED]);

function instanceOrder(a: InstanceKey, b: InstanceKey): number {
  const pa = placementOf(a);
  const pb = placementOf(b);
  if ('slot' in pa && 'slot' in pb) return pa.slot - pb.slot;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The instances whose live, unfinished task runs an old spec and that nobody else is working on. */
export function dirtyInstances(tx: ReadTx, service: Service, claims: InstanceClaims): InstanceKey[] {
  const out: InstanceKey[] = [];
  for (const [key, tasks] of groupByInstance(tx.find('task', 'serviceId', service.id))) {
    if (claims.isClaimed(service.id, key)) continue;
    if (!tasks.some((t) => isLive(t) && !isTaskFinished(t.status.state) && isTaskDirty(service, t))) continue;
    const placement = placementOf(key);
    if ('nodeId' in placement && nodeFitness(tx.get('node', placement.nodeId), service.spec.task) === 'evict') continue;
    out.push(key);
  }
  return out.sort(instanceOrder);
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export class Updater {
  private readonly abort = new AbortController();
  /** The failure action was taken: no further batches. */
  private halted = false;
  private wakeSleeper: (() => void) | undefined;
  private readonly failures = new Set<string>();
  private readonly unwatchers = new Set<() => void>();
  private total = 0;
  private rollingBack = false;
  private config!: UpdateConfig;
  /** The pause or rollback write, once a failure triggered it. */
  private action: Promise<void> = Promise.resolve();
  readonly done: Promise<void>;

  constructor(
    private readonly ctx: UpdaterContext,
    readonly serviceId: string,
    readonly specVersion: number,
  ) {
    this.done = this.run();
  }

  cancel(): void {
    this.abort.abort();
    this.wakeSleeper?.();
    for (const unwatch of this.unwatchers) unwatch();
    this.unwatchers.clear();
  }

  private get cancelled(): boolean {
    return this.abort.signal.aborted;
  }

  private async run(): Promise<void> {
    const { store, logger, claims } = this.ctx;
    try {
      const service = store.get('service', this.serviceId);
      if (service === undefined || service.specVersion !== this.specVersion) return;
      this.rollingBack = isRollingBack(service);
      this.config = updateConfigFor(service, this.rollingBack);
      const dirty = store.view((tx) => dirtyInstances(tx, service, claims));
      if (dirty.length === 0) {
        await this.finish(true);
        return;
      }
      this.total = dirty.length;
      logger.info(this.rollingBack ? 'rollback started' : 'rolling update started', { serviceId: this.serviceId, specVersion: this.specVersion, tasks: this.total, ...this.config });
      await this.writeStatus((s) => {
        if (!this.rollingBack) return { state: 'updating', startedAt: this.nowIso(), message: 'update in progress' };
        return s === undefined || s.startedAt !== undefined ? undefined : { ...s, startedAt: this.nowIso() };
      });

      const attempted = new Set<InstanceKey>();
      for (let first = true; !this.halted; first = false) {
        if (!first && this.config.delayMs > 0 && this.remaining(attempted).length > 0) await this.sleep(this.config.delayMs);
        if (this.halted || this.cancelled) break;
        const candidates = this.remaining(attempted);
        if (candidates.length === 0) break;
        const batch = candidates.slice(0, this.config.parallelism > 0 ? this.config.parallelism : candidates.length);
        for (const key of batch) attempted.add(key);
        logger.debug('update batch', { serviceId: this.serviceId, instances: batch });
        await Promise.all(batch.map((key) => (this.config.order === 'start-first' ? this.startFirst(key) : this.stopFirst(key))));
      }
      if (!this.halted && this.config.failureAction !== 'continue' && this.config.monitorMs > 0) await this.sleep(this.config.monitorMs);
      await this.action;
      if (!this.halted && !this.cancelled) await this.finish(false);
    } catch (err) {
      if (!(err instanceof Cancelled)) logger.warn('rolling update stopped by an error', { serviceId: this.serviceId, error: describe(err) });
    } finally {
      for (const unwatch of this.unwatchers) unwatch();
      this.unwatchers.clear();
    }
  }

  private remaining(attempted: ReadonlySet<InstanceKey>): InstanceKey[] {
    return this.ctx.store.view((tx) => {
      const service = tx.get('service', this.serviceId);
      if (service === undefined || service.specVersion !== this.specVersion) throw new Cancelled('service changed');
      return dirtyInstances(tx, service, this.ctx.claims).filter((key) => !attempted.has(key));
    });
  }

  // ---------------------------------------------------------------------------------- replacing

  private holder(): ClaimHolder & { lost: boolean } {
    const holder = { owner: 'update' as const, lost: false, cancelled: () => { holder.lost = true; } };
    return holder;
  }

  /** Current service at this update's version, or undefined. */
  private current(tx: ReadTx): Service | undefined {
    const service = tx.get('service', this.serviceId);
    return service !== undefined && service.specVersion === this.specVersion && service.pendingDelete !== true ? service : undefined;
  }

  private async stopFirst(key: InstanceKey): Promise<void> {
    const { store, claims, tracker, clock } = this.ctx;
    const holder = this.holder();
    let newTaskId: string | undefined;
    try {
      const { value: oldIds } = await store.update((tx) => {
        const service = this.current(tx);
        if (service === undefined || this.cancelled) return [];
        const live = instanceTasks(tx, this.serviceId, key).filter(isLive);
        if (claims.isClaimed(this.serviceId, key) || !live.some((t) => !isTaskFinished(t.status.state) && isTaskDirty(service, t))) return [];
        claims.claim(this.serviceId, key, holder);
        for (const task of live) raiseDesiredState(tx, task.id, TaskState.SHUTDOWN);
        return live.map((t) => t.id);
      });
      if (oldIds.length === 0) return;
      await Promise.all(oldIds.map((id) => tracker.until(id, (t) => this.hasStopped(t), this.abort.signal)));
      ({ value: newTaskId } = await store.update((tx) => {
        if (holder.lost || this.cancelled) return undefined;
        const service = this.current(tx);
        if (service === undefined) return undefined;
        const placement = placementOf(key);
        if ('nodeId' in placement && nodeFitness(tx.get('node', placement.nodeId), service.spec.task) !== 'run') return undefined;
        if (instanceTasks(tx, this.serviceId, key).some(isLive)) return undefined;
        return tx.create('task', newTask(service, placement, newId(), new Date(clock.now()))).id;
      }));
    } finally {
      claims.release(this.serviceId, key, holder);
    }
    if (newTaskId === undefined) return;
    this.monitor(newTaskId);
    await tracker.until(newTaskId, (t) => t === undefined || t.status.state >= TaskState.RUNNING || !isLive(t), this.abort.signal);
  }

  private async startFirst(key: InstanceKey): Promise<void> {
    const { store, claims, tracker, clock } = this.ctx;
    const holder = this.holder();
    try {
      const { value: started } = await store.update((tx) => {
        const service = this.current(tx);
        if (service === undefined || this.cancelled) return undefined;
        const live = instanceTasks(tx, this.serviceId, key).filter(isLive);
        if (claims.isClaimed(this.serviceId, key) || !live.some((t) => !isTaskFinished(t.status.state) && isTaskDirty(service, t))) return undefined;
        const placement = placementOf(key);
        if ('nodeId' in placement && nodeFitness(tx.get('node', placement.nodeId), service.spec.task) !== 'run') return undefined;
        claims.claim(this.serviceId, key, holder);
        const created = tx.create('task', newTask(service, placement, newId(), new Date(clock.now())));
        return { newTaskId: created.id, oldIds: live.map((t) => t.id) };
      });
      if (started === undefined) return;
      this.monitor(started.newTaskId);
      await tracker.until(started.newTaskId, (t) => t === undefined || t.status.state >= TaskState.RUNNING || !isLive(t), this.abort.signal);
      await store.update((tx) => {
        if (holder.lost || this.cancelled) return;
        const fresh = tx.get('task', started.newTaskId);
        if (fresh === undefined) return;
        if (fresh.status.state === TaskState.RUNNING && isLive(fresh)) {
          for (const id of started.oldIds) raiseDesiredState(tx, id, TaskState.SHUTDOWN);
        } else {
          // The new task did not make it: the old one keeps serving.
          raiseDesiredState(tx, fresh.id, TaskState.SHUTDOWN);
        }
      });
    } finally {
      claims.release(this.serviceId, key, holder);
    }
  }

  /** Nothing of the old task runs any more, or it never will report again (its node is lost). */
  private hasStopped(task: Task | undefined): boolean {
    if (task === undefined || isStopped(task)) return true;
    return task.nodeId !== '' && isNodeLost(this.ctx.store.get('node', task.nodeId));
  }

  // --------------------------------------------------------------------------------- monitoring

  private monitor(taskId: string): void {
    // `continue` never acts on failures, so there is nothing to watch for.
    if (this.config.failureAction === 'continue') return;
    let runningSince: number | undefined;
    let timer: TimerHandle | undefined;
    const stop = () => {
      unwatch();
      this.unwatchers.delete(stop);
      this.ctx.clock.clearTimeout(timer);
    };
    const check = (task: Task | undefined) => {
      if (task === undefined) return stop();
      if (task.status.state === TaskState.RUNNING && runningSince === undefined) {
        runningSince = this.ctx.clock.now();
        // Past the window, a failure is an ordinary one for the restart supervisor.
        timer = this.ctx.clock.setTimeout(stop, this.config.monitorMs);
      }
      if (FAILED_STATES.has(task.status.state) && isLive(task)) {
        stop();
        this.failed(task);
      } else if (isTaskFinished(task.status.state) || !isLive(task)) {
        stop();
      }
    };
    const unwatch = this.ctx.tracker.watch(taskId, check);
    this.unwatchers.add(stop);
    check(this.ctx.store.get('task', taskId));
  }

  private failed(task: Task): void {
    if (this.halted || this.cancelled || this.failures.has(task.id)) return;
    this.failures.add(task.id);
    const ratio = this.failures.size / this.total;
    this.ctx.logger.info('task failed during update', { serviceId: this.serviceId, taskId: task.id, failures: this.failures.size, of: this.total });
    if (ratio <= this.config.maxFailureRatio || this.config.failureAction === 'continue') return;
    this.halted = true;
    this.wakeSleeper?.();
    const cause = `due to failure or early termination of task ${task.id}`;
    if (this.rollingBack) this.action = this.pause(`rollback paused ${cause}`);
    else if (this.config.failureAction === 'pause') this.action = this.pause(`update paused ${cause}`);
    else this.action = this.rollback(`update rolled back ${cause}`);
  }

  // ----------------------------------------------------------------------------- status writes

  private nowIso(): string {
    return new Date(this.ctx.clock.now()).toISOString();
  }

  /** Writes the service's update status if the service is still at this version. */
  private async writeStatus(next: (current: UpdateStatus | undefined) => UpdateStatus | undefined): Promise<void> {
    await this.ctx.store.update((tx) => {
      const service = this.current(tx);
      if (service === undefined) return;
      const status = next(service.status.updateStatus);
      if (status === undefined) return;
      tx.update('service', { ...service, status: { ...service.status, updateStatus: status } });
    });
  }

  private async pause(message: string): Promise<void> {
    try {
      await this.writeStatus((s) => ({ state: this.rollingBack ? 'rollback_paused' : 'paused', startedAt: s?.startedAt, message }));
      this.ctx.paused(this.serviceId, this.specVersion);
      this.ctx.logger.warn(message, { serviceId: this.serviceId });
    } catch (err) {
      this.ctx.logger.warn('could not pause the update', { serviceId: this.serviceId, error: describe(err) });
    }
  }

  private async rollback(message: string): Promise<void> {
    let paused = false;
    try {
      await this.ctx.store.update((tx) => {
        const service = this.current(tx);
        if (service === undefined) return;
        if (service.previousSpec === undefined) {
          paused = true;
          return;
        }
        tx.update('service', rolledBackService(service, message, new Date(this.ctx.clock.now())));
      });
      this.ctx.logger.warn(message, { serviceId: this.serviceId });
    } catch (err) {
      this.ctx.logger.warn('could not roll the update back', { serviceId: this.serviceId, error: describe(err) });
    }
    if (paused) await this.pause(`update paused ${message.replace(/^update rolled back /, '')} (no previous spec to roll back to)`);
  }

  /** Marks the update (or rollback) completed; `onlyIfInProgress` for a run that found nothing to do. */
  private finish(onlyIfInProgress: boolean): Promise<void> {
    return this.writeStatus((s) => {
      const inProgress = s?.state === 'updating' || s?.state === 'rollback_started';
      if (onlyIfInProgress && !inProgress) return undefined;
      if (s?.state === 'paused' || s?.state === 'rollback_paused') return undefined;
      const rollback = s?.state === 'rollback_started';
      return { state: rollback ? 'rollback_completed' : 'completed', startedAt: s?.startedAt, completedAt: this.nowIso(), message: rollback ? 'rollback completed' : 'update completed' };
    });
  }

  // ------------------------------------------------------------------------------------- timing

  /** Waits on the injected clock; ends early when halted, rejects when cancelled. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.cancelled) return reject(new Cancelled('update cancelled'));
      if (this.halted) return resolve();
      const timer = this.ctx.clock.setTimeout(() => {
        this.wakeSleeper = undefined;
        resolve();
      }, ms);
      this.wakeSleeper = () => {
        this.ctx.clock.clearTimeout(timer);
        this.wakeSleeper = undefined;
        if (this.cancelled) reject(new Cancelled('update cancelled'));
        else resolve();
      };
    });
  }
}
