/**
 * Node status writes, batched. Every write the dispatcher makes (ready on registration, down on a
 * missed deadline, unknown after a leader change) goes through here, so that a burst — a hundred nodes
 * reconnecting to a new leader, or a rack going dark — becomes one store.batch (one or a few Raft
 * entries) instead of one entry per node.
 *
 * Batching needs no timer: at most one batch is in flight, and everything queued while it commits
 * (a Raft round trip plus an fsync) goes into the next one. An idle cluster pays no added latency; a
 * busy one batches in proportion to how slow commits are. (SwarmKit uses a 100 ms timer instead.)
 *
 * Only changes are written: an update that would leave the node as it is is dropped inside the
 * transaction, so a node that re-registers with the same description and address costs nothing.
 */
import { ApiError } from '../../api/errors';
import type { Node, NodeDescription, NodeState } from '../../api/objects';
import type { ComponentLogger } from '../../runtime';
import type { MemoryStore } from '../../store';

export interface NodeStatusUpdate {
  state: NodeState;
  message: string;
  /** Kept as it is when absent. */
  addr?: string;
  /** Kept as it is when absent. */
  description?: NodeDescription;
}

interface Waiter {
  resolve(): void;
  reject(err: unknown): void;
}

interface Queued {
  update: NodeStatusUpdate;
  waiters: Waiter[];
}

function merge(older: NodeStatusUpdate, newer: NodeStatusUpdate): NodeStatusUpdate {
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
  private pending = new Map<string, Queued>();
  private scheduled = false;
  private inFlight: Promise<void> | null = null;
  private stopped = false;
  private readonly idleWaiters: (() => void)[] = [];

  constructor(
    private readonly store: MemoryStore,
    private readonly logger: ComponentLogger,
    /** Runs the flush after the current macrotask, so writes queued in one turn share a batch. */
    private readonly defer: (fn: () => void) => void = (fn) => setImmediate(fn),
  ) {}

  /** Queues `update` for `nodeId`; resolves once it is committed (or found to change nothing). */
  write(nodeId: string, update: NodeStatusUpdate): Promise<void> {
    if (this.stopped) return Promise.reject(new ApiError('Unavailable', 'the dispatcher is stopped'));
    return new Promise<void>((resolve, reject) => {
      const queued = this.pending.get(nodeId);
      if (queued === undefined) this.pending.set(nodeId, { update, waiters: [{ resolve, reject }] });
      else {
        queued.update = merge(queued.update, update);
        queued.waiters.push({ resolve, reject });
      }
      this.schedule();
    });
  }

  /** Resolves when nothing is queued or in flight. */
  idle(): Promise<void> {
    if (this.pending.size === 0 && this.inFlight === null && !this.scheduled) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Drops queued writes (their callers get Unavailable); a batch already proposed may still commit. */
  stop(): void {
    this.stopped = true;
    const dropped = this.pending;
    this.pending = new Map();
    const err = new ApiError('Unavailable', 'the dispatcher stopped before the node status was written');
    for (const queued of dropped.values()) for (const w of queued.waiters) w.reject(err);
    this.notifyIdle();
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
    const batch = this.pending;
    this.pending = new Map();
    this.inFlight = this.commit(batch).finally(() => {
      this.inFlight = null;
      if (this.pending.size > 0) this.schedule();
      else this.notifyIdle();
    });
  }

  private async commit(batch: Map<string, Queued>): Promise<void> {
    try {
      await this.store.batch((b) => {
        for (const [nodeId, { update }] of batch) {
          try {
            b.update((tx) => {
              // Re-read inside the transaction: the operator may have changed the node's spec meanwhile.
              const node = tx.get('node', nodeId);
              if (node === undefined) return; // removed meanwhile: nothing to record
              const next = applyStatusUpdate(node, update);
              if (next !== undefined) tx.update('node', next);
            });
          } catch (err) {
            // One bad update must not keep the others out of the batch.
            this.logger.warn('node status update rejected', { nodeId, error: String(err) });
          }
        }
      });
    } catch (err) {
      this.logger.warn('node status batch failed', { nodes: batch.size, error: err instanceof Error ? err.message : String(err) });
      for (const queued of batch.values()) for (const w of queued.waiters) w.reject(err);
      return;
    }
    for (const queued of batch.values()) for (const w of queued.waiters) w.resolve();
  }

  private notifyIdle(): void {
    if (this.pending.size > 0 || this.inFlight !== null || this.scheduled) return;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }
}
