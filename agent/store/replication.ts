/**
 * The seam between the store and Raft. The store is a deterministic state machine driven by the Raft
 * runner; it writes by proposing opaque entries through a Proposer. Nothing here knows about terms,
 * peers or logs.
 */

/**
 * The Raft runner. propose() resolves with the value returned by StateMachine.apply for that entry on
 * THIS node, once committed and applied locally; rejects with an error if the proposal was dropped (no
 * leader, leadership lost, node stopping) or timed out.
 */
export interface Proposer {
  propose(data: Uint8Array, signal?: AbortSignal): Promise<unknown>;
  /** Resolves once this node has applied everything committed at the time of the call as confirmed by the leader (ReadIndex). */
  linearizableBarrier(signal?: AbortSignal): Promise<void>;
}

/**
 * What the Raft runner drives. apply() is called for every committed Normal entry in log order on every
 * manager; it must be deterministic.
 */
export interface StateMachine {
  apply(data: Uint8Array, index: number): unknown;
  /** Whole store, consistent (at the last applied index). */
  snapshot(): Uint8Array;
  /** Replaces the whole store. */
  restore(data: Uint8Array, index: number): void;
}
