/**
 * The seam between raft and what it replicates (the store): the runner drives a StateMachine and offers
 * itself as a Proposer. Neither side knows the other's internals.
 *
 * What the raft runner replicates. apply() is called for every committed normal entry, in log order,
 * on every member; it must be deterministic (no clocks, no randomness) so all members end identical.
 * Its return value is handed to the proposer's caller on the member that proposed the entry.
 */
export interface StateMachine {
  apply(data: Uint8Array, index: number): unknown;
  /** The whole state at the last applied index. */
  snapshot(): Uint8Array;
  /**
   * Optional, for large states: captures the state at the last applied index now (cheaply, e.g. an
   * immutable root) and returns the encoder of those bytes, the same as snapshot() would give, to run
   * later in slices beside the raft pipeline so that a snapshot never holds the event loop at once.
   */
  captureSnapshot?(): SnapshotEncoder;
  /** Replace the whole state (empty data = the initial state). */
  restore(data: Uint8Array, index: number): void;
}

/** Encodes a captured state; between two slices of work it awaits `slice.pause()` once `slice.due()`. */
export type SnapshotEncoder = (slice: SnapshotSlice) => Promise<Uint8Array>;

export interface SnapshotSlice {
  /** Whether this slice has used its time: the encoder should pause at its next convenient point. */
  due(): boolean;
  /** Hands the event loop back; rejects if the member stopped meanwhile (the encoding is then moot). */
  pause(): Promise<void>;
}

/** Writes and linearizable reads through raft, as the store sees them. */
export interface Proposer {
  /** Resolves with StateMachine.apply's result once the entry is committed and applied here. */
  propose(data: Uint8Array, signal?: AbortSignal): Promise<unknown>;
  /** Resolves once this member has applied everything the leader had committed when it was called. */
  linearizableBarrier(signal?: AbortSignal): Promise<void>;
}
