/**
 * The restart supervisor (SwarmKit's orchestrator/restart): what happens to a task that stopped on its
 * own while it was meant to run. Its restart policy decides: condition `none` never restarts,
 * `on-failure` restarts unless the task completed, `any` always; `maxAttempts` (0 = no limit) caps the
 * restarts counted within `windowMs` (0 = ever) of the failure, for the same spec version.
 *
 * A restart tells the old task to stop (desiredState SHUTDOWN), claims its instance, and creates the
 * replacement once `delayMs` has passed on the injected clock. A task that is not restarted is left as
 * it is, still desired RUNNING: its instance stays taken (the service shows fewer running tasks than
 * asked for) until a rolling update, a scale or a removal deals with it.
 *
 * Attempts are counted from the tasks in the store (earlier tasks of the instance that stopped on their
 * own), not from memory, so a new leader reaches the same decision; the task reaper keeps enough history
 * for that (maxAttempts + 1 tasks per instance).
 */
import type { Service, Task } from '../../api/objects';
import { TaskState } from '../../api/objects';
import { newTask } from '../../api/task-lifecycle';
import { type Clock, type ComponentLogger, type TimerHandle } from '../../runtime';
import { type MemoryStore, newId, type ReadTx, type WriteTx } from '../../store';
import type { ClaimHolder, InstanceClaims } from './claims';
import { nodeFitness } from './node-fitness';
import {
  type InstanceKey,
  instanceKeyOf,
  instanceTasks,
  isLive,
  placementOf,
  raiseDesiredState,
  restartPolicyOf,
  stateTime,
} from './tasks';
import type { TxEffects } from './tx-effects';

export interface RestartSupervisorOptions {
  store: MemoryStore;
  clock: Clock;
  logger: ComponentLogger;
  claims: InstanceClaims;
}

/** States a task reaches by itself (as opposed to SHUTDOWN, which it is told to reach). */
const STOPPED_ON_ITS_OWN: ReadonlySet<number> = new Set([TaskState.COMPLETE, TaskState.FAILED, TaskState.REJECTED]);

/** Whether the policy of `task` (finished, still desired RUNNING) allows another run. */
export function shouldRestart(tx: ReadTx, task: Task): boolean {
  const policy = restartPolicyOf(task.spec);
  if (policy.condition === 'none') return false;
  if (policy.condition === 'on-failure' && task.status.state === TaskState.COMPLETE) return false;
  if (policy.maxAttempts === 0) return true;
  const failedAt = stateTime(task);
  const earlier = instanceTasks(tx, task.serviceId, instanceKeyOf(task)).filter(
    (t) =>
      t.id !== task.id &&
      t.specVersion === task.specVersion &&
      t.desiredState > TaskState.RUNNING &&
      STOPPED_ON_ITS_OWN.has(t.status.state) &&
      stateTime(t) <= failedAt &&
      (policy.windowMs === 0 || stateTime(t) > failedAt - policy.windowMs),
  );
  return earlier.length < policy.maxAttempts;
}

class PendingRestart implements ClaimHolder {
  readonly owner = 'restart' as const;
  timer: TimerHandle | undefined;

  constructor(
    readonly serviceId: string,
    readonly key: InstanceKey,
    private readonly onCancel: (restart: PendingRestart) => void,
  ) {}

  cancelled(): void {
    this.onCancel(this);
  }
}

export class RestartSupervisor {
  private readonly store: MemoryStore;
  private readonly clock: Clock;
  private readonly logger: ComponentLogger;
  private readonly claims: InstanceClaims;
  private readonly pending = new Set<PendingRestart>();
  /** Tasks already reported as not restarted, so each is logged once. */
  private readonly declined = new Set<string>();
  private running = false;

  constructor(options: RestartSupervisorOptions) {
    this.store = options.store;
    this.clock = options.clock;
    this.logger = options.logger;
    this.claims = options.claims;
  }

  /** Restarts waiting out their delay. */
  get pendingCount(): number {
    return this.pending.size;
  }

  start(): void {
    this.running = true;
  }

  stop(): void {
    this.running = false;
    for (const restart of this.pending) {
      this.clock.clearTimeout(restart.timer);
      this.claims.cancel(restart.serviceId, restart.key);
    }
    this.pending.clear();
    this.declined.clear();
  }

  /**
   * Inside a transaction: `task` is live (desired RUNNING) but finished. Returns true when a restart is
   * under way (the old task is told to stop and the instance claimed; the timer starts on commit), false
   * when the policy says to leave it.
   */
  restart(tx: WriteTx, service: Service, task: Task, effects: TxEffects): boolean {
    if (!shouldRestart(tx, task)) {
      if (!this.declined.has(task.id)) {
        this.declined.add(task.id);
        this.logger.info('task not restarted (restart policy)', { taskId: task.id, serviceId: service.id, condition: restartPolicyOf(task.spec).condition });
      }
      return false;
    }
    raiseDesiredState(tx, task.id, TaskState.SHUTDOWN);
    const key = instanceKeyOf(task);
    const holder = this.claims.holderOf(service.id, key);
    if (holder !== undefined) return true; // a replacement is already on its way
    const restart = new PendingRestart(service.id, key, (r) => this.forget(r));
    this.claims.claim(service.id, key, restart);
    this.pending.add(restart);
    const delayMs = restartPolicyOf(task.spec).delayMs;
    effects.ifAborted(() => {
      this.pending.delete(restart);
      this.claims.release(service.id, key, restart);
    });
    effects.afterCommit(() => {
      if (!this.running || !this.pending.has(restart)) return;
      this.logger.info('restarting task', { taskId: task.id, serviceId: service.id, instance: key, delayMs });
      restart.timer = this.clock.setTimeout(() => void this.replace(restart), delayMs);
    });
    return true;
  }

  private forget(restart: PendingRestart): void {
    this.clock.clearTimeout(restart.timer);
    this.pending.delete(restart);
  }

  /** The delay is over: create the replacement, unless the instance was taken away meanwhile. */
  private async replace(restart: PendingRestart): Promise<void> {
    if (!this.running || !this.pending.has(restart)) return;
    const { serviceId, key } = restart;
    try {
      await this.store.update((tx) => {
        if (this.claims.holderOf(serviceId, key) !== restart) return;
        const service = tx.get('service', serviceId);
        if (service === undefined || service.pendingDelete === true) return;
        const placement = placementOf(key);
        if ('nodeId' in placement && nodeFitness(tx.get('node', placement.nodeId), service.spec.task) !== 'run') return;
        if (instanceTasks(tx, serviceId, key).some(isLive)) return;
        tx.create('task', newTask(service, placement, newId(), new Date(this.clock.now())));
      });
    } catch (err) {
      this.logger.warn('could not create the restarted task', { serviceId, instance: key, error: err instanceof Error ? err.message : String(err) });
    } finally {
      this.pending.delete(restart);
      // Whatever happened, the orchestrator looks at the instance again.
      this.claims.release(serviceId, key, restart);
    }
  }
}
