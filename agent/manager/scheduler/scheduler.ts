/**
 * The scheduler as a leader duty: it watches tasks and nodes, keeps the NodeSet up to date event by
 * event, and places PENDING tasks whose desired state is RUNNING in batches (SwarmKit's tick: wait a
 * little after a change for more to arrive, but never too long).
 *
 * Its writes follow the task lifecycle (agent/api/task-lifecycle.ts): a placed task becomes ASSIGNED
 * with its nodeId; an unplaceable one stays PENDING with `status.err` saying why, written only when
 * the reason changes. Each write re-reads its task inside its transaction: a task that changed since
 * it was placed (a newer version, for instance shut down meanwhile) is left alone and its placement
 * undone.
 *
 * The work of one batch is bounded, however many tasks wait: they are placed PLACE_CHUNK at a time, the
 * decisions written in store batches of one work slice each (WRITE_SLICE: at most 100 transactions or
 * ≈ 10 ms, see ../work-slice.ts), and the scheduler yields to the event loop between them, so a leader
 * placing 30,000 tasks keeps heartbeating, the desktop app's UI stays responsive, and the first tasks
 * reach their nodes while the last are still being placed.
 *
 * Unplaceable tasks are tried again whenever something could make them fit: a node appears or
 * changes, or a task leaves a node.
 */
import { TaskState, type Node, type Task } from '../../api/objects';
import { TASK_MESSAGES, advanceStatus } from '../../api/task-lifecycle';
import type { ChangeEvent, MemoryStore, Subscription, WriteTx } from '../../store';
import { type Clock, type ComponentLogger, realClock, silentLogger } from '../../runtime';
import { DEFAULT_SLICE, type SliceLimits, WorkSlice, yieldToEventLoop } from '../work-slice';
import { NodeSet, occupiesNode } from './node-set';
import { type PlacementResult, placeTasks } from './placement';

export interface SchedulerOptions {
  store: MemoryStore;
  clock?: Clock;
  logger?: ComponentLogger;
  /** Quiet time after a change before placing, so a burst is placed as one batch (SwarmKit: 50 ms). */
  batchDelayMs?: number;
  /** Longest wait after the first change of a batch, however busy the store is (SwarmKit: 1 s). */
  maxBatchDelayMs?: number;
  /** What one store.batch of decisions may hold (default WRITE_SLICE). */
  writeSlice?: Readonly<SliceLimits>;
}

export const DEFAULT_BATCH_DELAY_MS = 50;
export const DEFAULT_MAX_BATCH_DELAY_MS = 1000;
/** Watch queue: large enough that one big service creation does not cut the scheduler off. */
const WATCH_BUFFER = 1 << 17;
/** Tasks placed at once (≈ 10 ms of the placement core for 1,000 nodes). */
export const PLACE_CHUNK = 1000;
/** What one store.batch of decisions may hold: ≤ 100 task writes, ≈ 10 ms of the leader's time. */
export const WRITE_SLICE: Readonly<SliceLimits> = DEFAULT_SLICE;

/** The tasks this scheduler places (global tasks come with their node already chosen). */
export function wantsPlacement(task: Task): boolean {
  return task.status.state === TaskState.PENDING && task.desiredState === TaskState.RUNNING;
}

function describeError(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export class Scheduler {
  private readonly store: MemoryStore;
  private readonly clock: Clock;
  private readonly logger: ComponentLogger;
  private readonly batchDelayMs: number;
  private readonly maxBatchDelayMs: number;
  private readonly writeSlice: Readonly<SliceLimits>;

  private running = false;
  /** Bumped by start() and stop(): async work of an earlier term sees it is stale. */
  private term = 0;
  private nodes = new NodeSet();
  /** Tasks waiting for a node, latest version seen. */
  private pending = new Map<string, Task>();
  private subscription: Subscription | null = null;
  private timer: unknown = null;
  private batchStartedAt = 0;
  private writing: Promise<void> | null = null;
  /** Something changed while a batch was being written: place again once it is done. */
  private rerun = false;

  constructor(options: SchedulerOptions) {
    this.store = options.store;
    this.clock = options.clock ?? realClock;
    this.logger = options.logger ?? silentLogger;
    this.batchDelayMs = options.batchDelayMs ?? DEFAULT_BATCH_DELAY_MS;
    this.maxBatchDelayMs = options.maxBatchDelayMs ?? DEFAULT_MAX_BATCH_DELAY_MS;
    this.writeSlice = options.writeSlice ?? WRITE_SLICE;
  }

  get isRunning(): boolean {
    return this.running;
  }

  /** Tasks currently waiting for a node (for diagnostics and tests). */
  get pendingCount(): number {
    return this.pending.size;
  }

  /** This manager became leader: load the cluster and start placing. */
  start(): void {
    if (this.running) return;
    this.running = true;
    const term = ++this.term;
    const subscription = this.load();
    void this.consume(subscription, term);
    this.logger.info('scheduler started', { nodes: this.nodes.size, pending: this.pending.size });
    if (this.pending.size > 0) this.arm();
  }

  /** Leadership lost: stop placing. A batch being written finishes or fails on its own. */
  stop(): void {
    if (!this.running) return;
    this.running = false;
    this.term++;
    this.subscription?.close();
    this.subscription = null;
    this.disarm();
    this.pending.clear();
    this.nodes = new NodeSet();
    this.logger.info('scheduler stopped');
  }

  /** Resolves once the batch being written (if any) is done; for tests and orderly shutdown. */
  async settled(): Promise<void> {
    while (this.writing !== null) await this.writing;
  }

  // ------------------------------------------------------------------------------------- store state

  /** (Re)builds everything from a store view and subscribes right after it: no gap, no duplicate. */
  private load(): Subscription {
    const previous = this.nodes;
    const now = this.clock.now();
    const nodes = new NodeSet();
    const pending = new Map<string, Task>();
    const { subscription } = this.store.viewAndWatch(
      (tx) => {
        for (const node of tx.iterate('node')) nodes.upsertNode(node);
        for (const task of tx.iterate('task')) {
          nodes.observeTask(task, now);
          if (wantsPlacement(task)) pending.set(task.id, task);
        }
      },
      { kinds: ['task', 'node'], bufferSize: WATCH_BUFFER },
    );
    // Recent failures exist only in memory; a resync should not forget them.
    for (const info of nodes) {
      const old = previous.get(info.id);
      if (old !== undefined) for (const [key, times] of old.recentFailures) info.recentFailures.set(key, times);
    }
    this.nodes = nodes;
    this.pending = pending;
    this.subscription = subscription;
    return subscription;
  }

  private async consume(first: Subscription, term: number): Promise<void> {
    let subscription = first;
    while (term === this.term) {
      try {
        let changes: ChangeEvent[] = [];
        for await (const event of subscription) {
          if (term !== this.term) return;
          if (event.type === 'change') changes.push(event);
          else if (event.type === 'commit') {
            this.onCommit(changes);
            changes = [];
          } else break; // the store was restored from a snapshot: no per-object events, reload
        }
      } catch (err) {
        if (term !== this.term) return;
        // Fell behind: reload from a fresh view, losing nothing.
        this.logger.warn('scheduler watch restarted', { error: describeError(err) });
      }
      if (term !== this.term) return; // closed by stop()
      subscription.close();
      subscription = this.load();
      if (this.pending.size > 0) this.arm();
    }
  }

  private onCommit(changes: readonly ChangeEvent[]): void {
    const now = this.clock.now();
    let newWork = false;
    let roomMade = false;
    for (const change of changes) {
      if (change.kind === 'node') {
        if (change.action === 'delete') this.nodes.removeNode(change.object.id);
        else {
          this.nodes.upsertNode(change.object as Node);
          roomMade = true;
        }
      } else if (change.kind === 'task') {
        const task = change.object as Task;
        const held = change.oldObject !== undefined && occupiesNode(change.oldObject as Task);
        if (change.action === 'delete') {
          this.nodes.removeTask(task.id);
          this.pending.delete(task.id);
          if (held) roomMade = true;
          continue;
        }
        this.nodes.observeTask(task, now);
        if (held && !occupiesNode(task)) roomMade = true;
        if (wantsPlacement(task)) {
          const before = this.pending.get(task.id);
          // Our own write of a pending reason comes back as an update: that alone is no new work. A task
          // not in `pending` is new, or one whose placement was not written (it changed meanwhile).
          if (before === undefined || before.specVersion !== task.specVersion || before.nodeId !== task.nodeId) newWork = true;
          this.pending.set(task.id, task);
        } else {
          this.pending.delete(task.id);
        }
      }
    }
    if (newWork || (roomMade && this.pending.size > 0)) this.arm();
  }

  // ---------------------------------------------------------------------------------------- batches

  /** Places after a quiet period; each new change pushes it back, up to maxBatchDelayMs in all. */
  private arm(): void {
    if (!this.running) return;
    if (this.writing !== null) {
      this.rerun = true;
      return;
    }
    const now = this.clock.now();
    if (this.timer === null) this.batchStartedAt = now;
    else {
      const deadline = this.batchStartedAt + this.maxBatchDelayMs;
      if (now + this.batchDelayMs > deadline) return; // keep the timer due at (or before) the deadline
      this.clock.clearTimeout(this.timer);
    }
    this.timer = this.clock.setTimeout(() => {
      this.timer = null;
      this.runBatch();
    }, this.batchDelayMs);
  }

  private disarm(): void {
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
    this.rerun = false;
  }

  private runBatch(): void {
    if (!this.running || this.pending.size === 0) return;
    const term = this.term;
    this.writing = this.placeAll(term).finally(() => {
      this.writing = null;
      if (term === this.term && this.rerun) {
        this.rerun = false;
        this.arm();
      }
    });
  }

  /** Places and writes every task pending now, PLACE_CHUNK at a time. */
  private async placeAll(term: number): Promise<void> {
    const waiting = [...this.pending.values()];
    for (let i = 0; i < waiting.length; i += PLACE_CHUNK) {
      if (i > 0) await yieldToEventLoop();
      if (term !== this.term) return;
      // Skip what changed while earlier chunks were written (newer versions are in `pending`, for the next batch).
      const chunk = waiting.slice(i, i + PLACE_CHUNK).filter((t) => this.pending.get(t.id) === t);
      if (chunk.length === 0) continue;
      const started = Date.now();
      const result = placeTasks(this.nodes, chunk, this.clock.now());
      // Placed tasks stop being pending now; their ASSIGNED versions come back through the watch.
      for (const a of result.assigned) this.pending.delete(a.task.id);
      this.logger.debug('scheduler placed a batch', {
        assigned: result.assigned.length,
        unplaced: result.unplaced.length,
        ms: Date.now() - started,
      });
      if (!(await this.write(result, term))) return;
    }
  }

  /** Writes the decisions, a WRITE_SLICE per store batch; false if a batch failed (recovered, to be retried). */
  private async write(result: PlacementResult, term: number): Promise<boolean> {
    const timestamp = new Date(this.clock.now()).toISOString();
    const skipped: Task[] = [];
    const writes: ((tx: WriteTx) => void)[] = [];
    for (const { task, nodeId } of result.assigned) {
      writes.push((tx) => {
        const current = tx.get('task', task.id);
        // Still the very version we placed (so still PENDING, still wanted running)?
        const advanced =
          current !== undefined && current.meta.version === task.meta.version && wantsPlacement(current)
            ? advanceStatus(current, { state: TaskState.ASSIGNED, message: TASK_MESSAGES.assigned, timestamp })
            : undefined;
        if (advanced === undefined) {
          skipped.push(task);
          return;
        }
        tx.update('task', { ...advanced, nodeId });
      });
    }
    for (const { task, reason } of result.unplaced) {
      if (task.status.err === reason) continue;
      writes.push((tx) => {
        const current = tx.get('task', task.id);
        if (current === undefined || current.meta.version !== task.meta.version || !wantsPlacement(current)) return;
        const withReason = advanceStatus(current, { ...current.status, err: reason });
        if (withReason !== undefined) tx.update('task', withReason);
      });
    }
    try {
      let next = 0;
      while (next < writes.length) {
        if (next > 0) await yieldToEventLoop();
        if (term !== this.term) return false;
        await this.store.batch((batch) => {
          // Timed from when the batch's turn comes, not from when it was queued behind other writers.
          const slice = new WorkSlice(this.writeSlice);
          while (next < writes.length && !slice.spent) {
            batch.update(writes[next++]);
            slice.add();
          }
        });
      }
    } catch (err) {
      if (term !== this.term) return false;
      this.logger.warn('scheduler could not write a batch', { error: describeError(err) });
      this.recover(result);
      return false;
    }
    if (term !== this.term) return false;
    // Undo placements that were not written; the newer versions of those tasks arrive by the watch.
    for (const task of skipped) this.undo(task);
    return true;
  }

  /** After a failed batch: keep what was committed, undo the rest and try those tasks again. */
  private recover(result: PlacementResult): void {
    for (const { task, nodeId } of result.assigned) {
      const current = this.store.get('task', task.id);
      if (current !== undefined && current.nodeId === nodeId && current.status.state === TaskState.ASSIGNED) continue;
      this.undo(task);
      if (current !== undefined && wantsPlacement(current)) this.pending.set(current.id, current);
    }
    this.rerun = true;
  }

  private undo(task: Task): void {
    const current = this.store.get('task', task.id);
    // Only if nothing newer has put the task on a node in the meantime.
    if (current === undefined || !occupiesNode(current)) this.nodes.removeTask(task.id);
  }
}
