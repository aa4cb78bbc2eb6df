/**
 * The dispatcher's batched store writes: node states (ready on registration, down on a missed
 * deadline, unknown after a leader change) and task status reports from nodes (SwarmKit's dispatcher
 * taskUpdates). A burst — a hundred nodes reconnecting to a new leader, a rack going dark, a thousand
 * tasks starting — becomes one store.batch (one or a few Raft entries) instead of one entry per write.
 *
 * Batching needs no timer: at most one batch is in flight, and everything queued while it commits
 * (a Raft round trip plus an fsync) goes into the next one. An idle cluster pays no added latency; a
 * busy one batches in proportion to how slow commits are. (SwarmKit uses a 100 ms timer instead.)
 * Several writes for one key (node, task) in a queue are merged into one. A batch takes one work
 * slice of the queue (../work-slice.ts: ≤ 100 writes, ≈ 10 ms) and leaves the rest, oldest first, for
 * the next, so ten thousand tasks reporting at once never hold the event loop for long; a caller's
 * promise resolves once every key it queued has been committed.
 *
 * Each write is applied inside its own transaction of the batch, against the object as it is then:
 * - node status: only changes are written (a node that re-registers with the same description and
 *   address costs nothing), and the operator's spec edits made meanwhile are kept;
 * - task status: the task must still exist and be assigned to the node that reports it (a node speaks
 *   only for its own tasks), and the status must move the task forward (advanceStatus, the lifecycle
 *   rules), so late, repeated or foreign reports change nothing.
 */
import type { TaskStatusReport } from '../../api/dispatcher';
import { ApiError } from '../../api/errors';
import type { Node, NodeDescription, NodeState, TaskStatus } from '../../api/objects';
import { advanceStatus } from '../../api/task-lifecycle';
import type { ComponentLogger } from '../../runtime';
import type { MemoryStore, WriteTx } from '../../store';
import { DEFAULT_SLICE, type SliceLimits, WorkSlice } from '../work-slice';

/** One write() call: resolves once each of its keys has been committed, rejects if a batch holding one failed. */
interface Waiter {
  /** Its keys still queued or in flight. */
  remaining: number;
  resolve(): void;
  reject(err: unknown): void;
}

interface Queued<V> {
  value: V;
  /** The calls that queued this key since it was last taken into a batch. */
  waiters: Waiter[];
}

type Defer = (fn: () => void) => void;

interface BatchedWriterOptions<V> {
  store: MemoryStore;
  logger: ComponentLogger;
  /** What is written, for errors and logs ("node status", "task status"). */
  what: string;
  /** The entry to keep when `newer` is queued for a key that already has `older`. */
  merge(older: V, newer: V): V;
  /** Writes one entry inside its own transaction of the batch. */
  apply(tx: WriteTx, key: string, value: V): void;
  /** Runs the flush after the current macrotask, so writes queued in one turn share a batch. */
  defer?: Defer;
  /** How much of the queue one batch takes (default DEFAULT_SLICE). */
  slice?: Readonly<SliceLimits>;
}

/** Keyed writes queued, merged per key and committed in store batches, at most one in flight. */
class BatchedWriter<V> {
  /** Keys waiting for a batch, in the order first queued. */
  private pending = new Map<string, Queued<V>>();
  private scheduled = false;
  private inFlight: Promise<void> | null = null;
  private stopped = false;
  private readonly idleWaiters: (() => void)[] = [];
  private readonly defer: Defer;

  constructor(private readonly options: BatchedWriterOptions<V>) {
    this.defer = options.defer ?? ((fn) => setImmediate(fn));
  }

  /** Queues `entries`; resolves once they are committed (or found to change nothing). */
  write(entries: Iterable<readonly [string, V]>): Promise<void> {
    if (this.stopped) return Promise.reject(new ApiError('Unavailable', 'the dispatcher is stopped'));
    const list = [...entries];
    if (list.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { remaining: 0, resolve, reject };
      for (const [key, value] of list) {
        const queued = this.pending.get(key);
        if (queued === undefined) this.pending.set(key, { value, waiters: [waiter] });
        else {
          queued.value = this.options.merge(queued.value, value);
          if (queued.waiters.includes(waiter)) continue; // the same key twice in one call
          queued.waiters.push(waiter);
        }
        waiter.remaining++;
      }
      this.schedule();
    });
  }

  /** Resolves when nothing is queued or in flight. */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Drops queued writes (their callers get Unavailable); a batch already proposed may still commit. */
  stop(): void {
    this.stopped = true;
    const dropped = this.pending;
    this.pending = new Map();
    const err = new ApiError('Unavailable', `the dispatcher stopped before the ${this.options.what} was written`);
    for (const queued of dropped.values()) for (const w of queued.waiters) w.reject(err);
    this.notifyIdle();
  }

  private isIdle(): boolean {
    return this.pending.size === 0 && this.inFlight === null && !this.scheduled;
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
    if (this.stopped || this.pending.size === 0) {
      this.notifyIdle();
      return;
    }
    this.inFlight = this.commit().finally(() => {
      this.inFlight = null;
      if (this.pending.size > 0) this.schedule();
      else this.notifyIdle();
    });
  }

  /** Commits one slice of the queue, taken when the store runs the batch (so late arrivals may join it). */
  private async commit(): Promise<void> {
    const { store, logger, what, apply } = this.options;
    const taken: Queued<V>[] = [];
    try {
      await store.batch((b) => {
        const slice = new WorkSlice(this.options.slice ?? DEFAULT_SLICE);
        for (const [key, queued] of this.pending) {
          if (slice.spent) break;
          this.pending.delete(key);
          taken.push(queued);
          slice.add();
          try {
            b.update((tx) => apply(tx, key, queued.value));
          } catch (err) {
            // One bad update must not keep the others out of the batch.
            logger.warn(`${what} update rejected`, { key, error: String(err) });
          }
        }
      });
    } catch (err) {
      logger.warn(`${what} batch failed`, { entries: taken.length, error: err instanceof Error ? err.message : String(err) });
      for (const queued of taken) for (const w of queued.waiters) w.reject(err);
      return;
    }
    for (const queued of taken) {
      for (const w of queued.waiters) if (--w.remaining === 0) w.resolve();
    }
  }

  private notifyIdle(): void {
    if (!this.isIdle()) return;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }
}

// ------------------------------------------------------------------------------------------ node status

export interface NodeStatusUpdate {
  state: NodeState;
  message: string;
  /** Kept as it is when absent. */
  addr?: string;
  /** Kept as it is when absent. */
  description?: NodeDescription;
}

function mergeNodeUpdates(older: NodeStatusUpdate, newer: NodeStatusUpdate): NodeStatusUpdate {
  const merged: NodeStatusUpdate = { state: newer.state, message: newer.message };
  const addr = newer.addr ?? older.addr;
  const description = newer.description ?? older.description;
  if (addr !== undefined) merged.addr = addr;
  if (description !== undefined) merged.description = description;
  return merged;
}

/** The node with `update` applied, or undefined when that changes nothing. */
export function applyStatusUpdate(node: Node, update: NodeStatusUpdate): Node | undefined {
  const status = { state: update.state, message: update.message, addr: update.addr ?? node.status.addr };
  const description = update.description ?? node.description;
  const sameStatus =
    status.state === node.status.state && status.message === node.status.message && status.addr === node.status.addr;
  // Descriptions are small plain JSON built in a fixed key order, so their JSON text compares them.
  const sameDescription = JSON.stringify(description) === JSON.stringify(node.description);
  if (sameStatus && sameDescription) return undefined;
  const next: Node = { ...node, status };
  if (description !== undefined) next.description = description;
  return next;
}

export class NodeStatusWriter {
  private readonly writer: BatchedWriter<NodeStatusUpdate>;

  constructor(store: MemoryStore, logger: ComponentLogger, defer?: Defer, slice?: Readonly<SliceLimits>) {
    this.writer = new BatchedWriter({
      store,
      logger,
      defer,
      slice,
      what: 'node status',
      merge: mergeNodeUpdates,
      apply: (tx, nodeId, update) => {
        // Re-read inside the transaction: the operator may have changed the node's spec meanwhile.
        const node = tx.get('node', nodeId);
        if (node === undefined) return; // removed meanwhile: nothing to record
        const next = applyStatusUpdate(node, update);
        if (next !== undefined) tx.update('node', next);
      },
    });
  }

  /** Queues `update` for `nodeId`; resolves once it is committed (or found to change nothing). */
  write(nodeId: string, update: NodeStatusUpdate): Promise<void> {
    return this.writer.write([[nodeId, update]]);
  }

  idle(): Promise<void> {
    return this.writer.idle();
  }

  stop(): void {
    this.writer.stop();
  }
}

// ------------------------------------------------------------------------------------------ task status

interface TaskReport {
  nodeId: string;
  status: TaskStatus;
}

/** Why a report was not written; for logs and tests. */
export type IgnoredReason = 'unknown-task' | 'other-node';

/** A node reports in order, so its furthest report wins; a report from another node loses in the transaction anyway. */
function mergeTaskReports(older: TaskReport, newer: TaskReport): TaskReport {
  return older.nodeId !== newer.nodeId || newer.status.state >= older.status.state ? newer : older;
}

export class TaskStatusWriter {
  private readonly writer: BatchedWriter<TaskReport>;
  private ignoredCount = 0;

  constructor(store: MemoryStore, logger: ComponentLogger, defer?: Defer, slice?: Readonly<SliceLimits>) {
    this.writer = new BatchedWriter({
      store,
      logger,
      defer,
      slice,
      what: 'task status',
      merge: mergeTaskReports,
      apply: (tx, taskId, { nodeId, status }) => {
        const task = tx.get('task', taskId);
        const reason: IgnoredReason | undefined = task === undefined ? 'unknown-task' : task.nodeId !== nodeId ? 'other-node' : undefined;
        if (reason !== undefined || task === undefined) {
          this.ignoredCount++;
          logger.debug('task status report ignored', { taskId, nodeId, reason });
          return;
        }
        const next = advanceStatus(task, status);
        if (next !== undefined) tx.update('task', next);
      },
    });
  }

  /** Reports dropped because their task was gone or belonged to another node (diagnostics and tests). */
  get ignored(): number {
    return this.ignoredCount;
  }

  /** Queues `reports` made by `nodeId`; resolves once they are committed or found to change nothing. */
  write(nodeId: string, reports: readonly TaskStatusReport[]): Promise<void> {
    return this.writer.write(reports.map(({ taskId, status }) => [taskId, { nodeId, status }] as const));
  }

  idle(): Promise<void> {
    return this.writer.idle();
  }

  stop(): void {
    this.writer.stop();
  }
}
