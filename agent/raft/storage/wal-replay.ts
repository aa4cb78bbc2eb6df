/**
 * Rebuilds the log from WAL records in write order (the reading semantics of etcd's WAL):
 * - the last hardState wins;
 * - an entry whose index is <= the last index overwrites it and drops everything after it (a new leader
 *   truncating a follower's conflicting tail);
 * - a snapshot marker (index S, term T) says the log now starts after S. If the log holds S with term T
 *   (a local compaction) the entries after S stay; otherwise the snapshot replaced the log (one received
 *   from a leader), so they go, exactly as raft's own log restore does;
 * - an entry past the end (a gap) can only mean the entries before it were in segments released after a
 *   snapshot; the log restarts there with an unknown base that a later marker must cover.
 */
import type { Entry, HardState } from '../types';
import type { SnapshotMarker } from './wal-record';

export class LogReplay {
  hardState: HardState | undefined;
  marker: SnapshotMarker | undefined;
  private baseIndex = 0;
  /** Term of the entry at baseIndex; undefined when the log restarted after a gap. */
  private baseTerm: number | undefined = 0;
  private entries: Entry[] = [];

  get lastIndex(): number {
    return this.baseIndex + this.entries.length;
  }

  applyHardState(hs: HardState): void {
    this.hardState = hs;
  }

  applyEntry(e: Entry): void {
    if (e.index <= this.baseIndex) {
      // Below a real snapshot: already compacted, nothing to keep. Below an unknown base: restart there.
      if (this.baseTerm !== undefined) return;
      this.restartAt(e);
      return;
    }
    if (e.index > this.lastIndex + 1) {
      this.restartAt(e);
      return;
    }
    this.entries.length = e.index - this.baseIndex - 1;
    this.entries.push(e);
  }

  private restartAt(e: Entry): void {
    this.baseIndex = e.index - 1;
    this.baseTerm = undefined;
    this.entries = [e];
  }

  /**
   * `carried` markers are the copy a segment repeats from its predecessor; they only matter for the first
   * segment on disk (the predecessor was released). Later ones restate a marker already applied.
   */
  applyMarker(m: SnapshotMarker, carried: boolean, firstSegment: boolean): void {
    if (carried && !firstSegment) return;
    // Older than where the log already starts: raft never saves such a snapshot; do not regress.
    if (m.index < this.baseIndex) return;
    this.marker = m;
    if (m.index === this.baseIndex && (this.baseTerm === undefined || this.baseTerm === m.term)) {
      // The log already starts right after S (or restarted there after released segments): keep it.
      this.baseTerm = m.term;
      return;
    }
    if (m.index > this.baseIndex && m.index <= this.lastIndex && this.entries[m.index - this.baseIndex - 1].term === m.term) {
      this.entries = this.entries.slice(m.index - this.baseIndex);
    } else {
      this.entries = [];
    }
    this.baseIndex = m.index;
    this.baseTerm = m.term;
  }

  /** The replayed log, or a description of why it has a hole. */
  result(): { entries: Entry[]; problem?: string } {
    if (this.baseTerm === undefined) {
      return {
        entries: this.entries,
        problem: `entries start at index ${this.baseIndex + 1} but no snapshot marker covers index ${this.baseIndex} (segments missing?)`,
      };
    }
    return { entries: this.entries };
  }
}
