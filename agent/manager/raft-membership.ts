/**
 * What the manager's decisions need to know about raft membership right now: who leads, who votes,
 * and (on the leader) which members it has heard from recently. Taken as one snapshot so a decision
 * (say, "may this manager be demoted?") is made on consistent numbers.
 */
import type { RaftRunner } from '../raft/runner';
import type { NodeId } from '../raft/types';

export interface MembershipSnapshot {
  readonly selfId: NodeId;
  readonly leaderId: NodeId;
  readonly voters: readonly NodeId[];
  readonly learners: readonly NodeId[];
  /** Members the leader heard from within the last election timeout (the leader itself included). */
  readonly reachable: ReadonlySet<NodeId>;
  readonly addresses: ReadonlyMap<NodeId, string>;
}

export function membershipOf(runner: RaftRunner): MembershipSnapshot {
  const status = runner.status();
  const reachable = new Set<NodeId>();
  if (status.progress) {
    for (const [id, progress] of status.progress) if (progress.recentActive || id === status.id) reachable.add(id);
  } else if (status.leaderId !== 0) {
    // A follower knows only that a leader exists; it cannot judge the others.
    reachable.add(status.leaderId);
    reachable.add(status.id);
  }
  return {
    selfId: status.id,
    leaderId: status.leaderId,
    voters: status.voters,
    learners: status.learners,
    reachable,
    addresses: status.members,
  };
}

export function quorumOf(voters: number): number {
  return Math.floor(voters / 2) + 1;
}

/**
 * Why removing `raftId` from the voters would leave the rest unable to make progress, or undefined
 * when it is safe. Counts only managers the leader can reach now, like SwarmKit's CanRemoveMember.
 */
export function removalWouldLoseQuorum(membership: MembershipSnapshot, raftId: NodeId): string | undefined {
  if (!membership.voters.includes(raftId)) return undefined;
  const remaining = membership.voters.filter((id) => id !== raftId);
  if (remaining.length === 0) return 'it is the last manager of the cluster';
  const reachable = remaining.filter((id) => membership.reachable.has(id)).length;
  const needed = quorumOf(remaining.length);
  if (reachable < needed) {
    return `the ${remaining.length} remaining managers would need ${needed} reachable for a quorum, and only ${reachable} are`;
  }
  return undefined;
}
