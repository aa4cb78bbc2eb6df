/**
 * Task status reports from nodes, written in batches (SwarmKit's dispatcher taskUpdates), the way
 * NodeStatusWriter writes node states: at most one store.batch in flight, and whatever arrives while it
 * commits goes into the next. Several reports for one task in a queue keep only the furthest one.
 *
 * Each report is checked again inside the transaction: the task must still exist and be assigned to
 * the node that reports it (a node speaks only for its own tasks), and the status must move the task
 * forward (advanceStatus from the lifecycle rules), so late, repeated or foreign reports change nothing.
 */
import type { TaskStatusReport } from '../../api/dispatcher';
import { ApiError } from '../../api/errors';
import type { TaskStatus } from '../../api/objects';
import { advanceStatus } from '../../api/task-lifecycle';
import type { ComponentLogger } from '../../runtime';
import type { MemoryStore } from '../../store';

interface Waiter {
  resolve(): void;
  reject(err: unknown): void;
}

interface Queued {
  nodeId: string;
  status: TaskStatus;
}

interface Pending {
  reports: Map<string, Queued>;
  waiters: Waiter[];
}

/** Why a report was not written; for logs and tests. */
export type IgnoredReason = 'unknown-task' | 'other-node';

export class TaskStatusWriter {
  private pending: Pending = { reports: new Map(), waiters: [] };
  private scheduled = false;
  private inFlight: Promise<void> | null = null;
  private stopped = false;
  private readonly idleWaiters: (() => void)[] = [];
  private ignoredCount = 0;

  constructor(
    private readonly store: MemoryStore,
    private readonly logger: ComponentLogger,
    private readonly defer: (fn: () => void) => void = (fn) => setImmediate(fn),
  ) {}

  /** Reports dropped because their task was gone or belonged to another node (diagnostics and tests). */
  get ignored(): number {
    return this.ignoredCount;
  }

  /** Queues `reports` made by `nodeId`; resolves once they are committed or found to change nothing. */
  write(nodeId: string, reports: readonly TaskStatusReport[]): Promise<void> {
    if (this.stopped) return Promise.reject(new ApiError('Unavailable', 'the dispatcher is stopped'));
    if (reports.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      for (const { taskId, status } of reports) {
        const queued = this.pending.reports.get(taskId);
        // A node reports in order; a report from another node for the same task loses in the transaction anyway.
        if (queued === undefined || queued.nodeId !== nodeId || status.state >= queued.status.state) {
          this.pending.reports.set(taskId, { nodeId, status });
        }
      }
      this.pending.waiters.push({ resolve, reject });
      this.schedule();
    });
  }

  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  stop(): void {
    this.stopped = true;
    const dropped = this.pending;
    this.pending = { reports: new Map(), waiters: [] };
    const err = new ApiError('Unavailable', 'the dispatcher stopped before the task status was written');
    for (const w of dropped.waiters) w.reject(err);
    this.notifyIdle();
  }

  private isIdle(): boolean {
    return this.pending.waiters.length === 0 && this.inFlight === null && !this.scheduled;
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight !== null || this.stopped) return;
    this.scheduled = true;
    this.defer(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    if (this.stopped || this.pending.waiters.length === 0) {
      this.notifyIdle();
      return;
    }
    const batch = this.pending;
    this.pending = { reports: new Map(), waiters: [] };
    this.inFlight = this.commit(batch).finally(() => {
      this.inFlight = null;
      if (this.pending.waiters.length > 0) this.schedule();
      else this.notifyIdle();
    });
  }

  private async commit(batch: Pending): Promise<void> {
    try {
      await this.store.batch((b) => {
        for (const [taskId, { nodeId, status }] of batch.reports) {
          try {
            b.update((tx) => {
              const task = tx.get('task', taskId);
              const reason: IgnoredReason | undefined = task === undefined ? 'unknown-task' : task.nodeId !== nodeId ? 'other-node' : undefined;
              if (reason !== undefined || task === undefined) {
                this.ignoredCount++;
                this.logger.debug('task status report ignored', { taskId, nodeId, reason });
                return;
              }
              const next = advanceStatus(task, status);
              if (next !== undefined) tx.update('task', next);
            });
          } catch (err) {
            this.logger.warn('task status update rejected', { taskId, nodeId, error: String(err) });
          }
        }
      });
    } catch (err) {
      this.logger.warn('task status batch failed', { tasks: batch.reports.size, error: err instanceof Error ? err.message : String(err) });
      for (const w of batch.waiters) w.reject(err);
      return;
    }
    for (const w of batch.waiters) w.resolve();
  }

  private notifyIdle(): void {
    if (!this.isIdle()) return;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }
}
