/** Leadership transfer (thesis §3.10), as in etcd's TestLeaderTransfer* tests. */
import { describe, expect, it } from 'vitest';
import { MemoryStorage } from '../../../agent/raft/core';
import { ConfChangeType, MessageType, ProposalDroppedError, Role } from '../../../agent/raft/types';
import { Network, TestNode, bytes } from './network';

describe('leadership transfer', () => {
  it('hands leadership to an up-to-date follower', () => {
    const net = Network.create([1, 2, 3]);
    net.campaign(1);
    net.propose(1, 'a');
    net.node(1).node.transferLeadership(2);
    net.flush(1);
    expect(net.count(MessageType.TimeoutNow, { from: 1, to: 2 })).toBe(1);
    expect(net.node(2).status.role).toBe(Role.Leader);
    expect(net.node(2).status.term).toBe(2);
    expect(net.node(1).status.role).toBe(Role.Follower);
    expect(net.node(1).status.lead).toBe(2);
    net.propose(2, 'b');
    for (const id of [1, 2, 3]) expect(net.node(id).appliedData()).toEqual(['a', 'b']);
  });

  it('catches a lagging transferee up before sending TimeoutNow', () => {
    const net = Network.create([1, 2, 3]);
    net.campaign(1);
    net.isolate(3);
    for (let i = 0; i < 5; i++) net.propose(1, `p${i}`);
    net.recover();
    net.node(1).node.transferLeadership(3);
    net.flush(1);
    expect(net.node(3).status.role).toBe(Role.Leader);
    const timeoutNow = net.sent.findIndex((m) => m.type === MessageType.TimeoutNow);
    const lastApp = net.sent.findLastIndex((m) => m.type === MessageType.App && m.to === 3 && m.term === 1);
    expect(lastApp).toBeLessThan(timeoutNow);
    expect(net.node(3).logTerms().slice(0, 6)).toEqual([1, 1, 1, 1, 1, 1]);
  });

  it('a follower forwards a transfer request to the leader', () => {
    const net = Network.create([1, 2, 3]);
    net.campaign(1);
    net.node(3).node.transferLeadership(3);
    net.flush(3);
    expect(net.node(3).status.role).toBe(Role.Leader);
  });

  it('works with PreVote and CheckQuorum on: the transferee bypasses the pre-vote and the leader lease', () => {
    const net = Network.create([1, 2, 3], { preVote: true, checkQuorum: true });
    net.campaign(1);
    const preVotesBefore = net.count(MessageType.PreVote);
    net.node(1).node.transferLeadership(2);
    net.flush(1);
    expect(net.node(2).status.role).toBe(Role.Leader);
    expect(net.count(MessageType.PreVote)).toBe(preVotesBefore);
  });

  it('refuses proposals while the transfer is in progress', () => {
    const net = Network.create([1, 2, 3]);
    net.campaign(1);
    net.isolate(3);
    net.node(1).node.transferLeadership(3);
    net.flush(1);
    expect(net.node(1).status.leadTransferee).toBe(3);
    expect(() => net.node(1).node.propose(bytes('x'))).toThrow(ProposalDroppedError);
  });

  it('aborts after an election timeout and accepts proposals again', () => {
    const net = Network.create([1, 2, 3]);
    net.campaign(1);
    net.isolate(3);
    net.node(1).node.transferLeadership(3);
    net.flush(1);
    net.tick(1, 9);
    expect(net.node(1).status.leadTransferee).toBe(3);
    net.tick(1, 1);
    expect(net.node(1).status.leadTransferee).toBe(0);
    expect(net.node(1).status.role).toBe(Role.Leader);
    net.propose(1, 'after');
    expect(net.node(2).appliedData()).toEqual(['after']);
  });

  it('ignores a transfer to itself', () => {
    const net = Network.create([1, 2, 3]);
    net.campaign(1);
    net.node(1).node.transferLeadership(1);
    net.flush(1);
    expect(net.node(1).status.leadTransferee).toBe(0);
    expect(net.node(1).status.role).toBe(Role.Leader);
  });

  it('ignores a transfer to a learner', () => {
    const net = new Network();
    for (const id of [1, 2]) net.add(new TestNode(id, new MemoryStorage({ voters: [1, 2], learners: [3] })));
    net.add(new TestNode(3, new MemoryStorage({ voters: [1, 2], learners: [3] })));
    net.campaign(1);
    net.node(1).node.transferLeadership(3);
    net.flush(1);
    expect(net.node(1).status.leadTransferee).toBe(0);
    expect(net.count(MessageType.TimeoutNow)).toBe(0);
    expect(net.node(1).status.role).toBe(Role.Leader);
  });

  it('a second request to a different node replaces the first; the same one is a no-op', () => {
    const net = Network.create([1, 2, 3]);
    net.campaign(1);
    net.isolate(3);
    net.isolate(2);
    net.node(1).node.transferLeadership(3);
    net.node(1).node.transferLeadership(3);
    expect(net.node(1).status.leadTransferee).toBe(3);
    net.node(1).node.transferLeadership(2);
    expect(net.node(1).status.leadTransferee).toBe(2);
  });

  it('aborts when the transferee is removed', () => {
    const net = Network.create([1, 2, 3]);
    net.campaign(1);
    net.isolate(3);
    net.node(1).node.transferLeadership(3);
    net.flush(1);
    expect(net.node(1).status.leadTransferee).toBe(3);
    // The removal can't be proposed during the transfer, but an already-committed removal applies.
    net.node(1).node.applyConfChange({ type: ConfChangeType.RemoveNode, nodeId: 3, context: new Uint8Array(0) });
    expect(net.node(1).status.leadTransferee).toBe(0);
  });
});
