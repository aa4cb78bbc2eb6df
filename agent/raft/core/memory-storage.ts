/**
 * MemoryStorage: the stable log kept in memory, as etcd's MemoryStorage. The runner appends entries,
 * hard state and snapshots here only AFTER they are durable in the WAL; the core reads it.
 */
import {
  type ConfState,
  type Entry,
  type HardState,
  type LogStorage,
  type Snapshot,
  CompactedError,
  EntryType,
  UnavailableError,
} from '../types';
import { EMPTY_BYTES, limitSize } from './util';

/** The snapshot offered is not newer than the one already held (etcd's ErrSnapOutOfDate). */
export class SnapshotOutOfDateError extends Error {
  constructor(index: number, current: number) {
    super(`snapshot at index ${index} is not newer than the current snapshot at ${current}`);
    this.name = 'SnapshotOutOfDateError';
  }
}

function cloneConfState(cs: ConfState): ConfState {
  return { voters: [...cs.voters], learners: [...cs.learners], removed: [...cs.removed] };
}

function dummyEntry(index: number, term: number): Entry {
  return { index, term, type: EntryType.Normal, data: EMPTY_BYTES };
}

export class MemoryStorage implements LogStorage {
  private hardState: HardState = { term: 0, vote: 0, commit: 0 };
  private snap: Snapshot;
  /**
   * ents[0] is a dummy holding the index and term of the last compacted entry (the snapshot point),
   * so term(firstIndex - 1) is answerable, which the leader needs for the App just after a snapshot.
   */
  private ents: Entry[];

  /** `confState` seeds the membership of a brand-new log (a bootstrap without a snapshot). */
  constructor(confState?: Partial<ConfState>) {
    this.snap = {
      metadata: {
        index: 0,
        term: 0,
        confState: { voters: [...(confState?.voters ?? [])], learners: [...(confState?.learners ?? [])], removed: [...(confState?.removed ?? [])] },
      },
      data: EMPTY_BYTES,
    };
    this.ents = [dummyEntry(0, 0)];
  }

  initialState(): { hardState: HardState; confState: ConfState } {
    return { hardState: { ...this.hardState }, confState: cloneConfState(this.snap.metadata.confState) };
  }

  setHardState(hs: HardState): void {
    this.hardState = { term: hs.term, vote: hs.vote, commit: hs.commit };
  }

  entries(lo: number, hi: number, maxBytes: number): Entry[] {
    const offset = this.ents[0].index;
    if (lo <= offset) throw new CompactedError(lo);
    if (hi > this.lastIndex() + 1) throw new UnavailableError(hi - 1);
    return limitSize(this.ents, lo - offset, hi - offset, maxBytes);
  }

  term(i: number): number {
    const offset = this.ents[0].index;
    if (i < offset) throw new CompactedError(i);
    if (i - offset >= this.ents.length) throw new UnavailableError(i);
    return this.ents[i - offset].term;
  }

  firstIndex(): number {
    return this.ents[0].index + 1;
  }

  lastIndex(): number {
    return this.ents[0].index + this.ents.length - 1;
  }

  snapshot(): Snapshot {
    return this.snap;
  }

  /** Replaces the whole log with a snapshot received from the leader (or restored at start). */
  applySnapshot(snap: Snapshot): void {
    if (snap.metadata.index <= this.snap.metadata.index) {
      throw new SnapshotOutOfDateError(snap.metadata.index, this.snap.metadata.index);
    }
    this.snap = snap;
    this.ents = [dummyEntry(snap.metadata.index, snap.metadata.term)];
  }

  /** Records a snapshot of the applied state at `index` (which must still be in the log). */
  createSnapshot(index: number, confState: ConfState, data: Uint8Array): Snapshot {
    if (index <= this.snap.metadata.index) throw new SnapshotOutOfDateError(index, this.snap.metadata.index);
    if (index > this.lastIndex()) throw new UnavailableError(index);
    this.snap = { metadata: { index, term: this.term(index), confState: cloneConfState(confState) }, data };
    return this.snap;
  }

  /**
   * Discards entries up to and including `compactIndex`. It must not pass the snapshot: a follower
   * that needs the discarded entries is sent the snapshot instead, so the snapshot has to cover them.
   */
  compact(compactIndex: number): void {
    const offset = this.ents[0].index;
    if (compactIndex <= offset) throw new CompactedError(compactIndex);
    if (compactIndex > this.lastIndex()) throw new UnavailableError(compactIndex);
    if (compactIndex > this.snap.metadata.index) {
      throw new RangeError(`cannot compact to ${compactIndex}: past the snapshot at ${this.snap.metadata.index}`);
    }
    const i = compactIndex - offset;
    const term = this.ents[i].term;
    this.ents.splice(0, i);
    this.ents[0] = dummyEntry(compactIndex, term);
  }

  /** Appends entries, truncating any conflicting suffix first (the entries must be contiguous). */
  append(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    const first = this.firstIndex();
    const lastNew = entries[0].index + entries.length - 1;
    if (lastNew < first) return; // everything offered is already compacted
    const skip = first > entries[0].index ? first - entries[0].index : 0;
    const at = entries[skip].index - this.ents[0].index;
    if (at > this.ents.length) {
      throw new RangeError(`missing log entries: last index ${this.lastIndex()}, appending at ${entries[skip].index}`);
    }
    this.ents.length = at; // drop the conflicting suffix (no-op when appending at the end)
    for (let k = skip; k < entries.length; k++) this.ents.push(entries[k]);
  }
}
