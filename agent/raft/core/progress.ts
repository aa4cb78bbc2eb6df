/**
 * The leader's view of one follower (etcd's tracker.Progress).
 *
 * - probe: we don't know where the follower's log ends; send one App at a time and wait for the answer.
 * - replicate: the follower is in sync; stream Apps optimistically (next runs ahead of match), bounded
 *   by the inflights window.
 * - snapshot: a snapshot is on its way; send nothing until it is reported done or failed.
 */
import { Inflights } from './inflights';

export enum ProgressState {
  Probe = 'probe',
  Replicate = 'replicate',
  Snapshot = 'snapshot',
}

export class Progress {
  /** Highest index known to be replicated on the follower. */
  match = 0;
  /** Index of the next entry to send. */
  next: number;
  state: ProgressState = ProgressState.Probe;
  /** Index of the snapshot in flight (snapshot state). */
  pendingSnapshot = 0;
  /** The follower has been heard from since the last CheckQuorum round. */
  recentActive = false;
  /** Probe state: an App is outstanding, wait for its answer (or a heartbeat response). */
  probeSent = false;
  isLearner: boolean;
  readonly inflights: Inflights;

  constructor(next: number, maxInflightMsgs: number, maxInflightBytes: number, isLearner: boolean) {
    this.next = next;
    this.isLearner = isLearner;
    this.inflights = new Inflights(maxInflightMsgs, maxInflightBytes);
  }

  /** Back to a blank probe state (a new term starts); keeps the learner flag. */
  reset(next: number): void {
    this.match = 0;
    this.next = next;
    this.recentActive = false;
    this.resetState(ProgressState.Probe);
  }

  private resetState(state: ProgressState): void {
    this.probeSent = false;
    this.pendingSnapshot = 0;
    this.state = state;
    this.inflights.reset();
  }

  becomeProbe(): void {
    // After a snapshot, the follower has at least the snapshot: probe from just after it.
    const pending = this.state === ProgressState.Snapshot ? this.pendingSnapshot : 0;
    this.resetState(ProgressState.Probe);
    this.next = Math.max(this.match + 1, pending + 1);
  }

  becomeReplicate(): void {
    this.resetState(ProgressState.Replicate);
    this.next = this.match + 1;
  }

  becomeSnapshot(snapshotIndex: number): void {
    this.resetState(ProgressState.Snapshot);
    this.pendingSnapshot = snapshotIndex;
    this.next = snapshotIndex + 1;
  }

  /** Bookkeeping after sending an App carrying `count` entries (`bytes` of payload) from `next`. */
  sentEntries(count: number, bytes: number): void {
    if (this.state === ProgressState.Replicate) {
      if (count > 0) {
        this.next += count; // optimistic: pipeline the next App without waiting for this one
        this.inflights.add(this.next - 1, bytes);
      }
    } else if (this.state === ProgressState.Probe) {
      this.probeSent = true;
    }
  }

  /** An acknowledgement up to n. Returns whether match moved. */
  maybeUpdate(n: number): boolean {
    let updated = false;
    if (this.match < n) {
      this.match = n;
      this.probeSent = false;
      updated = true;
    }
    if (this.next < n + 1) this.next = n + 1;
    return updated;
  }

  /**
   * A rejection of the App whose previous index was `rejected`; `matchHint` is where the follower's log
   * may match (from findConflictByTerm). Returns false for a stale rejection.
   */
  maybeDecrTo(rejected: number, matchHint: number): boolean {
    if (this.state === ProgressState.Replicate) {
      // Stale if we already know the follower has `rejected`; otherwise fall back to just after match.
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    // In probe state only the answer to the latest probe (prev index next-1) counts.
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1);
    this.probeSent = false;
    return true;
  }

  isPaused(): boolean {
    switch (this.state) {
      case ProgressState.Probe:
        return this.probeSent;
      case ProgressState.Replicate:
        return this.inflights.full();
      case ProgressState.Snapshot:
        return true;
    }
  }
}
