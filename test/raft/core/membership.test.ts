/** Single-server membership changes (thesis §4.1) with learners, as in etcd's conf change tests. */
import { describe, expect, it } from 'vitest';
import { encodeConfChange } from '../../../agent/raft/codec';
import { MemoryStorage } from '../../../agent/raft/core';
import { type ConfChange, ConfChangeType, EntryType, MessageType, ProposalDroppedError, Role } from '../../../agent/raft/types';
import { Network, TestNode, bootstrapStorage, bytes, entriesOf, msg } from './network';

const cc = (type: ConfChangeType, nodeId: number): ConfChange => ({ type, nodeId, context: bytes(`addr-${nodeId}`) });

/** A 3-voter cluster led by 1, plus a fresh node 4 (empty log, no membership) attached to the network. */
function clusterWithNewNode(): Network {
  const net = Network.create([1, 2, 3], {}, true);
  net.add(new TestNode(4, new MemoryStorage()));
  net.campaign(1);
  net.propose(1, 'before');
  return net;
}

function change(net: Network, id: number, c: ConfChange): void {
  net.node(id).node.proposeConfChange(c);
  net.flush(id);
  net.tick(net.leader()?.id ?? id); // a heartbeat round lets everyone learn the commit
}

describe('membership changes', () => {
  it('AddLearner: the learner receives the log but neither votes nor counts for the quorum', () => {
    const net = clusterWithNewNode();
    change(net, 1, cc(ConfChangeType.AddLearner, 4));
    expect(net.node(1).confState).toEqual({ voters: [1, 2, 3], learners: [4], removed: [] });
    expect(net.node(4).confState).toEqual({ voters: [1, 2, 3], learners: [4], removed: [] });
    net.propose(1, 'after');
    expect(net.node(4).appliedData()).toEqual(['before', 'after']);
    expect(net.node(1).status.progress?.get(4)).toBeDefined();

    // Not part of the quorum: with 2 and 3 down, 1 + learner 4 can't commit.
    net.isolate(2);
    net.isolate(3);
    const commit = net.node(1).status.commit;
    net.propose(1, 'stuck');
    expect(net.node(1).status.commit).toBe(commit);
    expect(net.node(4).storage.lastIndex()).toBe(commit + 1); // but it has the entry
    net.recover();

    // A learner never campaigns, and its vote is not counted.
    net.tick(4, 50);
    expect(net.node(4).status.role).toBe(Role.Follower);
    expect(net.count(MessageType.Vote, { from: 4 })).toBe(0);
  });

  it("a candidate doesn't count a learner's vote", () => {
    const n = new TestNode(1, new MemoryStorage({ voters: [1, 2, 3], learners: [4] }));
    n.node.campaign();
    n.drain();
    n.node.step(msg({ type: MessageType.VoteResp, from: 4, to: 1, term: 1 }));
    expect(n.status.role).toBe(Role.Candidate);
  });

  it('PromoteLearner makes the learner a voter that counts for the quorum', () => {
    const net = clusterWithNewNode();
    change(net, 1, cc(ConfChangeType.AddLearner, 4));
    change(net, 1, cc(ConfChangeType.PromoteLearner, 4));
    for (const id of [1, 2, 3, 4]) expect(net.node(id).confState).toEqual({ voters: [1, 2, 3, 4], learners: [], removed: [] });
    // Four voters: a quorum is three, so 1 + 4 alone can't commit, 1 + 2 + 4 can.
    net.isolate(3);
    net.cut(1, 2);
    const commit = net.node(1).status.commit;
    net.propose(1, 'x');
    expect(net.node(1).status.commit).toBe(commit);
    net.recover();
    net.isolate(3);
    net.tick(1);
    expect(net.node(1).status.commit).toBe(commit + 1);
    // And 4 can now be elected.
    net.recover();
    net.node(1).node.transferLeadership(4);
    net.flush(1);
    expect(net.node(4).status.role).toBe(Role.Leader);
  });

  it('with lazyCommitNotice a committed change is still announced at once: the removed node learns it', () => {
    const net = Network.create([1, 2, 3], { lazyCommitNotice: true });
    net.campaign(1);
    net.tick(1);
    net.node(1).node.proposeConfChange(cc(ConfChangeType.RemoveNode, 3));
    net.flush(1); // no heartbeat
    expect(net.node(1).confState.removed).toEqual([3]);
    expect(net.node(3).confState.removed).toEqual([3]);
  });

  it('RemoveNode: the removed node is ignored and its id can never be re-added', () => {
    const net = Network.create([1, 2, 3]);
    net.campaign(1);
    change(net, 1, cc(ConfChangeType.RemoveNode, 3));
    expect(net.node(1).confState).toEqual({ voters: [1, 2], learners: [], removed: [3] });
    expect(net.node(3).confState.removed).toEqual([3]);
    // Its messages are ignored, even from a higher term.
    net.node(2).node.step(msg({ type: MessageType.Vote, from: 3, to: 2, term: 99, index: 99, logTerm: 99 }));
    expect(net.node(2).status.term).toBe(1);
    // It stops acting: no campaigning, no proposals.
    net.tick(3, 50);
    expect(net.node(3).status.role).toBe(Role.Follower);
    expect(net.node(3).status.term).toBe(1);
    expect(() => net.node(3).node.propose(bytes('x'))).toThrow(ProposalDroppedError);
    // Re-adding is refused at proposal time ...
    expect(() => net.node(1).node.proposeConfChange(cc(ConfChangeType.AddLearner, 3))).toThrow(ProposalDroppedError);
    // ... and a no-op if it is applied anyway.
    const cs = net.node(1).node.applyConfChange(cc(ConfChangeType.AddLearner, 3));
    expect(cs).toEqual({ voters: [1, 2], learners: [], removed: [3] });
    // The two remaining voters carry on.
    net.propose(1, 'two');
    expect(net.node(2).appliedData()).toEqual(['two']);
  });

  it('only one conf change may be pending at a time', () => {
    const net = clusterWithNewNode();
    net.isolate(2);
    net.isolate(3);
    net.node(1).node.proposeConfChange(cc(ConfChangeType.AddLearner, 4));
    net.flush(1); // can't commit: 2 and 3 are down
    expect(() => net.node(1).node.proposeConfChange(cc(ConfChangeType.AddLearner, 5))).toThrow(ProposalDroppedError);
    net.recover();
    net.tick(1); // commits and applies the first
    expect(net.node(1).confState.learners).toEqual([4]);
    net.node(1).node.proposeConfChange(cc(ConfChangeType.AddLearner, 5));
    net.flush(1);
    expect(net.node(1).confState.learners).toEqual([4, 5]);
  });

  it('a new leader refuses conf changes until every entry of earlier terms is applied', () => {
    const storage = new MemoryStorage({ voters: [1, 2, 3] });
    storage.append(entriesOf([1, 1]));
    storage.setHardState({ term: 1, vote: 0, commit: 0 });
    const lead = new TestNode(1, storage);
    lead.node.campaign();
    lead.drain();
    lead.node.step(msg({ type: MessageType.VoteResp, from: 2, to: 1, term: 2 }));
    lead.drain();
    expect(lead.status.role).toBe(Role.Leader);
    // Entries 1 and 2 (term 1) might hold a conf change: refuse until they are applied.
    expect(() => lead.node.proposeConfChange(cc(ConfChangeType.AddLearner, 4))).toThrow(ProposalDroppedError);
    lead.node.step(msg({ type: MessageType.AppResp, from: 2, to: 1, term: 2, index: 3 }));
    lead.drain();
    expect(lead.status.applied).toBe(3);
    expect(() => lead.node.proposeConfChange(cc(ConfChangeType.AddLearner, 4))).not.toThrow();
  });

  it('a forwarded conf change the leader must refuse becomes an empty entry', () => {
    const lead = new TestNode(1, new MemoryStorage({ voters: [1, 2, 3] }));
    lead.node.campaign();
    lead.drain();
    lead.node.step(msg({ type: MessageType.VoteResp, from: 2, to: 1, term: 1 }));
    lead.drain();
    lead.node.step(msg({ type: MessageType.AppResp, from: 2, to: 1, term: 1, index: 1 }));
    lead.drain();
    lead.node.proposeConfChange(cc(ConfChangeType.AddLearner, 4)); // pending: not committed
    lead.drain();
    const forwarded = { term: 0, index: 0, type: EntryType.ConfChange, data: encodeConfChange(cc(ConfChangeType.AddLearner, 5)) };
    lead.node.step(msg({ type: MessageType.Prop, from: 2, to: 1, entries: [forwarded] }));
    const rd = lead.node.ready();
    expect(rd.entries.map((e) => [e.index, e.type, e.data.length])).toEqual([[3, EntryType.Normal, 0]]);
    lead.node.advance(rd);
  });

  it('removing the leader: it steps down once the change is applied and the rest elect a new leader', () => {
    const net = Network.create([1, 2, 3]);
    net.campaign(1);
    change(net, 1, cc(ConfChangeType.RemoveNode, 1));
    expect(net.node(1).status.role).toBe(Role.Follower);
    expect(net.node(1).confState).toEqual({ voters: [2, 3], learners: [], removed: [1] });
    net.tick(2, 20);
    expect(net.node(2).status.role).toBe(Role.Leader);
    expect(net.node(2).confState).toEqual({ voters: [2, 3], learners: [], removed: [1] });
    net.propose(2, 'without-1');
    expect(net.node(3).appliedData()).toEqual(['without-1']);
    expect(net.node(1).appliedData()).toEqual([]); // 1 is out
  });

  it('removing the last voter is refused', () => {
    const n = new TestNode(1, new MemoryStorage({ voters: [1] }));
    n.node.campaign();
    n.drain();
    expect(() => n.node.proposeConfChange(cc(ConfChangeType.RemoveNode, 1))).toThrow(ProposalDroppedError);
  });

  it('a single-voter cluster commits alone and can grow', () => {
    const net = new Network();
    net.add(new TestNode(1, bootstrapStorage([1])));
    net.add(new TestNode(2, new MemoryStorage()));
    net.campaign(1);
    net.propose(1, 'solo');
    expect(net.node(1).appliedData()).toEqual(['solo']);
    change(net, 1, cc(ConfChangeType.AddLearner, 2));
    change(net, 1, cc(ConfChangeType.PromoteLearner, 2));
    net.propose(1, 'pair');
    expect(net.node(2).appliedData()).toEqual(['solo', 'pair']);
    expect(net.node(2).confState.voters).toEqual([1, 2]);
  });

  it('a node that is not a member refuses proposals and never campaigns', () => {
    const n = new TestNode(4, new MemoryStorage());
    expect(() => n.node.propose(bytes('x'))).toThrow(ProposalDroppedError);
    for (let i = 0; i < 50; i++) n.node.tick();
    expect(n.status.role).toBe(Role.Follower);
    expect(n.drain()).toEqual([]);
  });
});
