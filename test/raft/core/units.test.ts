/** Unit tests of the core's building blocks: MemoryStorage, Inflights, Progress, quorum, the log. */
import { describe, expect, it } from 'vitest';
import { MemoryStorage, SnapshotOutOfDateError } from '../../../agent/raft/core';
import { Inflights } from '../../../agent/raft/core/inflights';
import { Progress, ProgressState } from '../../../agent/raft/core/progress';
import { committedIndex, voteResult, VoteResult } from '../../../agent/raft/core/quorum';
import { RaftLog } from '../../../agent/raft/core/raft-log';
import { CompactedError, UnavailableError } from '../../../agent/raft/types';
import { entriesOf } from './network';

describe('MemoryStorage', () => {
  const cs = { voters: [1], learners: [], removed: [] };
  it('appends, truncates conflicts, answers term/entries with the dummy at firstIndex-1', () => {
    const s = new MemoryStorage();
    s.append(entriesOf([1, 1, 2, 2]));
    s.append(entriesOf([3, 3], 3));
    expect([s.firstIndex(), s.lastIndex()]).toEqual([1, 4]);
    expect([1, 2, 3, 4].map((i) => s.term(i))).toEqual([1, 1, 3, 3]);
    expect(s.term(0)).toBe(0);
    expect(() => s.term(5)).toThrow(UnavailableError);
    expect(s.entries(2, 4, Infinity).map((e) => e.index)).toEqual([2, 3]);
    expect(s.entries(2, 4, 0).map((e) => e.index)).toEqual([2]); // at least one
    expect(() => s.append(entriesOf([3], 7))).toThrow(/missing log entries/);
  });

  it('creates snapshots and compacts up to them', () => {
    const s = new MemoryStorage();
    s.append(entriesOf([1, 1, 2, 2, 2]));
    expect(() => s.compact(3)).toThrow(/past the snapshot/);
    const snap = s.createSnapshot(3, cs, new Uint8Array([7]));
    expect(snap.metadata).toEqual({ index: 3, term: 2, confState: cs });
    s.compact(3);
    expect([s.firstIndex(), s.lastIndex(), s.term(3)]).toEqual([4, 5, 2]);
    expect(() => s.entries(3, 5, Infinity)).toThrow(CompactedError);
    expect(() => s.term(2)).toThrow(CompactedError);
    expect(() => s.createSnapshot(2, cs, new Uint8Array())).toThrow(SnapshotOutOfDateError);
    // Appending entries that are partly compacted keeps only the new part.
    s.append(entriesOf([2, 2, 2, 4], 2));
    expect([s.firstIndex(), s.lastIndex(), s.term(5)]).toEqual([4, 5, 4]);
  });

  it('applySnapshot replaces the log and refuses an older snapshot', () => {
    const s = new MemoryStorage();
    s.append(entriesOf([1, 1]));
    s.applySnapshot({ metadata: { index: 10, term: 4, confState: cs }, data: new Uint8Array() });
    expect([s.firstIndex(), s.lastIndex(), s.term(10)]).toEqual([11, 10, 4]);
    expect(s.initialState().confState).toEqual(cs);
    expect(() => s.applySnapshot({ metadata: { index: 10, term: 4, confState: cs }, data: new Uint8Array() })).toThrow(SnapshotOutOfDateError);
  });
});

describe('Inflights', () => {
  it('fills up to capacity, frees in order, wraps around', () => {
    const f = new Inflights(3, 0);
    for (const i of [1, 2, 3]) f.add(i, 10);
    expect(f.full()).toBe(true);
    expect(() => f.add(4, 10)).toThrow();
    f.freeLE(2);
    expect([f.length, f.totalBytes]).toEqual([1, 10]);
    f.add(4, 10);
    f.add(5, 10); // wraps
    expect(f.full()).toBe(true);
    f.freeFirstOne();
    expect(f.length).toBe(2);
    f.freeLE(0); // stale ack
    expect(f.length).toBe(2);
    f.freeLE(100);
    expect([f.length, f.totalBytes]).toEqual([0, 0]);
  });

  it('is full once the byte cap is reached', () => {
    const f = new Inflights(100, 25);
    f.add(1, 10);
    f.add(2, 10);
    expect(f.full()).toBe(false);
    f.add(3, 10);
    expect(f.full()).toBe(true);
    f.freeLE(1);
    expect(f.full()).toBe(false);
  });
});

describe('Progress', () => {
  it('probe -> replicate -> probe on rejection; stale rejections ignored', () => {
    const p = new Progress(6, 10, 0, false);
    p.sentEntries(1, 0);
    expect(p.isPaused()).toBe(true);
    expect(p.maybeDecrTo(4, 0)).toBe(false); // not the latest probe (next-1 = 5)
    expect(p.maybeDecrTo(5, 2)).toBe(true);
    expect(p.next).toBe(3);
    expect(p.isPaused()).toBe(false);
    p.maybeUpdate(4);
    p.becomeReplicate();
    expect([p.state, p.next]).toEqual([ProgressState.Replicate, 5]);
    p.sentEntries(3, 0);
    expect(p.next).toBe(8);
    expect(p.maybeDecrTo(3, 0)).toBe(false); // already matched
    expect(p.maybeDecrTo(6, 0)).toBe(true);
    expect(p.next).toBe(5);
  });

  it('snapshot state pauses; becomeProbe resumes after the snapshot', () => {
    const p = new Progress(1, 10, 0, false);
    p.becomeSnapshot(20);
    expect(p.isPaused()).toBe(true);
    p.becomeProbe();
    expect([p.state, p.next]).toEqual([ProgressState.Probe, 21]);
  });
});

describe('quorum', () => {
  it('commit index is the majority-th highest match', () => {
    const voters = new Set([1, 2, 3, 4, 5]);
    const m = (...xs: number[]) => new Map(xs.map((x, i) => [i + 1, { match: x }]));
    expect(committedIndex(voters, m(5, 4, 3, 2, 1))).toBe(3);
    expect(committedIndex(voters, m(1, 1, 9, 9, 9))).toBe(9);
    expect(committedIndex(new Set([1, 2]), m(5, 3))).toBe(3);
  });

  it('vote tallies', () => {
    const voters = new Set([1, 2, 3]);
    expect(voteResult(voters, new Map([[1, true]]))).toBe(VoteResult.Pending);
    expect(voteResult(voters, new Map([[1, true], [2, true]]))).toBe(VoteResult.Won);
    expect(voteResult(voters, new Map([[1, true], [2, false], [3, false]]))).toBe(VoteResult.Lost);
    expect(voteResult(voters, new Map([[1, true], [9, true]]))).toBe(VoteResult.Pending); // non-voter ignored
  });
});

describe('RaftLog', () => {
  it('findConflictByTerm skips whole terms', () => {
    const s = new MemoryStorage();
    s.append(entriesOf([1, 1, 2, 2, 2, 5, 5]));
    const log = new RaftLog(s);
    expect(log.findConflictByTerm(7, 4)).toEqual({ index: 5, term: 2 });
    expect(log.findConflictByTerm(7, 5)).toEqual({ index: 7, term: 5 });
    expect(log.findConflictByTerm(4, 1)).toEqual({ index: 2, term: 1 });
    expect(log.findConflictByTerm(4, 0)).toEqual({ index: 0, term: 0 });
  });

  it('slices across stable and unstable entries within a byte budget', () => {
    const s = new MemoryStorage();
    s.append(entriesOf([1, 1, 1]));
    const log = new RaftLog(s);
    log.append(entriesOf([2, 2], 4));
    expect(log.slice(2, 6, Infinity).map((e) => e.index)).toEqual([2, 3, 4, 5]);
    expect(log.slice(2, 6, 16 * 3).map((e) => e.index)).toEqual([2, 3, 4]);
    expect(() => log.slice(0, 2, Infinity)).toThrow(CompactedError);
  });

  it('refuses to truncate committed entries', () => {
    const s = new MemoryStorage();
    s.append(entriesOf([1, 1, 1]));
    const log = new RaftLog(s);
    log.commitTo(2);
    expect(() => log.append(entriesOf([2], 2))).toThrow(/below committed/);
  });
});
