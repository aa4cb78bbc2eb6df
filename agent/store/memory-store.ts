/**
 * The replicated object store (SwarmKit's manager/state/store.MemoryStore). Reads are served from the
 * local immutable state; writes are checked locally, proposed through Raft as one entry per transaction,
 * and take effect when apply() runs for that entry — on every manager, identically.
 *
 * Writers on one node are serialized (like SwarmKit's update lock): each transaction's callback runs after
 * the previous local transaction has committed and been applied, so it reads its predecessor's effects.
 * Writers on different nodes are reconciled by apply's checks (versions, existence, unique names).
 */
import { ApiError } from '../api/errors';
import type { Kind, ObjectKinds } from '../api/objects';
import { type ApplyOutcome, type Change, applyEntry, isApplyOutcome } from './apply';
import { type ReadTx, ReadTxImpl } from './read-tx';
import type { Proposer, SnapshotEncoder, StateMachine } from '../raft/state-machine';
import { decodeSnapshot, encodeSnapshot, encodeSnapshotInSlices } from './snapshot';
import { type StoreState, emptyState } from './state';
import { type Subscription, WatchHub, type StoreEvent, type WatchOptions } from './watch';
import { type NewObject, type PreparedEntry, type WriteTx, WriteSession } from './write-tx';

export const DEFAULT_MAX_ENTRY_BYTES = 1024 * 1024;

export interface MemoryStoreOptions {
  /** Upper bound of one entry's encoded size (default 1 MiB); larger transactions are rejected. */
  maxEntryBytes?: number;
  /** The proposer's clock for createdAt/updatedAt (tests inject one). Never consulted by apply. */
  now?: () => Date;
}

export interface WriteOptions {
  signal?: AbortSignal;
}

export interface CommitResult<T> {
  /** What the callback returned. */
  value: T;
  /** Raft index of the entry (the new meta.version of every written object); the current version if nothing was written. */
  version: number;
  /** The committed objects, in the order first written. */
  changes: readonly Change[];
}

export interface BatchResult<T> {
  value: T;
  /** Raft index of each entry, in order. */
  versions: readonly number[];
  changes: readonly Change[];
}

export interface Batch {
  /**
   * Runs one transaction callback inside the batch. If it throws, its writes are rolled back and the error
   * rethrown here (the batch goes on if the caller catches it). Earlier callbacks' writes are visible.
   */
  update<T>(fn: (tx: WriteTx) => T): T;
}

export interface ViewAndWatch<T> {
  value: T;
  /** Version of the snapshot `value` was computed from; the subscription starts right after it. */
  version: number;
  subscription: Subscription;
}

function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  const message = err instanceof Error ? err.message : String(err);
  // The entry may still commit later (e.g. after a timeout), so the outcome is unknown, not failed.
  return new ApiError('Unavailable', `proposal not confirmed (${message}); it may or may not have been applied`, {
    cause: err,
  });
}

export class MemoryStore implements StateMachine {
  private state: StoreState = emptyState();
  private readonly hub = new WatchHub();
  private writeTail: Promise<void> = Promise.resolve();
  private readonly maxEntryBytes: number;
  private readonly now: () => Date;

  constructor(
    private readonly proposer: Proposer,
    options: MemoryStoreOptions = {},
  ) {
    this.maxEntryBytes = options.maxEntryBytes ?? DEFAULT_MAX_ENTRY_BYTES;
    this.now = options.now ?? (() => new Date());
  }

  /** Raft index of the last applied entry. */
  get version(): number {
    return this.state.version;
  }

  /** Live subscriptions (for diagnostics and tests of cleanup). */
  get watcherCount(): number {
    return this.hub.size;
  }

  // ---------------------------------------------------------------------------------------------- reads

  /** Runs `fn` on a consistent snapshot of the local state. The snapshot stays valid even if `fn` is async. */
  view<T>(fn: (tx: ReadTx) => T): T {
    return fn(new ReadTxImpl(this.state));
  }

  /** Like view(), after catching up with everything committed cluster-wide (a ReadIndex round trip). */
  async linearizableView<T>(fn: (tx: ReadTx) => T, signal?: AbortSignal): Promise<T> {
    try {
      await this.proposer.linearizableBarrier(signal);
    } catch (err) {
      throw toApiError(err);
    }
    return this.view(fn);
  }

  get<K extends Kind>(kind: K, id: string): ObjectKinds[K] | undefined {
    return this.view((tx) => tx.get(kind, id));
  }

  findByIdPrefix<K extends Kind>(kind: K, prefix: string): ObjectKinds[K] {
    return this.view((tx) => tx.findByIdPrefix(kind, prefix));
  }

  // --------------------------------------------------------------------------------------------- writes

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.writeTail.then(fn);
    this.writeTail = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  private async proposeEntry(entry: PreparedEntry, committed: readonly number[], signal?: AbortSignal) {
    const data = entry.encode(this.now().toISOString(), committed);
    let result: unknown;
    try {
      result = await this.proposer.propose(data, signal);
    } catch (err) {
      throw toApiError(err);
    }
    if (!isApplyOutcome(result)) throw new ApiError('Unavailable', 'proposal applied by something other than this store');
    if (!result.ok) throw new ApiError(result.error.code, result.error.message);
    return result;
  }

  /**
   * A write transaction: `fn` (synchronous) reads and writes through `tx`, then its writes are proposed as
   * one entry and applied all-or-nothing. Resolves once applied locally, with the committed objects;
   * rejects with a ApiError (from `fn`, from apply's re-checks, or Unavailable from Raft).
   */
  update<T>(fn: (tx: WriteTx) => T, options: WriteOptions = {}): Promise<CommitResult<T>> {
    return this.exclusive(async () => {
      const session = new WriteSession(this.state, this.now().toISOString(), this.maxEntryBytes, false);
      const value = session.run(fn);
      const entries = session.finish();
      if (entries.length === 0) return { value, version: this.state.version, changes: [] };
      const outcome = await this.proposeEntry(entries[0], [], options.signal);
      return { value, version: outcome.version, changes: outcome.changes };
    });
  }

  /**
   * Many transactions at once (scheduler, dispatcher): `fn` calls `batch.update` any number of times;
   * the writes are packed into entries of at most maxEntryBytes, proposed in order. Entries are atomic
   * but the batch is not: if entry k fails, entries before it stay committed, later ones are not
   * proposed, and the rejection carries details {committedEntries, totalEntries}.
   */
  batch<T>(fn: (batch: Batch) => T, options: WriteOptions = {}): Promise<BatchResult<T>> {
    return this.exclusive(async () => {
      const session = new WriteSession(this.state, this.now().toISOString(), this.maxEntryBytes, true);
      let open = true;
      const value = fn({
        update: (txFn) => {
          if (!open) throw new ApiError('FailedPrecondition', 'batch used after its callback returned');
          return session.run(txFn);
        },
      });
      open = false;
      const entries = session.finish();
      const versions: number[] = [];
      const changes: Change[] = [];
      for (const entry of entries) {
        let outcome: Extract<ApplyOutcome, { ok: true }>;
        try {
          outcome = await this.proposeEntry(entry, versions, options.signal);
        } catch (err) {
          const e = toApiError(err);
          throw new ApiError(e.code, `batch entry ${versions.length + 1}/${entries.length}: ${e.message}`, {
            cause: e,
            details: { ...e.details, committedEntries: versions.length, totalEntries: entries.length },
          });
        }
        versions.push(outcome.version);
        for (const c of outcome.changes) changes.push(c);
      }
      return { value, versions, changes };
    });
  }

  /** One create, resolving with the committed object. */
  async createObject<K extends Kind>(kind: K, obj: NewObject<K>, options?: WriteOptions): Promise<ObjectKinds[K]> {
    const res = await this.update((tx) => tx.create(kind, obj).id, options);
    return this.committed(res, kind, res.value);
  }

  /** One read-modify-write, resolving with the committed object (Conflict if `obj` is stale). */
  async updateObject<K extends Kind>(kind: K, obj: ObjectKinds[K], options?: WriteOptions): Promise<ObjectKinds[K]> {
    const res = await this.update((tx) => tx.update(kind, obj).id, options);
    return this.committed(res, kind, res.value);
  }

  /** One delete, resolving with the object as it was deleted. */
  async deleteObject<K extends Kind>(kind: K, id: string, options?: WriteOptions): Promise<ObjectKinds[K]> {
    const res = await this.update((tx) => tx.delete(kind, id), options);
    return this.committed(res, kind, id);
  }

  private committed<K extends Kind>(res: CommitResult<unknown>, kind: K, id: string): ObjectKinds[K] {
    const change = res.changes.find((c) => c.kind === kind && c.object.id === id);
    if (change === undefined) throw new ApiError('FailedPrecondition', `internal: ${kind} ${id} missing from commit`);
    return change.object as ObjectKinds[K];
  }

  // ---------------------------------------------------------------------------------------------- watch

  watch(options: WatchOptions = {}): Subscription {
    return this.hub.subscribe(options);
  }

  /**
   * Callback form of watch() for UI code: `onEvent` is called for each event, asynchronously, in order;
   * `onClose` once when the subscription ends (with the error if it was cut off or onEvent threw).
   */
  subscribe(
    options: WatchOptions,
    onEvent: (event: StoreEvent) => void,
    onClose?: (err: ApiError | undefined) => void,
  ): Subscription {
    const sub = this.hub.subscribe(options);
    void (async () => {
      let failure: ApiError | undefined;
      try {
        for await (const ev of sub) onEvent(ev);
      } catch (err) {
        failure = toApiError(err);
        sub.close();
      }
      onClose?.(failure);
    })();
    return sub;
  }

  /**
   * An atomic snapshot plus every later change: `fn` reads the state at version V and the subscription
   * yields exactly the events of entries after V — no gap, no duplicate. (Applies run synchronously, so
   * nothing can land between taking the snapshot and subscribing.)
   */
  viewAndWatch<T>(fn: (tx: ReadTx) => T, options: WatchOptions = {}): ViewAndWatch<T> {
    const state = this.state;
    const subscription = this.hub.subscribe(options);
    try {
      return { value: fn(new ReadTxImpl(state)), version: state.version, subscription };
    } catch (err) {
      subscription.close();
      throw err;
    }
  }

  // ------------------------------------------------------------------------------------- state machine

  apply(data: Uint8Array, index: number): ApplyOutcome {
    const { state, outcome } = applyEntry(this.state, data, index);
    this.state = state;
    if (outcome.ok) this.hub.publish(outcome.changes, outcome.version);
    return outcome;
  }

  snapshot(): Uint8Array {
    return encodeSnapshot(this.state);
  }

  /** The state is immutable: holding its root is the whole capture; encoding runs later, in slices. */
  captureSnapshot(): SnapshotEncoder {
    const state = this.state;
    return (slice) => encodeSnapshotInSlices(state, slice);
  }

  /** Replaces the whole store; empty data is the empty store (a new cluster, or a member not yet seeded). */
  restore(data: Uint8Array, index: number): void {
    this.state = data.length === 0 ? emptyState(index) : decodeSnapshot(data, index);
    this.hub.publishRestored(this.state.version);
  }
}
