/** Linearizable reads through ReadIndex (thesis §6.4), etcd ReadOnlySafe behaviour. */
import { describe, expect, it } from 'vitest';
import { MemoryStorage } from '../../../agent/raft/core';
import { MessageType, Role } from '../../../agent/raft/types';
import { Network, TestNode, bytes, msg, text } from './network';

describe('ReadIndex', () => {
  it('on the leader: answered with the commit index after a quorum confirms leadership by heartbeat', () => {
    const net = Network.create([1, 2, 3]);
    net.campaign(1);
    net.propose(1, 'a');
    const lead = net.node(1);
    net.isolate(2);
    net.isolate(3);
    lead.node.readIndex(bytes('r1'));
    net.flush(1);
    const hbs = net.dropped.filter((m) => m.type === MessageType.Heartbeat);
    expect(hbs.length).toBe(2);
    expect(hbs.every((m) => text(m.context) === 'r1')).toBe(true);
    expect(lead.readStates).toEqual([]); // no quorum yet
    net.recover();
    lead.node.readIndex(bytes('r2'));
    net.flush(1);
    expect(lead.readStates.map((rs) => [rs.index, text(rs.context)])).toEqual([
      [2, 'r1'],
      [2, 'r2'],
    ]);
  });

  it('a later confirmation also confirms the earlier pending reads', () => {
    const net = Network.create([1, 2, 3]);
    net.campaign(1);
    net.ignore(MessageType.HeartbeatResp);
    net.node(1).node.readIndex(bytes('x'));
    net.flush(1);
    net.recover();
    net.node(1).node.readIndex(bytes('y'));
    net.flush(1);
    expect(net.node(1).readStates.map((rs) => text(rs.context))).toEqual(['x', 'y']);
  });

  it('on a follower: forwarded to the leader and answered with ReadIndexResp', () => {
    const net = Network.create([1, 2, 3]);
    net.campaign(1);
    net.propose(1, 'a');
    net.node(3).node.readIndex(bytes('follower-read'));
    net.flush(3);
    expect(net.count(MessageType.ReadIndex, { from: 3, to: 1 })).toBe(1);
    expect(net.count(MessageType.ReadIndexResp, { from: 1, to: 3 })).toBe(1);
    expect(net.node(3).readStates.map((rs) => [rs.index, text(rs.context)])).toEqual([[2, 'follower-read']]);
    expect(net.node(1).readStates).toEqual([]);
  });

  it('a follower with no known leader drops the request', () => {
    const net = Network.create([1, 2, 3]);
    net.node(2).node.readIndex(bytes('r'));
    net.flush(2);
    expect(net.sent).toEqual([]);
    expect(net.node(2).readStates).toEqual([]);
  });

  it('a new leader answers nothing until its empty entry of its own term is committed', () => {
    const lead = new TestNode(1, new MemoryStorage({ voters: [1, 2, 3] }));
    lead.node.campaign();
    lead.drain();
    lead.node.step(msg({ type: MessageType.VoteResp, from: 2, to: 1, term: 1 }));
    const apps = lead.drain().filter((m) => m.type === MessageType.App);
    expect(lead.status.role).toBe(Role.Leader);
    lead.node.readIndex(bytes('early'));
    const out = lead.drain();
    expect(out.filter((m) => m.type === MessageType.Heartbeat)).toEqual([]); // queued
    expect(lead.readStates).toEqual([]);
    // The empty entry commits: the queued read starts its heartbeat round.
    lead.node.step(msg({ type: MessageType.AppResp, from: 2, to: 1, term: 1, index: apps[0].entries[0].index }));
    const hbs = lead.drain().filter((m) => m.type === MessageType.Heartbeat);
    expect(hbs.length).toBe(2);
    expect(text(hbs[0].context)).toBe('early');
    lead.node.step(msg({ type: MessageType.HeartbeatResp, from: 3, to: 1, term: 1, context: bytes('early') }));
    lead.drain();
    expect(lead.readStates.map((rs) => [rs.index, text(rs.context)])).toEqual([[1, 'early']]);
  });

  it('a single-voter cluster answers immediately', () => {
    const n = new TestNode(1, new MemoryStorage({ voters: [1] }));
    n.node.campaign();
    n.drain();
    n.node.readIndex(bytes('solo'));
    const rd = n.node.ready();
    expect(rd.readStates.map((rs) => [rs.index, text(rs.context)])).toEqual([[1, 'solo']]);
    n.node.advance(rd);
  });

  it('a deposed leader cut off from the cluster never confirms a read', () => {
    const net = Network.create([1, 2, 3]);
    net.campaign(1);
    net.isolate(1);
    net.node(1).node.readIndex(bytes('stale'));
    net.flush(1);
    net.tick(1, 5);
    expect(net.node(1).readStates).toEqual([]);
  });

  it('a follower ignores heartbeat contexts it does not know and echoes them back', () => {
    const n = new TestNode(2, new MemoryStorage({ voters: [1, 2, 3] }));
    n.node.step(msg({ type: MessageType.Heartbeat, from: 1, to: 2, term: 1, context: bytes('ctx') }));
    const [resp] = n.drain().filter((m) => m.type === MessageType.HeartbeatResp);
    expect(text(resp.context)).toBe('ctx');
  });
});
