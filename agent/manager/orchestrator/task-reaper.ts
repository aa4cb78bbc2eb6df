/**
 * The task reaper (SwarmKit's orchestrator/taskreaper): bounds the task history and clears away what
 * removed services leave behind, in batched deletes.
 *
 * - History: each instance (slot of a replicated service, node of a global one) keeps at most the
 *   cluster's `taskHistoryRetentionLimit` tasks (SwarmKit's meaning: the live task counts), deleting
 *   the oldest tasks that are no longer meant to run. A negative limit keeps everything. When the
 *   restart policy caps attempts, maxAttempts + 1 tasks are kept so the restart supervisor can count
 *   them.
 * - Removal: a task with desiredState REMOVE is deleted once it has stopped (or was never given to a
 *   node); a `pendingDelete` service is deleted once it has no task left.
 */
import { TaskState } from '../../api/objects';
import type { Clock, ComponentLogger } from '../../runtime';
import type { ChangeEvent, MemoryStore, ReadTx, WriteTx } from '../../store';
import { DEFAULT_TASK_HISTORY } from '../cluster-objects';
import { reconcilePass } from './reconcile-pass';
import { type InstanceKey, byAge, instanceKeyOf, instanceTasks, isLive, isStopped, restartPolicyOf } from './tasks';
import { WatchLoop } from './watch-loop';
import { WorkQueue } from './work-queue';

export interface TaskReaperOptions {
  store: MemoryStore;
  clock: Clock;
  logger: ComponentLogger;
}

const SEP = '\u0000';

function instanceWork(serviceId: string, key: InstanceKey): string {
  return `instance${SEP}${serviceId}${SEP}${key}`;
}

function retentionLimit(tx: ReadTx): number {
  for (const cluster of tx.iterate('cluster')) return cluster.spec.orchestration.taskHistoryRetentionLimit;
  return DEFAULT_TASK_HISTORY;
}

export class TaskReaper {
  private readonly loop: WatchLoop;
  private readonly queue: WorkQueue;
  private limit = DEFAULT_TASK_HISTORY;

  constructor(private readonly options: TaskReaperOptions) {
    this.loop = new WatchLoop(options.store, ['task', 'service', 'cluster'], { resync: (tx) => this.resync(tx), commit: (c) => this.commit(c) }, options.logger, 'task reaper');
    this.queue = new WorkQueue((keys, current) => this.pass(keys, current), options.clock, options.logger, 'task reaper');
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
    this.limit = retentionLimit(tx);
    const keys = new Set<string>();
    for (const task of tx.iterate('task')) {
      keys.add(instanceWork(task.serviceId, instanceKeyOf(task)));
      if (task.desiredState >= TaskState.REMOVE) keys.add(`task${SEP}${task.id}`);
    }
    for (const service of tx.iterate('service')) if (service.pendingDelete === true) keys.add(`service${SEP}${service.id}`);
    this.queue.addAll(keys);
  }

  private commit(changes: readonly ChangeEvent[]): void {
    for (const change of changes) {
      if (change.kind === 'cluster') {
        if (change.action !== 'delete' && change.object.spec.orchestration.taskHistoryRetentionLimit !== this.limit) {
          // A new limit applies to every instance: look at everything again.
          this.options.store.view((tx) => this.resync(tx));
        }
      } else if (change.kind === 'service') {
        if (change.action !== 'delete' && change.object.pendingDelete === true) this.queue.add(`service${SEP}${change.object.id}`);
      } else if (change.kind === 'task') {
        const task = change.object;
        if (change.action === 'delete') {
          this.queue.add(`service${SEP}${task.serviceId}`);
          continue;
        }
        if (task.desiredState >= TaskState.REMOVE && isStopped(task)) this.queue.add(`task${SEP}${task.id}`);
        const old = change.oldObject;
        // History grows when a task is created or stops being meant to run.
        if (change.action === 'create' || (old !== undefined && isLive(old) !== isLive(task))) {
          this.queue.add(instanceWork(task.serviceId, instanceKeyOf(task)));
        }
      }
    }
  }

  private pass(keys: readonly string[], current: () => boolean): Promise<void> {
    return reconcilePass(this.options.store, keys, (tx, key) => this.reap(tx, key), this.options.logger, 'task reaper', { current });
  }

  private reap(tx: WriteTx, work: string): void {
    const [what, id, key] = work.split(SEP);
    if (what === 'task') {
      const task = tx.get('task', id);
      if (task !== undefined && task.desiredState >= TaskState.REMOVE && isStopped(task)) tx.delete('task', id);
    } else if (what === 'service') {
      const service = tx.get('service', id);
      if (service?.pendingDelete === true && tx.find('task', 'serviceId', id).length === 0) {
        tx.delete('service', id);
        this.options.logger.info('service deleted: all its tasks are gone', { serviceId: id });
      }
    } else if (what === 'instance') {
      this.trimHistory(tx, id, key);
    }
  }

  private trimHistory(tx: WriteTx, serviceId: string, key: InstanceKey): void {
    let limit = retentionLimit(tx);
    if (limit < 0) return;
    const tasks = instanceTasks(tx, serviceId, key);
    if (tasks.length <= limit) return;
    const service = tx.get('service', serviceId);
    const maxAttempts = service === undefined ? 0 : restartPolicyOf(service.spec.task).maxAttempts;
    if (maxAttempts > 0) limit = Math.max(limit, maxAttempts + 1);
    let count = tasks.length;
    for (const task of tasks.filter((t) => !isLive(t)).sort(byAge)) {
      if (count <= limit) break;
      tx.delete('task', task.id);
      count--;
    }
  }
}
