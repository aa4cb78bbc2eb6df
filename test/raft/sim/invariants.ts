/**
 * The safety properties the simulator checks after every step. Each check throws a SimFailure that
 * says what broke, where, and between whom.
 */
import type { MemoryStorage } from '../../../agent/raft/core';
import type { Entry, NodeId } from '../../../agent/raft/types';
import { Role } from '../../../agent/raft/types';

export class SimFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SimFailure';
  }
}

export interface ObservedMember {
  id: NodeId;
  incarnation: number;
  role: Role;
  term: number;
  commit: number;
  log: MemoryStorage;
}

const fingerprints = new WeakMap<Entry, number>();

/** A cheap fingerprint of an entry (FNV-1a over term, type and data), cached per entry object. */
export function entryFingerprint(entry: Entry): number {
  const cached = fingerprints.get(entry);
  if (cached !== undefined) return cached;
  let hash = 0x811c9dc5;
  hash = Math.imul(hash ^ (entry.term & 0xffff), 0x01000193);
  hash = Math.imul(hash ^ Math.floor(entry.term / 0x10000), 0x01000193);
  hash = Math.imul(hash ^ entry.type, 0x01000193);
  const data = entry.data;
  for (let i = 0; i < data.length; i++) hash = Math.imul(hash ^ data[i], 0x01000193);
  const result = hash >>> 0;
  fingerprints.set(entry, result);
  return result;
}

export class InvariantChecker {
  private readonly leaderOfTerm = new Map<number, NodeId>();
  /**
   * Every entry applied anywhere is committed: index -> fingerprint, and a term by which it was
   * committed (the applier's current term, never earlier than the term that committed it).
   */
  private readonly committed = new Map<number, { term: number; fingerprint: number; by: NodeId; committedBy: number }>();
  private readonly lastCommit = new Map<string, number>();
  private readonly checkedUpTo = new Map<string, number>();
  private maxCommitted = 0;

  /** Called for every entry any member applies; `currentTerm` is the member's term at that moment. */
  entryApplied(member: NodeId, entry: Entry, currentTerm: number): void {
    const fingerprint = entryFingerprint(entry);
    const seen = this.committed.get(entry.index);
    if (!seen) {
      this.committed.set(entry.index, { term: entry.term, fingerprint, by: member, committedBy: currentTerm });
      this.maxCommitted = Math.max(this.maxCommitted, entry.index);
      return;
    }
    if (seen.fingerprint !== fingerprint || seen.term !== entry.term) {
      throw new SimFailure(
        `state machine safety: member ${member} applied term ${entry.term} at index ${entry.index}, member ${seen.by} applied term ${seen.term} there`,
      );
    }
  }

  check(members: ObservedMember[]): void {
    for (const m of members) {
      this.checkElectionSafety(m);
      this.checkCommitMonotonic(m);
      if (m.role === Role.Leader) this.checkLeaderCompleteness(m);
    }
  }

  private checkElectionSafety(m: ObservedMember): void {
    if (m.role !== Role.Leader) return;
    const leader = this.leaderOfTerm.get(m.term);
    if (leader === undefined) this.leaderOfTerm.set(m.term, m.id);
    else if (leader !== m.id) throw new SimFailure(`election safety: members ${leader} and ${m.id} both lead term ${m.term}`);
  }

  private checkCommitMonotonic(m: ObservedMember): void {
    // A restarted member may know less than it did before the crash (commit is not always synced), so
    // monotonicity holds per incarnation.
    const key = `${m.id}/${m.incarnation}`;
    const previous = this.lastCommit.get(key) ?? 0;
    if (m.commit < previous) {
      throw new SimFailure(
        `commit index of member ${m.id} (incarnation ${m.incarnation}) moved back from ${previous} to ${m.commit} (log ${m.log.firstIndex()}..${m.log.lastIndex()}, term ${m.term}, ${m.role})`,
      );
    }
    this.lastCommit.set(key, m.commit);
  }

  /**
   * A leader's log holds every entry committed in an earlier term. Checked on the leader's durable log, incrementally, so
   * entries still on their way to its disk are checked once they land; entries below its snapshot are
   * covered by the snapshot.
   */
  private checkLeaderCompleteness(m: ObservedMember): void {
    const key = `${m.id}/${m.term}`;
    const from = Math.max(m.log.firstIndex(), (this.checkedUpTo.get(key) ?? 0) + 1);
    const to = Math.min(m.log.lastIndex(), this.maxCommitted);
    for (let index = from; index <= to; index++) {
      const seen = this.committed.get(index);
      // Leader completeness speaks of leaders of later terms; a deposed leader that has not noticed
      // yet may still hold an uncommitted entry of its own there.
      if (!seen || seen.committedBy >= m.term) continue;
      const [entry] = m.log.entries(index, index + 1, Number.MAX_SAFE_INTEGER);
      if (entry.term !== seen.term || entryFingerprint(entry) !== seen.fingerprint) {
        throw new SimFailure(`leader completeness: leader ${m.id} of term ${m.term} has a different entry at committed index ${index}`);
      }
    }
    if (to >= from) this.checkedUpTo.set(key, to);
  }

  /** Log matching: same index and term in two logs means identical entries (checked on the overlap). */
  checkLogMatching(members: ObservedMember[]): void {
    for (let i = 0; i < members.length; i++) {
      for (let j = i + 1; j < members.length; j++) {
        const a = members[i].log;
        const b = members[j].log;
        const lo = Math.max(a.firstIndex(), b.firstIndex());
        const hi = Math.min(a.lastIndex(), b.lastIndex());
        if (hi < lo) continue;
        const ea = a.entries(lo, hi + 1, Number.MAX_SAFE_INTEGER);
        const eb = b.entries(lo, hi + 1, Number.MAX_SAFE_INTEGER);
        let sameTermFrom = -1;
        // Walk down from the top: once two entries agree on term, everything below must be identical.
        for (let k = ea.length - 1; k >= 0; k--) {
          if (sameTermFrom < 0 && ea[k].term === eb[k].term) sameTermFrom = k;
          if (sameTermFrom >= 0 && entryFingerprint(ea[k]) !== entryFingerprint(eb[k])) {
            throw new SimFailure(
              `log matching: members ${members[i].id} and ${members[j].id} agree on the term at index ${lo + sameTermFrom} but differ at index ${lo + k}`,
            );
          }
        }
      }
    }
  }

  get committedCount(): number {
    return this.committed.size;
  }
}
