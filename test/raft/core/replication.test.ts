/**
 * Log replication (Raft paper §5.3, §5.4.2, Figures 7 and 8) plus etcd's replication machinery:
 * fast backtracking, probe/replicate states, pipelining and flow control.
 */
import { describe, expect, it } from 'vitest';
import { MemoryStorage, ProgressState } from '../../../agent/raft/core';
import { type Message, type NodeId, EntryType, MessageType, ProposalDroppedError, Role } from '../../../agent/raft/types';
import { type NodeOptions, Network, TestNode, bytes, entriesOf, msg, seededRandom, text } from './network';

const ofType = (msgs: Message[], type: MessageType): Message[] => msgs.filter((m) => m.type === type);

/** Node 1 elected leader of `ids` in term 1 by manual votes; returns it with its first Apps drained. */
function electedLeader(ids: NodeId[], opts: NodeOptions = {}, storage = new MemoryStorage({ voters: ids })): { lead: TestNode; first: Message[] } {
  const lead = new TestNode(1, storage, opts);
  lead.node.campaign();
  lead.drain();
  const term = lead.status.term;
  for (const id of ids.slice(1)) lead.node.step(msg({ type: MessageType.VoteResp, from: id, to: 1, term }));
  const first = lead.drain();
  expect(lead.status.role).toBe(Role.Leader);
  return { lead, first };
}

/** Acks every App in `msgs` on behalf of its recipient (the follower has exactly the leader's log). */
function ackAll(lead: TestNode, msgs: Message[]): Message[] {
  for (const m of ofType(msgs, MessageType.App)) {
    const last = m.entries.length > 0 ? m.entries[m.entries.length - 1].index : m.index;
    lead.node.step(msg({ type: MessageType.AppResp, from: m.to, to: 1, term: m.term, index: last }));
  }
  return lead.drain();
}

describe('§5.3 log replication', () => {
  it('the leader appends a proposal to its log and sends it to every follower', () => {
    const { lead, first } = electedLeader([1, 2, 3]);
    ackAll(lead, first); // followers move to replicate
    lead.node.propose(bytes('some data'));
    const msgs = lead.drain();
    const apps = ofType(msgs, MessageType.App);
    expect(apps.map((m) => m.to).sort()).toEqual([2, 3]);
    for (const m of apps) {
      expect(m.index).toBe(1); // after the leader's empty entry
      expect(m.logTerm).toBe(1);
      expect(m.commit).toBe(1);
      expect(m.entries.map((e) => [e.index, e.term, text(e.data)])).toEqual([[2, 1, 'some data']]);
    }
    expect(lead.storage.lastIndex()).toBe(2); // persisted through the Ready
  });

  it('an entry commits once a majority (counting the leader, once persisted) holds it', () => {
    const cases: { size: number; acks: NodeId[]; committed: boolean }[] = [
      { size: 1, acks: [], committed: true },
      { size: 3, acks: [], committed: false },
      { size: 3, acks: [2], committed: true },
      { size: 3, acks: [2, 3], committed: true },
      { size: 5, acks: [2], committed: false },
      { size: 5, acks: [2, 3], committed: true },
      { size: 4, acks: [2], committed: false },
      { size: 4, acks: [2, 3], committed: true },
    ];
    for (const c of cases) {
      const ids = Array.from({ length: c.size }, (_, i) => i + 1);
      const { lead, first } = electedLeader(ids);
      ackAll(lead, first);
      lead.node.propose(bytes('x'));
      const apps = ofType(lead.drain(), MessageType.App);
      ackAll(
        lead,
        apps.filter((m) => c.acks.includes(m.to)),
      );
      expect(lead.status.commit === 2, JSON.stringify(c)).toBe(c.committed);
      expect(lead.appliedData()).toEqual(c.committed ? ['x'] : []);
    }
  });

  it('the leader tells followers the new commit index (in the next App) and they apply', () => {
    const net = Network.create([1, 2, 3]);
    net.campaign(1);
    net.propose(1, 'a');
    for (const id of [1, 2, 3]) expect(net.node(id).appliedData()).toEqual(['a']);
    expect(net.node(3).status.commit).toBe(2);
  });

  it('with lazyCommitNotice the commit index rides on the next App or heartbeat, not an App of its own', () => {
    const net = Network.create([1, 2, 3], { lazyCommitNotice: true });
    net.campaign(1);
    net.tick(1); // followers learn the empty entry's commit from a heartbeat
    const appsBefore = net.count(MessageType.App, { from: 1 });
    net.propose(1, 'a');
    // One App per follower (the entry), none after the commit: the followers have 'a' but not its commit.
    expect(net.count(MessageType.App, { from: 1 }) - appsBefore).toBe(2);
    expect(net.node(1).appliedData()).toEqual(['a']);
    for (const id of [2, 3]) expect(net.node(id).appliedData()).toEqual([]);
    net.propose(1, 'b'); // its App carries the commit of 'a'
    for (const id of [2, 3]) expect(net.node(id).appliedData()).toEqual(['a']);
    net.tick(1); // and a heartbeat carries the commit of 'b'
    for (const id of [1, 2, 3]) expect(net.node(id).appliedData()).toEqual(['a', 'b']);
    // Etcd's way (the default) sends the commit at once: two more Apps per write.
    const eager = Network.create([1, 2, 3]);
    eager.campaign(1);
    const eagerBefore = eager.count(MessageType.App, { from: 1 });
    eager.propose(1, 'a');
    expect(eager.count(MessageType.App, { from: 1 }) - eagerBefore).toBe(4);
  });

  it('committing an entry commits all preceding entries', () => {
    const { lead, first } = electedLeader([1, 2, 3]);
    ackAll(lead, first);
    lead.node.propose(bytes('a'));
    lead.node.propose(bytes('b'));
    const apps = ofType(lead.drain(), MessageType.App).filter((m) => m.to === 2);
    // Only the ack for the second App arrives.
    const last = apps[apps.length - 1];
    lead.node.step(msg({ type: MessageType.AppResp, from: 2, to: 1, term: 1, index: last.entries[last.entries.length - 1].index }));
    lead.drain();
    expect(lead.appliedData()).toEqual(['a', 'b']);
  });

  it('a follower rejects an App whose previous entry does not match (etcd TestFollowerCheckMsgApp)', () => {
    const ents = entriesOf([1, 2]);
    const cases: { term: number; index: number; wIndex: number; reject: boolean; hint: number; hintTerm: number }[] = [
      { term: 0, index: 0, wIndex: 1, reject: false, hint: 0, hintTerm: 0 }, // below commit
      { term: ents[0].term, index: ents[0].index, wIndex: 1, reject: false, hint: 0, hintTerm: 0 },
      { term: ents[1].term, index: ents[1].index, wIndex: 2, reject: false, hint: 0, hintTerm: 0 },
      { term: ents[0].term, index: ents[1].index, wIndex: 2, reject: true, hint: 1, hintTerm: 1 }, // term mismatch
      { term: ents[1].term + 1, index: ents[1].index + 1, wIndex: 3, reject: true, hint: 2, hintTerm: 2 }, // beyond last
    ];
    for (const c of cases) {
      const storage = new MemoryStorage({ voters: [1, 2, 3] });
      storage.append(ents);
      storage.setHardState({ term: 0, vote: 0, commit: 1 });
      const n = new TestNode(2, storage);
      n.node.step(msg({ type: MessageType.App, from: 1, to: 2, term: 2, logTerm: c.term, index: c.index, commit: 1 }));
      const [resp] = ofType(n.drain(), MessageType.AppResp);
      expect({ index: resp.index, reject: resp.reject, hint: resp.rejectHint, hintTerm: resp.logTerm }, JSON.stringify(c)).toEqual({
        index: c.wIndex,
        reject: c.reject,
        hint: c.hint,
        hintTerm: c.hintTerm,
      });
    }
  });

  it('a follower deletes a conflicting suffix and appends the new entries (etcd TestFollowerAppendEntries)', () => {
    const cases: { index: number; term: number; ents: number[]; want: number[] }[] = [
      { index: 2, term: 2, ents: [3], want: [1, 2, 3] },
      { index: 1, term: 1, ents: [3, 4], want: [1, 3, 4] },
      { index: 0, term: 0, ents: [1], want: [1, 2] },
      { index: 0, term: 0, ents: [3], want: [3] },
    ];
    for (const c of cases) {
      const storage = new MemoryStorage({ voters: [1, 2, 3] });
      storage.append(entriesOf([1, 2]));
      const n = new TestNode(2, storage);
      n.node.step(msg({ type: MessageType.App, from: 1, to: 2, term: 2, logTerm: c.term, index: c.index, entries: entriesOf(c.ents, c.index + 1) }));
      n.drain();
      expect(n.logTerms(), JSON.stringify(c)).toEqual(c.want);
    }
  });

  it('a follower forwards proposals to the leader', () => {
    const net = Network.create([1, 2, 3]);
    net.campaign(1);
    net.propose(3, 'from-3');
    expect(net.sent.some((m) => m.type === MessageType.Prop && m.from === 3 && m.to === 1)).toBe(true);
    for (const id of [1, 2, 3]) expect(net.node(id).appliedData()).toEqual(['from-3']);
  });

  it('a proposal with no known leader is refused with ProposalDroppedError', () => {
    const net = Network.create([1, 2, 3]);
    expect(() => net.node(2).node.propose(bytes('x'))).toThrow(ProposalDroppedError);
    net.isolate(1);
    net.campaign(1); // candidate, no majority
    expect(() => net.node(1).node.propose(bytes('x'))).toThrow(ProposalDroppedError);
  });

  it('heartbeats carry commit = min(match, commit)', () => {
    const { lead, first } = electedLeader([1, 2, 3]);
    // Only 2 acks; 3 stays at match 0.
    ackAll(
      lead,
      first.filter((m) => m.to === 2),
    );
    lead.node.tick();
    const hbs = ofType(lead.drain(), MessageType.Heartbeat);
    expect(lead.status.commit).toBe(1);
    expect(Object.fromEntries(hbs.map((m) => [m.to, m.commit]))).toEqual({ 2: 1, 3: 0 });
  });
});

describe('§5.3 Figure 7: the leader brings every follower log in line with its own', () => {
  // Leader (term 8) log of Figure 7, and the follower logs (a)-(f).
  const leaderLog = [1, 1, 1, 4, 4, 5, 5, 6, 6, 6];
  const followers: Record<string, number[]> = {
    a: [1, 1, 1, 4, 4, 5, 5, 6, 6],
    b: [1, 1, 1, 4],
    c: [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6],
    d: [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7],
    e: [1, 1, 1, 4, 4, 4, 4],
    f: [1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3],
  };
  for (const [name, followerLog] of Object.entries(followers)) {
    it(`repairs follower (${name})`, () => {
      const term = 8;
      const leadStorage = new MemoryStorage({ voters: [1, 2, 3] });
      leadStorage.append(entriesOf(leaderLog));
      leadStorage.setHardState({ term, vote: 0, commit: leaderLog.length });
      const followerStorage = new MemoryStorage({ voters: [1, 2, 3] });
      followerStorage.append(entriesOf(followerLog));
      followerStorage.setHardState({ term: term - 1, vote: 0, commit: 0 });
      const net = new Network();
      net.add(new TestNode(1, leadStorage));
      net.add(new TestNode(2, followerStorage));
      // Node 3 is down; its vote for 1 arrives by hand (the follower's log may be more up to date).
      net.campaign(1);
      net.send([msg({ type: MessageType.VoteResp, from: 3, to: 1, term: term + 1 })]);
      expect(net.node(1).status.role).toBe(Role.Leader);
      net.propose(1, 'new');
      expect(net.node(2).logTerms()).toEqual(net.node(1).logTerms());
      expect(net.node(1).logTerms()).toEqual([...leaderLog, 9, 9]);
      expect(net.node(2).status.commit).toBe(12);
    });
  }
});

describe('§5.4.2 Figure 8: committing entries from previous terms', () => {
  it('a leader does not commit a previous-term entry by counting replicas; it does once its own entry commits', () => {
    const cases = [
      { ackIndex: 1, commit: 0 },
      { ackIndex: 2, commit: 0 },
      { ackIndex: 3, commit: 3 },
    ];
    for (const c of cases) {
      const storage = new MemoryStorage({ voters: [1, 2] });
      storage.append(entriesOf([1, 2]));
      storage.setHardState({ term: 2, vote: 0, commit: 0 });
      const { lead } = electedLeader([1, 2], {}, storage); // term 3, empty entry at index 3
      expect(lead.status.term).toBe(3);
      lead.node.step(msg({ type: MessageType.AppResp, from: 2, to: 1, term: 3, index: c.ackIndex }));
      lead.drain();
      expect(lead.status.commit, JSON.stringify(c)).toBe(c.commit);
    }
  });

  it('the Figure 8 scenario: an old-term entry on a majority is not committed until the new leader commits its own entry', () => {
    const net = Network.create([1, 2, 3, 4, 5]);
    // (a) S1 leads term 1 and replicates the entry at index 2 to S2 only.
    net.campaign(1);
    net.isolate(3);
    net.isolate(4);
    net.isolate(5);
    net.propose(1, 'term1');
    expect(net.node(2).logTerms()).toEqual([1, 1]);
    // (b) S1 crashes; S5 is elected (votes of S3, S4, S5) and accepts an entry it doesn't replicate.
    net.recover();
    net.isolate(1);
    net.cut(5, 2);
    net.ignore(MessageType.App);
    net.campaign(5); // term 2, S3 and S4 vote for it (their logs are [1])
    expect(net.node(5).status.role).toBe(Role.Leader);
    net.node(5).node.propose(bytes('term2'));
    net.node(5).drain(); // the Apps never leave
    // (c) S5 crashes; S1 comes back, is elected in term 3 and replicates index 2 to S3.
    net.recover();
    net.isolate(5);
    net.filter = (m) => !(m.type === MessageType.App && m.to === 4); // S4 stays behind
    net.node(1).restart(); // S1 crashed and restarts as a follower in term 1
    net.campaign(1); // term 2: S3 and S4 already voted for S5 in term 2
    expect(net.node(1).status.role).toBe(Role.Candidate);
    net.campaign(1); // term 3: S2, S3 and S4 vote for S1
    expect(net.node(1).status.role).toBe(Role.Leader);
    expect(net.node(1).status.term).toBe(3);
    // The term-1 entry is now on S1, S2, S3 (a majority) - and committed only together with S1's
    // term-3 entry, which is what makes it safe: S5 can no longer win an election.
    expect(net.node(3).logTerms().slice(0, 2)).toEqual([1, 1]);
    expect(net.node(1).status.commit).toBe(3);
    expect(net.node(1).logTerms()).toEqual([1, 1, 3]);
    net.recover();
    net.isolate(1);
    // (d) S5 restarts and tries again (twice, to get past term 3): its log [1, 2] is behind [1, 1, 3]
    // on S2 and S3, so it can't collect a majority and overwrite the committed entry.
    net.node(5).restart();
    net.campaign(5);
    net.campaign(5);
    expect(net.node(5).status.term).toBe(4);
    expect(net.node(5).status.role).not.toBe(Role.Leader);
    expect(net.node(2).appliedData()).toEqual(['term1']);
  });
});

describe('fast log backtracking', () => {
  it('a follower with a long conflicting tail is repaired in a few round trips', () => {
    // Leader: 100 entries of term 1 then 100 of term 3. Follower: 100 of term 1 then 150 of term 2.
    const leaderLog = [...Array<number>(100).fill(1), ...Array<number>(100).fill(3)];
    const followerLog = [...Array<number>(100).fill(1), ...Array<number>(150).fill(2)];
    const leadStorage = new MemoryStorage({ voters: [1, 2, 3] });
    leadStorage.append(entriesOf(leaderLog));
    leadStorage.setHardState({ term: 3, vote: 0, commit: 100 });
    const followerStorage = new MemoryStorage({ voters: [1, 2, 3] });
    followerStorage.append(entriesOf(followerLog));
    followerStorage.setHardState({ term: 3, vote: 0, commit: 100 });
    const net = new Network();
    net.add(new TestNode(1, leadStorage));
    net.add(new TestNode(2, followerStorage));
    net.campaign(1);
    net.send([msg({ type: MessageType.VoteResp, from: 3, to: 1, term: 4 })]);
    expect(net.node(1).status.role).toBe(Role.Leader);
    expect(net.node(2).logTerms()).toEqual(net.node(1).logTerms());
    const rejections = net.sent.filter((m) => m.type === MessageType.AppResp && m.reject).length;
    expect(rejections).toBeLessThanOrEqual(2);
    expect(net.count(MessageType.App, { to: 2 })).toBeLessThanOrEqual(4);
  });

  it('the rejection hint names the last entry at or below the probe with a term <= the probe term', () => {
    const storage = new MemoryStorage({ voters: [1, 2, 3] });
    storage.append(entriesOf([1, 1, 2, 2, 2, 5, 5]));
    const n = new TestNode(2, storage);
    n.node.step(msg({ type: MessageType.App, from: 1, to: 2, term: 6, index: 7, logTerm: 4 }));
    const [resp] = ofType(n.drain(), MessageType.AppResp);
    expect(resp).toMatchObject({ reject: true, index: 7, rejectHint: 5, logTerm: 2 });
  });
});

describe('probe, replicate and flow control', () => {
  it('in probe state the leader sends one App at a time', () => {
    const { lead, first } = electedLeader([1, 2]);
    expect(ofType(first, MessageType.App)).toHaveLength(1);
    expect(lead.status.progress?.get(2)?.state).toBe(ProgressState.Probe);
    lead.node.propose(bytes('a'));
    lead.node.propose(bytes('b'));
    expect(ofType(lead.drain(), MessageType.App)).toHaveLength(0); // paused until the probe is answered
    const after = ackAll(lead, first);
    expect(lead.status.progress?.get(2)?.state).toBe(ProgressState.Replicate);
    expect(ofType(after, MessageType.App).flatMap((m) => m.entries.map((e) => text(e.data)))).toEqual(['a', 'b']);
  });

  it('in replicate state Apps are pipelined: next runs ahead of match', () => {
    const { lead, first } = electedLeader([1, 2]);
    ackAll(lead, first);
    for (const d of ['a', 'b', 'c']) lead.node.propose(bytes(d));
    const apps = ofType(lead.drain(), MessageType.App);
    expect(apps.map((m) => m.index)).toEqual([1, 2, 3]);
    const pr = lead.status.progress?.get(2);
    expect(pr).toMatchObject({ match: 1, next: 5, state: ProgressState.Replicate });
  });

  it('with maxInflightMsgs=N the leader stops after N unacked Apps and resumes on ack', () => {
    const N = 3;
    const { lead, first } = electedLeader([1, 2], { maxInflightMsgs: N });
    ackAll(lead, first);
    const apps: Message[] = [];
    for (let i = 0; i < 10; i++) {
      lead.node.propose(bytes(`p${i}`));
      apps.push(...ofType(lead.drain(), MessageType.App));
    }
    expect(apps).toHaveLength(N);
    // Ack the first App: one slot frees and everything pending goes out in one App.
    const firstApp = apps[0];
    lead.node.step(msg({ type: MessageType.AppResp, from: 2, to: 1, term: 1, index: firstApp.entries[0].index }));
    const resumed = ofType(lead.drain(), MessageType.App);
    expect(resumed.length).toBeGreaterThanOrEqual(1);
    expect(resumed.flatMap((m) => m.entries.map((e) => text(e.data)))).toEqual(['p3', 'p4', 'p5', 'p6', 'p7', 'p8', 'p9']);
  });

  it('maxInflightBytes caps the unacknowledged payload bytes', () => {
    const { lead, first } = electedLeader([1, 2], { maxInflightBytes: 250, maxSizePerMsg: 100 });
    ackAll(lead, first);
    const apps: Message[] = [];
    for (let i = 0; i < 10; i++) {
      lead.node.propose(new Uint8Array(100));
      apps.push(...ofType(lead.drain(), MessageType.App));
    }
    // 100 + 100 < 250, the third crosses the cap and is the last one sent.
    expect(apps).toHaveLength(3);
    lead.node.step(msg({ type: MessageType.AppResp, from: 2, to: 1, term: 1, index: apps[2].entries[0].index }));
    const resumed = ofType(lead.drain(), MessageType.App);
    expect(resumed.length).toBe(3);
  });

  it('a heartbeat response frees a slot of a full window (lost Apps cannot stall a follower forever)', () => {
    const { lead, first } = electedLeader([1, 2], { maxInflightMsgs: 2 });
    ackAll(lead, first);
    for (let i = 0; i < 5; i++) lead.node.propose(bytes(`p${i}`));
    expect(ofType(lead.drain(), MessageType.App)).toHaveLength(2); // both lost
    lead.node.step(msg({ type: MessageType.HeartbeatResp, from: 2, to: 1, term: 1 }));
    expect(ofType(lead.drain(), MessageType.App)).toHaveLength(1);
  });

  it('maxSizePerMsg batches entries (always at least one per App)', () => {
    const net = Network.create([1, 2, 3], { maxSizePerMsg: 300 });
    net.campaign(1);
    net.isolate(3);
    for (let i = 0; i < 20; i++) net.propose(1, new Uint8Array(100));
    net.recover();
    const before = net.sent.length;
    net.tick(1); // heartbeat; 3 answers; the leader probes and streams
    const apps = net.sent.slice(before).filter((m) => m.type === MessageType.App && m.to === 3 && m.entries.length > 0);
    for (const m of apps) {
      const size = m.entries.reduce((s, e) => s + e.data.length + 16, 0);
      expect(size <= 300 || m.entries.length === 1).toBe(true);
    }
    expect(apps.length).toBeGreaterThan(5);
    expect(net.node(3).appliedData()).toHaveLength(20);
  });

  it('an Unreachable report moves a replicating follower back to probe', () => {
    const { lead, first } = electedLeader([1, 2]);
    ackAll(lead, first);
    expect(lead.status.progress?.get(2)?.state).toBe(ProgressState.Replicate);
    lead.node.reportUnreachable(2);
    expect(lead.status.progress?.get(2)?.state).toBe(ProgressState.Probe);
  });

  it('a lost App is recovered: the follower rejects the next one and the leader probes back', () => {
    const net = Network.create([1, 2, 3]);
    net.campaign(1);
    let dropOnce = true;
    net.filter = (m) => {
      if (m.type === MessageType.App && m.to === 3 && m.entries.length > 0 && dropOnce) {
        dropOnce = false;
        return false;
      }
      return true;
    };
    net.propose(1, 'lost');
    net.propose(1, 'next');
    expect(net.node(3).appliedData()).toEqual(['lost', 'next']);
  });
});

describe('log matching and state machine safety under random faults', () => {
  for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
    it(`seed ${seed}: logs agree wherever (index, term) agree; applied sequences are prefixes of each other`, () => {
      const ids = [1, 2, 3, 4, 5];
      const rnd = seededRandom(seed);
      const net = Network.create(ids, { preVote: seed % 2 === 0, checkQuorum: seed % 4 < 2, randomInt: seededRandom(seed * 7) });
      let proposal = 0;
      for (let round = 0; round < 300; round++) {
        if (rnd(20) === 0) {
          net.recover();
          const victim = ids[rnd(5)];
          if (rnd(2) === 0) net.isolate(victim);
          else net.cut(victim, ids[rnd(5)]);
        }
        if (rnd(10) === 0) {
          const id = ids[rnd(5)];
          net.node(id).restart();
        }
        const proposer = net.nodes.get(ids[rnd(5)]);
        if (proposer && rnd(3) === 0) {
          try {
            net.propose(proposer.id, `v${proposal++}`);
          } catch (err) {
            if (!(err instanceof ProposalDroppedError)) throw err;
          }
        }
        net.tickAll();
      }
      net.recover();
      net.tickAll(50);
      // Log Matching: same index and term => identical prefixes.
      const logs = ids.map((id) => net.node(id).logTerms());
      for (const a of logs) {
        for (const b of logs) {
          const n = Math.min(a.length, b.length);
          let lastMatch = -1;
          for (let i = 0; i < n; i++) if (a[i] === b[i]) lastMatch = i;
          expect(a.slice(0, lastMatch + 1)).toEqual(b.slice(0, lastMatch + 1));
        }
      }
      // State Machine Safety: every node applied the same sequence (prefixes, then all caught up).
      const applied = ids.map((id) => net.node(id).applied.filter((e) => e.type === EntryType.Normal).map((e) => `${e.index}:${e.term}`));
      const longest = applied.reduce((x, y) => (y.length > x.length ? y : x));
      for (const seq of applied) expect(longest.slice(0, seq.length)).toEqual(seq);
      expect(net.leader()).toBeDefined();
      const leaderCommit = net.leader()?.status.commit ?? 0;
      for (const id of ids) expect(net.node(id).status.commit).toBe(leaderCommit);
    });
  }
});
