/**
 * Leader election (Raft paper §5.2, §5.4.1; thesis §9.6 PreVote, §6.2 CheckQuorum), in the style of
 * etcd's raft_paper_test.go: each test states one claim of the paper.
 */
import { describe, expect, it } from 'vitest';
import { MemoryStorage } from '../../../agent/raft/core';
import { type Message, type NodeId, MessageType, Role } from '../../../agent/raft/types';
import { type NodeOptions, Network, TestNode, entriesOf, msg } from './network';

function newNode(id: NodeId, peers: NodeId[], opts: NodeOptions = {}, storage = new MemoryStorage({ voters: peers })): TestNode {
  return new TestNode(id, storage, opts);
}

/** Node 1 of {1,2,3} put into the given role, with its outgoing messages drained. */
function nodeInRole(role: Role, opts: NodeOptions = {}): TestNode {
  const n = newNode(1, [1, 2, 3], opts);
  if (role === Role.Candidate || role === Role.Leader) {
    n.node.campaign();
    n.drain();
  }
  if (role === Role.Leader) {
    n.node.step(msg({ type: MessageType.VoteResp, from: 2, to: 1, term: n.status.term }));
    n.drain();
  }
  expect(n.status.role).toBe(role);
  return n;
}

const ofType = (msgs: Message[], type: MessageType): Message[] => msgs.filter((m) => m.type === type);

describe('§5.1 term updates', () => {
  for (const role of [Role.Follower, Role.Candidate, Role.Leader]) {
    it(`a ${role} that sees a higher term adopts it and becomes follower`, () => {
      const n = nodeInRole(role);
      n.node.step(msg({ type: MessageType.App, from: 2, to: 1, term: 7 }));
      n.drain();
      expect(n.status.term).toBe(7);
      expect(n.status.role).toBe(Role.Follower);
      expect(n.status.lead).toBe(2);
    });
  }

  it('a vote request from a higher term makes the node a follower without a known leader', () => {
    const n = nodeInRole(Role.Leader);
    n.node.step(msg({ type: MessageType.Vote, from: 3, to: 1, term: 5, index: 10, logTerm: 4 }));
    expect(n.status.term).toBe(5);
    expect(n.status.role).toBe(Role.Follower);
    expect(n.status.vote).toBe(3);
  });

  it('a message from a lower term is ignored', () => {
    const n = nodeInRole(Role.Candidate);
    for (let i = 0; i < 10; i++) n.node.tick(); // second election: term 2
    n.drain();
    expect(n.status.term).toBe(2);
    n.node.step(msg({ type: MessageType.VoteResp, from: 2, to: 1, term: 1 }));
    n.node.step(msg({ type: MessageType.VoteResp, from: 3, to: 1, term: 1 }));
    n.node.step(msg({ type: MessageType.Heartbeat, from: 2, to: 1, term: 1 }));
    expect(n.status.role).toBe(Role.Candidate);
    expect(n.status.term).toBe(2);
  });
});

describe('§5.2 leader election', () => {
  it('a leader sends heartbeats to all followers every heartbeat timeout', () => {
    const n = nodeInRole(Role.Leader, { heartbeatTick: 2, electionTick: 10 });
    n.node.tick();
    expect(ofType(n.drain(), MessageType.Heartbeat)).toHaveLength(0);
    n.node.tick();
    const hb = ofType(n.drain(), MessageType.Heartbeat);
    expect(hb.map((m) => m.to).sort()).toEqual([2, 3]);
    expect(hb.every((m) => m.term === 1)).toBe(true);
  });

  for (const role of [Role.Follower, Role.Candidate]) {
    it(`a ${role} starts a new election when the election timeout elapses`, () => {
      const n = nodeInRole(role, { electionTick: 10 });
      const term = n.status.term;
      n.node.tick();
      for (let i = 0; i < 2 * 10; i++) n.node.tick();
      const msgs = n.drain();
      expect(n.status.term).toBeGreaterThan(term);
      expect(n.status.role).toBe(Role.Candidate);
      expect(n.status.vote).toBe(1); // votes for itself
      const votes = ofType(msgs, MessageType.Vote).filter((m) => m.term === n.status.term);
      expect(votes.map((m) => m.to).sort()).toEqual([2, 3]);
      expect(votes.every((m) => m.index === 0 && m.logTerm === 0)).toBe(true);
    });
  }

  it('a candidate wins with votes from a majority (cluster sizes 1, 3, 5)', () => {
    const cases: { size: number; grants: NodeId[]; rejects: NodeId[]; want: Role }[] = [
      { size: 1, grants: [], rejects: [], want: Role.Leader },
      { size: 3, grants: [2], rejects: [], want: Role.Leader },
      { size: 3, grants: [], rejects: [], want: Role.Candidate },
      { size: 3, grants: [], rejects: [2], want: Role.Candidate },
      { size: 3, grants: [], rejects: [2, 3], want: Role.Follower },
      { size: 5, grants: [2], rejects: [], want: Role.Candidate },
      { size: 5, grants: [2, 3], rejects: [], want: Role.Leader },
      { size: 5, grants: [2], rejects: [3, 4], want: Role.Candidate },
      { size: 5, grants: [], rejects: [2, 3, 4], want: Role.Follower },
    ];
    for (const c of cases) {
      const ids = Array.from({ length: c.size }, (_, i) => i + 1);
      const n = newNode(1, ids);
      n.node.campaign();
      n.drain();
      for (const from of c.grants) n.node.step(msg({ type: MessageType.VoteResp, from, to: 1, term: 1 }));
      for (const from of c.rejects) n.node.step(msg({ type: MessageType.VoteResp, from, to: 1, term: 1, reject: true }));
      n.drain();
      expect(n.status.role, JSON.stringify(c)).toBe(c.want);
      expect(n.status.term).toBe(1);
    }
  });

  it('leader election over a network with missing members (etcd TestLeaderElection)', () => {
    const cases: { ids: NodeId[]; up: NodeId[]; want: Role; preVoteWant: Role }[] = [
      { ids: [1, 2, 3], up: [1, 2, 3], want: Role.Leader, preVoteWant: Role.Leader },
      { ids: [1, 2, 3], up: [1, 2], want: Role.Leader, preVoteWant: Role.Leader },
      { ids: [1, 2, 3], up: [1], want: Role.Candidate, preVoteWant: Role.PreCandidate },
      { ids: [1, 2, 3, 4], up: [1, 2], want: Role.Candidate, preVoteWant: Role.PreCandidate },
      { ids: [1, 2, 3, 4, 5], up: [1, 2, 3], want: Role.Leader, preVoteWant: Role.Leader },
    ];
    for (const preVote of [false, true]) {
      for (const c of cases) {
        const net = new Network();
        for (const id of c.up) net.add(newNode(id, c.ids, { preVote }));
        net.campaign(1);
        const s = net.node(1).status;
        expect(s.role, JSON.stringify({ preVote, ...c })).toBe(preVote ? c.preVoteWant : c.want);
        // A failed pre-vote leaves the term alone.
        expect(s.term).toBe(preVote && c.preVoteWant === Role.PreCandidate ? 0 : 1);
      }
    }
  });

  it('a split vote times out and the next election (in a higher term) can succeed', () => {
    const net = Network.create([1, 2, 3, 4]);
    // 1 and 3 campaign at once: 1 gets 2's vote, 3 gets 4's vote; nobody has 3 of 4.
    net.cut(1, 3);
    net.cut(1, 4);
    net.cut(3, 2);
    net.node(1).node.campaign();
    net.node(3).node.campaign();
    net.flush();
    expect(net.node(1).status.role).toBe(Role.Candidate);
    expect(net.node(3).status.role).toBe(Role.Candidate);
    net.recover();
    // The election timeout elapses on 1 first: it campaigns in term 2 and wins.
    net.tick(1, 20);
    expect(net.node(1).status.role).toBe(Role.Leader);
    expect(net.node(1).status.term).toBe(2);
  });

  it('a candidate that receives an App from a leader of its term becomes follower', () => {
    const n = nodeInRole(Role.Candidate); // term 1
    n.node.step(msg({ type: MessageType.App, from: 2, to: 1, term: 1 }));
    expect(n.status.role).toBe(Role.Follower);
    expect(n.status.lead).toBe(2);
    expect(n.status.term).toBe(1);
  });

  it('a candidate ignores an App from a lower term (stays candidate)', () => {
    const n = nodeInRole(Role.Candidate);
    for (let i = 0; i < 10; i++) n.node.tick(); // term 2
    n.drain();
    n.node.step(msg({ type: MessageType.App, from: 2, to: 1, term: 1 }));
    expect(n.status.role).toBe(Role.Candidate);
    expect(n.status.term).toBe(2);
  });

  it('the election timeout is randomized in [electionTick, 2*electionTick) using only config.randomInt', () => {
    const seen = new Set<number>();
    for (let k = 0; k < 10; k++) {
      const n = newNode(1, [1, 2, 3], { electionTick: 10, randomInt: (bound) => (expect(bound).toBe(10), k) });
      let ticks = 0;
      while (n.status.role === Role.Follower) {
        n.node.tick();
        ticks++;
        expect(ticks).toBeLessThan(20);
      }
      expect(ticks).toBe(10 + k);
      seen.add(ticks);
    }
    expect(seen.size).toBe(10);
  });

  it('a follower does not campaign before the election timeout elapses', () => {
    const n = newNode(1, [1, 2, 3], { electionTick: 10 });
    for (let i = 0; i < 9; i++) n.node.tick();
    expect(n.status.role).toBe(Role.Follower);
    expect(n.drain().length).toBe(0);
  });

  it('a single node becomes leader by itself on timeout', () => {
    const n = newNode(1, [1]);
    for (let i = 0; i < 10; i++) n.node.tick();
    n.drain();
    expect(n.status.role).toBe(Role.Leader);
    expect(n.status.commit).toBe(1); // its empty entry, counted once persisted
  });
});

describe('§5.2 one vote per term', () => {
  it('a follower votes for at most one candidate per term, first come first served', () => {
    const n = newNode(1, [1, 2, 3]);
    n.node.step(msg({ type: MessageType.Vote, from: 2, to: 1, term: 1 }));
    n.node.step(msg({ type: MessageType.Vote, from: 3, to: 1, term: 1 }));
    n.node.step(msg({ type: MessageType.Vote, from: 2, to: 1, term: 1 })); // a retry from the same candidate
    const resps = ofType(n.drain(), MessageType.VoteResp);
    expect(resps.map((m) => [m.to, m.reject])).toEqual([
      [2, false],
      [3, true],
      [2, false],
    ]);
    expect(n.status.vote).toBe(2);
  });

  it('the vote survives a restart from the same storage (no double vote)', () => {
    const n = newNode(1, [1, 2, 3]);
    n.node.step(msg({ type: MessageType.Vote, from: 2, to: 1, term: 1 }));
    n.drain();
    expect(n.storage.initialState().hardState).toMatchObject({ term: 1, vote: 2 });
    n.restart();
    expect(n.status.vote).toBe(2);
    n.node.step(msg({ type: MessageType.Vote, from: 3, to: 1, term: 1 }));
    const [resp] = ofType(n.drain(), MessageType.VoteResp);
    expect(resp.reject).toBe(true);
  });

  it('a candidate votes for itself and rejects others in its term', () => {
    const n = nodeInRole(Role.Candidate);
    n.node.step(msg({ type: MessageType.Vote, from: 2, to: 1, term: 1 }));
    const [resp] = ofType(n.drain(), MessageType.VoteResp);
    expect(resp.reject).toBe(true);
    expect(n.status.vote).toBe(1);
  });
});

describe('§5.4.1 election restriction', () => {
  it('a voter rejects a candidate whose log is less up to date (etcd TestVoter)', () => {
    const cases: { ours: number[]; logTerm: number; index: number; reject: boolean }[] = [
      // same last term
      { ours: [1], logTerm: 1, index: 1, reject: false },
      { ours: [1], logTerm: 1, index: 2, reject: false },
      { ours: [1, 1], logTerm: 1, index: 1, reject: true },
      // candidate's last term is higher
      { ours: [1], logTerm: 2, index: 1, reject: false },
      { ours: [1], logTerm: 2, index: 2, reject: false },
      { ours: [1, 1], logTerm: 2, index: 1, reject: false },
      // candidate's last term is lower
      { ours: [2], logTerm: 1, index: 1, reject: true },
      { ours: [2], logTerm: 1, index: 2, reject: true },
      { ours: [2, 1], logTerm: 1, index: 1, reject: true },
    ];
    for (const c of cases) {
      const storage = new MemoryStorage({ voters: [1, 2] });
      storage.append(entriesOf(c.ours));
      const n = newNode(1, [1, 2], {}, storage);
      n.node.step(msg({ type: MessageType.Vote, from: 2, to: 1, term: 3, logTerm: c.logTerm, index: c.index }));
      const [resp] = ofType(n.drain(), MessageType.VoteResp);
      expect(resp.reject, JSON.stringify(c)).toBe(c.reject);
    }
  });

  it('a node with a stale log is not elected; the leader elected holds every committed entry', () => {
    const net = Network.create([1, 2, 3, 4, 5]);
    net.campaign(1);
    net.isolate(5);
    net.propose(1, 'x');
    net.propose(1, 'y');
    expect(net.node(1).status.commit).toBe(3);
    net.recover();
    net.isolate(1); // leader crashes
    net.campaign(5); // 5 missed the committed entries: must lose
    expect(net.node(5).status.role).not.toBe(Role.Leader);
    net.campaign(2);
    expect(net.node(2).status.role).toBe(Role.Leader);
    net.tick(2); // heartbeat round
    net.propose(2, 'z');
    for (const id of [2, 3, 4, 5]) expect(net.node(id).appliedData()).toEqual(['x', 'y', 'z']);
  });
});

describe('PreVote (thesis §9.6)', () => {
  it('a partitioned node does not bump its term and does not disrupt the cluster when it rejoins', () => {
    const net = Network.create([1, 2, 3], { preVote: true });
    net.campaign(1);
    net.propose(1, 'a');
    net.isolate(3);
    net.propose(1, 'b'); // 3 falls behind
    net.tick(3, 100);
    expect(net.node(3).status.term).toBe(1);
    expect(net.node(3).status.role).toBe(Role.PreCandidate);
    net.recover();
    net.campaign(3); // its pre-vote is rejected: its log is behind
    expect(net.node(1).status.role).toBe(Role.Leader);
    expect(net.node(1).status.term).toBe(1);
    expect(net.node(2).status.term).toBe(1);
    net.tick(1); // the leader's heartbeat brings 3 back as a follower
    expect(net.node(3).status.role).toBe(Role.Follower);
    expect(net.node(3).status.lead).toBe(1);
    net.propose(1, 'c');
    expect(net.node(3).appliedData()).toEqual(['a', 'b', 'c']);
  });

  it('a pre-candidate that wins the pre-vote then campaigns in the next term', () => {
    const net = Network.create([1, 2, 3], { preVote: true });
    net.campaign(1);
    expect(net.node(1).status.role).toBe(Role.Leader);
    expect(net.node(1).status.term).toBe(1);
    expect(net.count(MessageType.PreVote)).toBe(2);
    expect(net.count(MessageType.Vote)).toBe(2);
  });

  it('a pre-vote grant does not record a vote or change the term of the voter', () => {
    const n = newNode(2, [1, 2, 3], { preVote: true });
    n.node.step(msg({ type: MessageType.PreVote, from: 1, to: 2, term: 1 }));
    const [resp] = ofType(n.drain(), MessageType.PreVoteResp);
    expect(resp.reject).toBe(false);
    expect(resp.term).toBe(1);
    expect(n.status.term).toBe(0);
    expect(n.status.vote).toBe(0);
  });
});

describe('CheckQuorum and the leader lease (thesis §6.2, §4.2.3)', () => {
  it('a leader steps down when it has not heard from a quorum within an election timeout', () => {
    const net = Network.create([1, 2, 3], { checkQuorum: true });
    net.campaign(1);
    net.tick(1, 10); // heartbeats answered: still leader
    expect(net.node(1).status.role).toBe(Role.Leader);
    net.isolate(1);
    net.tick(1, 20);
    expect(net.node(1).status.role).toBe(Role.Follower);
    expect(net.node(1).status.term).toBe(1);
  });

  it('a leader keeps leading while a quorum answers (one follower down)', () => {
    const net = Network.create([1, 2, 3], { checkQuorum: true });
    net.campaign(1);
    net.isolate(3);
    net.tick(1, 50);
    expect(net.node(1).status.role).toBe(Role.Leader);
  });

  it('a follower that heard from its leader recently ignores (pre)votes from a higher term', () => {
    for (const type of [MessageType.Vote, MessageType.PreVote]) {
      const net = Network.create([1, 2, 3], { checkQuorum: true });
      net.campaign(1);
      const follower = net.node(2);
      follower.node.step(msg({ type, from: 3, to: 2, term: 5, index: 100, logTerm: 5 }));
      expect(follower.drain()).toEqual([]);
      expect(follower.status.term).toBe(1);
      expect(follower.status.lead).toBe(1);
    }
  });

  it('once the lease expires (no leader heard for an election timeout) votes are considered again', () => {
    const net = Network.create([1, 2, 3], { checkQuorum: true });
    net.campaign(1);
    const follower = net.node(2);
    for (let i = 0; i < 10; i++) follower.node.tick();
    follower.node.step(msg({ type: MessageType.Vote, from: 3, to: 2, term: 5, index: 100, logTerm: 5 }));
    expect(follower.status.term).toBe(5);
    expect(follower.status.vote).toBe(3);
  });

  it('with CheckQuorum and PreVote, a rejoining node cannot depose the leader', () => {
    const net = Network.create([1, 2, 3], { checkQuorum: true, preVote: true });
    net.campaign(1);
    net.isolate(3);
    net.tick(3, 50);
    net.recover();
    net.campaign(3);
    expect(net.node(1).status.role).toBe(Role.Leader);
    expect(net.node(1).status.term).toBe(1);
  });

  it('a stale leader is told the new term when it contacts a follower (and steps down)', () => {
    const net = Network.create([1, 2, 3], { preVote: true });
    net.campaign(1);
    net.isolate(1);
    net.tick(2, 10); // 2 times out and is elected in term 2 by 3
    expect(net.node(2).status.role).toBe(Role.Leader);
    expect(net.node(2).status.term).toBe(2);
    expect(net.node(1).status.role).toBe(Role.Leader); // still thinks it leads, in term 1
    net.recover();
    net.tick(1); // the old leader heartbeats in term 1 and is answered with term 2
    expect(net.node(1).status.role).toBe(Role.Follower);
    expect(net.node(1).status.term).toBe(2);
  });
});
