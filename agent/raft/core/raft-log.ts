/**
 * The log as the core sees it: the stable part (LogStorage) plus the unstable tail that has not been
 * persisted yet, with the commit and apply cursors (etcd's raftLog and unstable).
 *
 * Cursor invariants: firstIndex-1 <= applied <= applying <= committed <= lastIndex.
 * `applying` runs ahead of `applied` while committed entries handed out in a Ready are being applied,
 * so pipelined Readies never hand the same entry out twice.
 */
import { type Entry, type LogStorage, type Snapshot, CompactedError } from '../types';
import { entrySize, limitSize } from './util';

/** Entries (and possibly a snapshot) not yet persisted to storage. */
export class Unstable {
  /** A snapshot received from the leader, waiting to be persisted. */
  snapshot: Snapshot | undefined;
  /** entries[i] has index offset + i. */
  entries: Entry[] = [];
  offset: number;
  /** Entries below this index were handed out in a Ready and are being persisted. */
  offsetInProgress: number;
  snapshotInProgress = false;

  constructor(offset: number) {
    this.offset = offset;
    this.offsetInProgress = offset;
  }

  maybeFirstIndex(): number | undefined {
    return this.snapshot ? this.snapshot.metadata.index + 1 : undefined;
  }

  maybeLastIndex(): number | undefined {
    if (this.entries.length > 0) return this.offset + this.entries.length - 1;
    return this.snapshot ? this.snapshot.metadata.index : undefined;
  }

  maybeTerm(i: number): number | undefined {
    if (i < this.offset) {
      return this.snapshot && this.snapshot.metadata.index === i ? this.snapshot.metadata.term : undefined;
    }
    const last = this.maybeLastIndex();
    if (last === undefined || i > last) return undefined;
    return this.entries[i - this.offset].term;
  }

  hasNextEntries(): boolean {
    return this.offsetInProgress < this.offset + this.entries.length;
  }

  nextEntries(): Entry[] {
    const from = this.offsetInProgress - this.offset;
    return from >= this.entries.length ? [] : this.entries.slice(from);
  }

  nextSnapshot(): Snapshot | undefined {
    return this.snapshot && !this.snapshotInProgress ? this.snapshot : undefined;
  }

  /** Everything currently unstable has been handed out in a Ready. */
  acceptInProgress(): void {
    if (this.entries.length > 0) this.offsetInProgress = this.offset + this.entries.length;
    if (this.snapshot) this.snapshotInProgress = true;
  }

  /**
   * Entries up to (i, t) are persisted. Ignored when the entry at i has since been replaced by one of
   * another term (a newer leader overwrote it while the write was in flight).
   */
  stableTo(i: number, t: number): void {
    if (i < this.offset) return;
    const term = this.maybeTerm(i);
    if (term === undefined || term !== t) return;
    const count = i + 1 - this.offset;
    this.entries = count === this.entries.length ? [] : this.entries.slice(count);
    this.offset = i + 1;
    if (this.offsetInProgress < this.offset) this.offsetInProgress = this.offset;
  }

  stableSnapTo(i: number): void {
    if (this.snapshot && this.snapshot.metadata.index === i) {
      this.snapshot = undefined;
      this.snapshotInProgress = false;
    }
  }

  restore(s: Snapshot): void {
    this.offset = s.metadata.index + 1;
    this.offsetInProgress = this.offset;
    this.entries = [];
    this.snapshot = s;
    this.snapshotInProgress = false;
  }

  /** Appends `ents` (copied, as they usually come from a message), replacing any conflicting tail. */
  truncateAndAppend(ents: readonly Entry[]): void {
    const from = ents[0].index;
    if (from === this.offset + this.entries.length) {
      for (let i = 0; i < ents.length; i++) this.entries.push(ents[i]);
    } else if (from <= this.offset) {
      // The new entries replace everything unstable (and shadow storage from `from` on).
      this.entries = ents.slice();
      this.offset = from;
      this.offsetInProgress = from;
    } else {
      this.entries.length = from - this.offset;
      for (let i = 0; i < ents.length; i++) this.entries.push(ents[i]);
      if (this.offsetInProgress > from) this.offsetInProgress = from;
    }
  }
}

export interface TermHint {
  index: number;
  term: number;
}

export class RaftLog {
  readonly unstable: Unstable;
  committed: number;
  /** Highest index handed out for applying (in a Ready's committedEntries). */
  applying: number;
  /** Highest index the application has applied (acknowledged through advance). */
  applied: number;

  constructor(readonly storage: LogStorage) {
    const first = storage.firstIndex();
    this.unstable = new Unstable(storage.lastIndex() + 1);
    this.committed = first - 1;
    this.applying = first - 1;
    this.applied = first - 1;
  }

  firstIndex(): number {
    return this.unstable.maybeFirstIndex() ?? this.storage.firstIndex();
  }

  lastIndex(): number {
    return this.unstable.maybeLastIndex() ?? this.storage.lastIndex();
  }

  lastTerm(): number {
    return this.term(this.lastIndex()) ?? 0;
  }

  /**
   * Last index of the log that is durable. Counted as the leader's own match: a leader only counts
   * itself towards a commit quorum for entries it has persisted (thesis 10.2.1).
   */
  stableLastIndex(): number {
    if (this.unstable.snapshot) return 0;
    const stored = Math.min(this.storage.lastIndex(), this.lastIndex());
    return this.unstable.entries.length > 0 ? Math.min(this.unstable.offset - 1, stored) : stored;
  }

  /** Term of entry i, or undefined when i is compacted or beyond the log. */
  term(i: number): number | undefined {
    const fromUnstable = this.unstable.maybeTerm(i);
    if (fromUnstable !== undefined) return fromUnstable;
    // The valid range is [firstIndex-1, lastIndex]: the dummy at firstIndex-1 knows its term.
    if (i < this.firstIndex() - 1 || i > this.lastIndex()) return undefined;
    try {
      return this.storage.term(i);
    } catch {
      return undefined;
    }
  }

  matchTerm(i: number, t: number): boolean {
    return this.term(i) === t;
  }

  /** §5.4.1: a candidate's log is at least as up to date as ours. */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const ourTerm = this.lastTerm();
    return lastTerm > ourTerm || (lastTerm === ourTerm && lastIndex >= this.lastIndex());
  }

  /** Index of the first entry in `ents` that is new or conflicts with ours; 0 if all match. */
  findConflict(ents: readonly Entry[]): number {
    for (let i = 0; i < ents.length; i++) {
      if (!this.matchTerm(ents[i].index, ents[i].term)) return ents[i].index;
    }
    return 0;
  }

  /**
   * The largest index <= `index` whose term is <= `term` (etcd's findConflictByTerm). Used on both
   * sides of a rejection so one round trip skips a whole term of mismatching entries.
   */
  findConflictByTerm(index: number, term: number): TermHint {
    for (; index > 0; index--) {
      const ours = this.term(index);
      if (ours === undefined) return { index, term: 0 };
      if (ours <= term) return { index, term: ours };
    }
    return { index: 0, term: 0 };
  }

  /**
   * Follower side of AppendEntries (§5.3): if our log has (prevIndex, prevTerm), append the entries
   * (truncating a conflicting tail) and commit up to min(leaderCommit, last new index).
   * Returns the last new index, or undefined when the log doesn't match.
   */
  maybeAppend(prevIndex: number, prevTerm: number, leaderCommit: number, ents: readonly Entry[]): number | undefined {
    if (!this.matchTerm(prevIndex, prevTerm)) return undefined;
    const lastNew = prevIndex + ents.length;
    const conflict = this.findConflict(ents);
    if (conflict !== 0) {
      if (conflict <= this.committed) {
        throw new Error(`raft invariant violated: entry ${conflict} conflicts with committed entry (committed ${this.committed})`);
      }
      this.append(conflict === ents[0].index ? ents : ents.slice(conflict - ents[0].index));
    }
    this.commitTo(Math.min(leaderCommit, lastNew));
    return lastNew;
  }

  append(ents: readonly Entry[]): number {
    if (ents.length === 0) return this.lastIndex();
    if (ents[0].index - 1 < this.committed) {
      throw new Error(`raft invariant violated: append after ${ents[0].index - 1} is below committed ${this.committed}`);
    }
    this.unstable.truncateAndAppend(ents);
    return this.lastIndex();
  }

  /** Entries from `lo` to the end of the log, at most `maxBytes` (at least one). */
  entries(lo: number, maxBytes: number): Entry[] {
    const last = this.lastIndex();
    if (lo > last) return [];
    return this.slice(lo, last + 1, maxBytes);
  }

  /** Entries in [lo, hi) within `maxBytes`; throws CompactedError when lo is compacted. */
  slice(lo: number, hi: number, maxBytes: number): Entry[] {
    if (lo >= hi) return [];
    if (lo < this.firstIndex()) throw new CompactedError(lo);
    if (hi > this.lastIndex() + 1) throw new RangeError(`slice [${lo}, ${hi}) is past the last index ${this.lastIndex()}`);
    const u = this.unstable;
    if (hi <= u.offset) return this.storage.entries(lo, hi, maxBytes);
    if (lo >= u.offset) return limitSize(u.entries, lo - u.offset, hi - u.offset, maxBytes);
    const stored = this.storage.entries(lo, u.offset, maxBytes);
    if (stored.length < u.offset - lo) return stored; // hit the byte cap inside storage
    let size = 0;
    for (let i = 0; i < stored.length; i++) size += entrySize(stored[i]);
    const out = stored.slice();
    for (let i = 0; i < hi - u.offset; i++) {
      size += entrySize(u.entries[i]);
      if (size > maxBytes) break;
      out.push(u.entries[i]);
    }
    return out;
  }

  hasNextUnstableEntries(): boolean {
    return this.unstable.hasNextEntries();
  }

  nextUnstableEntries(): Entry[] {
    return this.unstable.nextEntries();
  }

  nextUnstableSnapshot(): Snapshot | undefined {
    return this.unstable.nextSnapshot();
  }

  hasNextOrInProgressSnapshot(): boolean {
    return this.unstable.snapshot !== undefined;
  }

  hasNextCommittedEntries(): boolean {
    // Entries after a pending snapshot can only be applied once the snapshot is.
    return this.applying < this.committed && !this.hasNextOrInProgressSnapshot();
  }

  /**
   * Committed entries not yet handed out. They may still be unstable: the Ready contract makes the
   * runner persist a Ready's (and earlier Readies') entries before applying its committed entries.
   */
  nextCommittedEntries(): Entry[] {
    if (!this.hasNextCommittedEntries()) return [];
    return this.slice(this.applying + 1, this.committed + 1, Infinity);
  }

  acceptUnstable(): void {
    this.unstable.acceptInProgress();
  }

  acceptApplying(i: number): void {
    if (i > this.applying) this.applying = i;
  }

  appliedTo(i: number): void {
    if (i > this.committed) throw new Error(`applied ${i} is past committed ${this.committed}`);
    if (i > this.applied) this.applied = i;
    if (i > this.applying) this.applying = i;
  }

  stableTo(i: number, t: number): void {
    this.unstable.stableTo(i, t);
  }

  stableSnapTo(i: number): void {
    this.unstable.stableSnapTo(i);
  }

  commitTo(i: number): void {
    if (i <= this.committed) return;
    if (i > this.lastIndex()) {
      throw new Error(`raft invariant violated: commit ${i} is past the last index ${this.lastIndex()} (log lost or corrupted?)`);
    }
    this.committed = i;
  }

  /** §5.4.2: commit `index` only if it carries the current term (older terms commit indirectly). */
  maybeCommit(index: number, term: number): boolean {
    if (index > this.committed && this.term(index) === term) {
      this.commitTo(index);
      return true;
    }
    return false;
  }

  snapshot(): Snapshot {
    return this.unstable.snapshot ?? this.storage.snapshot();
  }

  restore(s: Snapshot): void {
    this.committed = s.metadata.index;
    this.unstable.restore(s);
  }
}
