/** The Ready/advance contract: persist before send, each item handed out once, restarts. */
import { describe, expect, it } from 'vitest';
import { InvalidRaftConfigError, MemoryStorage, RawNode } from '../../../agent/raft/core';
import { type HardState, type Message, type NodeId, MessageType, Role } from '../../../agent/raft/types';
import { Network, TestNode, bytes, makeConfig, msg, seededRandom, text } from './network';

/**
 * Replays a node's Readies in order, tracking what was durable when each Ready's messages left, and
 * checks every message that depends on durable state.
 */
function checkPersistBeforeSend(node: TestNode): number {
  let hs: HardState = { term: 0, vote: 0, commit: 0 };
  const terms = new Map<number, number>(); // index -> term of the durable log
  let checked = 0;
  for (const rd of node.readies) {
    if (rd.hardState) hs = rd.hardState;
    if (rd.snapshot) {
      terms.clear();
      terms.set(rd.snapshot.metadata.index, rd.snapshot.metadata.term);
    }
    for (const e of rd.entries) {
      for (const k of [...terms.keys()]) if (k >= e.index) terms.delete(k);
    }
    for (const e of rd.entries) terms.set(e.index, e.term);
    for (const m of rd.messages) {
      if (m.type === MessageType.VoteResp && !m.reject) {
        // A granted vote is durable before the response leaves: no double vote after a restart.
        expect(hs.term).toBe(m.term);
        expect(hs.vote).toBe(m.to);
        checked++;
      }
      if (m.type === MessageType.AppResp && !m.reject && m.index > 0) {
        // An acknowledged entry is durable before the ack leaves.
        expect(terms.has(m.index) || m.index <= (node.storage.firstIndex() - 1)).toBe(true);
        checked++;
      }
      if (m.type === MessageType.Vote) {
        expect(hs.vote).toBe(node.id);
        expect(hs.term).toBe(m.term);
      }
    }
  }
  return checked;
}

describe('Ready / advance', () => {
  it('messages that depend on durable state are in the same Ready as that state (random cluster run)', () => {
    const ids: NodeId[] = [1, 2, 3, 4, 5];
    const rnd = seededRandom(42);
    const net = Network.create(ids, { randomInt: seededRandom(7) });
    for (let round = 0; round < 400; round++) {
      if (rnd(25) === 0) {
        net.recover();
        net.isolate(ids[rnd(5)]);
      }
      const lead = net.leader();
      if (lead && rnd(2) === 0) net.propose(lead.id, `v${round}`);
      net.tickAll();
    }
    let checked = 0;
    for (const id of ids) checked += checkPersistBeforeSend(net.node(id));
    expect(checked).toBeGreaterThan(100);
  });

  it('a vote response is never in a Ready whose hard state lacks the vote', () => {
    const n = new TestNode(2, new MemoryStorage({ voters: [1, 2, 3] }));
    n.node.step(msg({ type: MessageType.Vote, from: 1, to: 2, term: 3 }));
    const rd = n.node.ready();
    expect(rd.messages.map((m) => [m.type, m.reject])).toEqual([[MessageType.VoteResp, false]]);
    expect(rd.hardState).toEqual({ term: 3, vote: 1, commit: 0 });
    expect(rd.mustSync).toBe(true);
  });

  it('entries are handed out once, even if ready() is called again before advance (pipelining)', () => {
    const n = new TestNode(1, new MemoryStorage({ voters: [1] }));
    n.node.campaign();
    const rd1 = n.node.ready();
    expect(rd1.entries.map((e) => e.index)).toEqual([1]);
    n.node.propose(bytes('a'));
    const rd2 = n.node.ready();
    expect(rd2.entries.map((e) => text(e.data))).toEqual(['a']);
    expect(n.node.hasReady()).toBe(false);
    // The runner persists both, in order, then advances both.
    n.storage.append(rd1.entries);
    n.storage.append(rd2.entries);
    n.node.advance(rd1);
    n.node.advance(rd2);
    const rd3 = n.node.ready();
    expect(rd3.entries).toEqual([]);
    expect(rd3.committedEntries.map((e) => e.index)).toEqual([1, 2]);
    n.node.advance(rd3);
    expect(n.node.hasReady()).toBe(false);
  });

  it('committed entries are never delivered twice', () => {
    const net = Network.create([1, 2, 3]);
    net.campaign(1);
    for (let i = 0; i < 20; i++) net.propose(1 + (i % 3), `v${i}`);
    for (const id of [1, 2, 3]) {
      const indexes = net.node(id).applied.map((e) => e.index);
      expect(new Set(indexes).size).toBe(indexes.length);
      expect(indexes).toEqual(indexes.slice().sort((a, b) => a - b));
    }
  });

  it('the leader counts its own entries only once they are persisted (advance)', () => {
    const n = new TestNode(1, new MemoryStorage({ voters: [1] }));
    n.node.campaign();
    n.drain();
    n.node.propose(bytes('x'));
    const rd = n.node.ready();
    expect(rd.entries).toHaveLength(1);
    expect(rd.committedEntries).toEqual([]);
    expect(n.status.commit).toBe(1);
    n.storage.append(rd.entries);
    n.node.advance(rd);
    expect(n.status.commit).toBe(2);
    const next = n.node.ready();
    expect(next.committedEntries.map((e) => text(e.data))).toEqual(['x']);
    expect(next.hardState?.commit).toBe(2);
  });

  it('an entry is not counted if it was replaced before its write completed', () => {
    const lead = new TestNode(1, new MemoryStorage({ voters: [1, 2, 3] }));
    lead.node.campaign();
    lead.drain();
    lead.node.step(msg({ type: MessageType.VoteResp, from: 2, to: 1, term: 1 }));
    const rd = lead.node.ready(); // holds the empty entry of term 1, not persisted yet
    // Deposed before the write completes; a new leader overwrites index 1.
    lead.node.step(msg({ type: MessageType.App, from: 3, to: 1, term: 2, index: 0, logTerm: 0, entries: [{ term: 2, index: 1, type: 0, data: bytes('') }] }));
    lead.storage.append(rd.entries);
    lead.node.advance(rd);
    const rd2 = lead.node.ready();
    expect(rd2.entries.map((e) => [e.index, e.term])).toEqual([[1, 2]]);
    lead.storage.append(rd2.entries);
    lead.node.advance(rd2);
    expect(lead.logTerms()).toEqual([2]);
  });

  it('restart respects the applied index: only entries after it are handed out', () => {
    const net = Network.create([1]);
    net.campaign(1);
    for (const v of ['a', 'b', 'c']) net.propose(1, v);
    const n = net.node(1);
    expect(n.status.applied).toBe(4);
    const node = new RawNode(makeConfig(1, n.storage, { applied: 2 }));
    const rd = node.ready();
    expect(rd.committedEntries.map((e) => text(e.data))).toEqual(['b', 'c']);
    node.advance(rd);
    expect(node.hasReady()).toBe(false);
  });

  it('applied beyond the stored commit is a configuration error', () => {
    const storage = new MemoryStorage({ voters: [1] });
    expect(() => new RawNode(makeConfig(1, storage, { applied: 5 }))).toThrow(InvalidRaftConfigError);
  });

  it('reports soft state changes once', () => {
    const n = new TestNode(1, new MemoryStorage({ voters: [1] }));
    expect(n.node.hasReady()).toBe(false);
    n.node.campaign();
    const rd = n.node.ready();
    expect(rd.softState).toEqual({ leaderId: 1, role: Role.Leader });
    n.storage.append(rd.entries);
    n.node.advance(rd);
    expect(n.node.ready().softState).toBeUndefined();
  });

  it('mustSync is false for a commit-only change', () => {
    const storage = new MemoryStorage({ voters: [1, 2] });
    const n = new TestNode(2, storage);
    n.node.step(msg({ type: MessageType.App, from: 1, to: 2, term: 1, index: 0, logTerm: 0, entries: [{ term: 1, index: 1, type: 0, data: bytes('') }] }));
    n.drain();
    n.node.step(msg({ type: MessageType.Heartbeat, from: 1, to: 2, term: 1, commit: 1 }));
    const rd = n.node.ready();
    expect(rd.hardState).toEqual({ term: 1, vote: 0, commit: 1 });
    expect(rd.mustSync).toBe(false);
  });

  it('local-only message types are refused from the network', () => {
    const n = new TestNode(1, new MemoryStorage({ voters: [1, 2, 3] }));
    for (const type of [MessageType.Hup, MessageType.Beat, MessageType.Unreachable, MessageType.SnapStatus]) {
      n.node.step(msg({ type, from: 2, to: 1 }));
    }
    expect(n.status.role).toBe(Role.Follower);
    expect(n.node.hasReady()).toBe(false);
  });

  it('a forwarded proposal a node cannot take is dropped silently', () => {
    const n = new TestNode(2, new MemoryStorage({ voters: [1, 2, 3] }));
    const prop: Message = msg({ type: MessageType.Prop, from: 3, to: 2, entries: [{ term: 0, index: 0, type: 0, data: bytes('x') }] });
    expect(() => n.node.step(prop)).not.toThrow();
    expect(n.node.hasReady()).toBe(false);
  });
});

describe('config validation', () => {
  const storage = new MemoryStorage({ voters: [1] });
  const cases: [string, Parameters<typeof makeConfig>[2] & { id?: number }, RegExp][] = [
    ['id 0', { id: 0 }, /id must be/],
    ['heartbeatTick 0', { heartbeatTick: 0 }, /heartbeatTick must be > 0/],
    ['electionTick <= heartbeatTick', { electionTick: 2, heartbeatTick: 2 }, /electionTick must be/],
    ['maxInflightMsgs 0', { maxInflightMsgs: 0 }, /maxInflightMsgs must be > 0/],
    ['negative maxInflightBytes', { maxInflightBytes: -1 }, /maxInflightBytes/],
    ['inflight bytes below message size', { maxInflightBytes: 10, maxSizePerMsg: 100 }, /maxInflightBytes/],
  ];
  for (const [name, opts, re] of cases) {
    it(`rejects ${name}`, () => {
      const { id, ...rest } = opts;
      expect(() => new RawNode(makeConfig(id ?? 1, storage, rest))).toThrow(re);
    });
  }
});
