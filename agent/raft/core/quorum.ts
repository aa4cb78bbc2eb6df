/** Majority arithmetic over the voter set (etcd's quorum.MajorityConfig, without joint consensus). */
import type { NodeId } from '../types';

export enum VoteResult {
  Pending = 'pending',
  Won = 'won',
  Lost = 'lost',
}

export function majority(voterCount: number): number {
  return Math.floor(voterCount / 2) + 1;
}

const descending = (a: number, b: number): number => b - a;

/** Reused across calls: the commit check runs on every append response, keep it allocation-free. */
const scratch: number[] = [];

/**
 * The highest index replicated on a majority of voters: sort the voters' match indexes descending and
 * take the one at position majority-1. Voters without progress count as 0.
 */
export function committedIndex(voters: ReadonlySet<NodeId>, matches: ReadonlyMap<NodeId, { match: number }>): number {
  const n = voters.size;
  if (n === 0) return 0;
  scratch.length = n;
  let i = 0;
  for (const id of voters) scratch[i++] = matches.get(id)?.match ?? 0;
  scratch.sort(descending);
  return scratch[majority(n) - 1];
}

/** Tally of yes/no answers from voters; answers from non-voters are ignored. */
export function voteResult(voters: ReadonlySet<NodeId>, votes: ReadonlyMap<NodeId, boolean>): VoteResult {
  let granted = 0;
  let missing = 0;
  for (const id of voters) {
    const v = votes.get(id);
    if (v === undefined) missing++;
    else if (v) granted++;
  }
  const q = majority(voters.size);
  if (granted >= q) return VoteResult.Won;
  if (granted + missing >= q) return VoteResult.Pending;
  return VoteResult.Lost;
}

/** Whether the voters that acknowledged (`acks`) form a majority. */
export function hasQuorum(voters: ReadonlySet<NodeId>, acks: ReadonlySet<NodeId>): boolean {
  let count = 0;
  for (const id of voters) if (acks.has(id)) count++;
  return voters.size > 0 && count >= majority(voters.size);
}
