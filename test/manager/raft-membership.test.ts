import { describe, expect, it } from 'vitest';
import { type MembershipSnapshot, quorumOf, removalWouldLoseQuorum } from '../../agent/manager/raft-membership';

function membership(voters: number[], reachable: number[], learners: number[] = []): MembershipSnapshot {
  return { selfId: voters[0] ?? 0, leaderId: voters[0] ?? 0, voters, learners, reachable: new Set(reachable), addresses: new Map() };
}

describe('quorum checks before removing a manager', () => {
  it('needs a majority of the voters', () => {
    expect([1, 2, 3, 4, 5].map(quorumOf)).toEqual([1, 2, 2, 3, 3]);
  });

  it('allows removing one of three healthy managers', () => {
    expect(removalWouldLoseQuorum(membership([1, 2, 3], [1, 2, 3]), 3)).toBeUndefined();
  });

  it('refuses when the remaining managers could not reach a quorum', () => {
    expect(removalWouldLoseQuorum(membership([1, 2, 3], [1, 2]), 2)).toBe('the 2 remaining managers would need 2 reachable for a quorum, and only 1 are');
  });

  it('counts an unreachable manager being removed as no loss', () => {
    expect(removalWouldLoseQuorum(membership([1, 2, 3], [1, 2]), 3)).toBeUndefined();
  });

  it('refuses removing the last manager', () => {
    expect(removalWouldLoseQuorum(membership([1], [1]), 1)).toBe('it is the last manager of the cluster');
  });

  it('lets a learner or a non-member go: it holds no vote', () => {
    expect(removalWouldLoseQuorum(membership([1], [1], [7]), 7)).toBeUndefined();
    expect(removalWouldLoseQuorum(membership([1], [1]), 9)).toBeUndefined();
  });
});
