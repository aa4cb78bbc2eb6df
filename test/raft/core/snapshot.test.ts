/** Snapshots and log compaction (paper §7), as in etcd's snapshot tests. */
import { describe, expect, it } from 'vitest';
import { MemoryStorage, ProgressState, RawNode } from '../../../agent/raft/core';
import { type Snapshot, EntryType, MessageType, Role } from '../../../agent/raft/types';
import { Network, TestNode, bytes, entriesOf, makeConfig, msg, text } from './network';

/** Leader 1 of {1,2,3}; 3 misses 10 entries, then the leader snapshots and compacts them away. */
function compactedCluster(): Network {
  const net = Network.create([1, 2, 3]);
  net.campaign(1);
  net.isolate(3);
  for (let i = 0; i < 10; i++) net.propose(1, `p${i}`);
  const lead = net.node(1);
  const applied = lead.appliedIndex();
  lead.storage.createSnapshot(applied, lead.confState, bytes(`state@${applied}`));
  lead.storage.compact(applied);
  net.recover();
  return net;
}

describe('snapshots', () => {
  it('the leader sends its snapshot to a follower behind the compaction point; the follower restores it', () => {
    const net = compactedCluster();
    net.ignore(MessageType.Snap);
    net.tick(1); // heartbeat -> 3 answers -> leader probes -> entries are gone -> snapshot
    expect(net.node(1).status.progress?.get(3)?.state).toBe(ProgressState.Snapshot);
    const snapMsg = net.dropped.find((m) => m.type === MessageType.Snap);
    expect(snapMsg?.snapshot?.metadata.index).toBe(11);
    net.recover();
    net.send([snapMsg!]);
    const follower = net.node(3);
    expect(follower.snapshotsApplied.map((s) => [s.metadata.index, s.metadata.term, text(s.data)])).toEqual([[11, 1, 'state@11']]);
    expect(follower.storage.firstIndex()).toBe(12);
    expect(follower.status.commit).toBe(11);
    // The follower's ack moves it back to replicate, and new entries flow.
    expect(net.node(1).status.progress?.get(3)?.state).toBe(ProgressState.Replicate);
    net.propose(1, 'after');
    expect(follower.appliedData()).toEqual(['after']);
  });

  it('the snapshot is in Ready.snapshot, with no committed entries until it is applied', () => {
    const n = new TestNode(2, new MemoryStorage({ voters: [1, 2] }));
    const snap: Snapshot = { metadata: { index: 10, term: 2, confState: { voters: [1, 2, 5], learners: [], removed: [3] } }, data: bytes('s') };
    n.node.step(msg({ type: MessageType.Snap, from: 1, to: 2, term: 2, snapshot: snap }));
    const rd = n.node.ready();
    expect(rd.snapshot).toBe(snap);
    expect(rd.committedEntries).toEqual([]);
    expect(rd.hardState).toMatchObject({ term: 2, commit: 10 });
    const resp = rd.messages.find((m) => m.type === MessageType.AppResp);
    expect(resp?.index).toBe(10);
    n.storage.applySnapshot(snap);
    n.storage.setHardState(rd.hardState!);
    n.node.advance(rd);
    expect(n.status.applied).toBe(10);
    expect(n.node.confState()).toEqual({ voters: [1, 2, 5], learners: [], removed: [3] });
    expect(n.node.hasReady()).toBe(false);
  });

  it('a follower ignores a snapshot that is not newer than its commit index', () => {
    const storage = new MemoryStorage({ voters: [1, 2] });
    storage.append(entriesOf([1, 1, 1]));
    storage.setHardState({ term: 1, vote: 0, commit: 3 });
    const n = new TestNode(2, storage);
    const snap: Snapshot = { metadata: { index: 2, term: 1, confState: { voters: [1, 2], learners: [], removed: [] } }, data: bytes('') };
    n.node.step(msg({ type: MessageType.Snap, from: 1, to: 2, term: 1, snapshot: snap }));
    const rd = n.node.ready();
    expect(rd.snapshot).toBeUndefined();
    expect(rd.messages.find((m) => m.type === MessageType.AppResp)?.index).toBe(3);
  });

  it('a snapshot matching an entry we hold just fast-forwards the commit index', () => {
    const storage = new MemoryStorage({ voters: [1, 2] });
    storage.append(entriesOf([1, 1, 1]));
    const n = new TestNode(2, storage);
    const snap: Snapshot = { metadata: { index: 2, term: 1, confState: { voters: [1, 2], learners: [], removed: [] } }, data: bytes('') };
    n.node.step(msg({ type: MessageType.Snap, from: 1, to: 2, term: 1, snapshot: snap }));
    const rd = n.node.ready();
    expect(rd.snapshot).toBeUndefined();
    expect(n.status.commit).toBe(2);
    expect(rd.committedEntries.map((e) => e.index)).toEqual([1, 2]);
  });

  it('a failed snapshot (reportSnapshot false) moves the follower back to probe', () => {
    const net = compactedCluster();
    net.ignore(MessageType.Snap);
    net.tick(1);
    const lead = net.node(1);
    expect(lead.status.progress?.get(3)?.state).toBe(ProgressState.Snapshot);
    lead.node.reportSnapshot(3, false);
    const pr = lead.status.progress?.get(3);
    expect(pr?.state).toBe(ProgressState.Probe);
    expect(pr?.next).toBe((pr?.match ?? 0) + 1);
    // And on the next heartbeat round the leader tries again.
    net.recover();
    net.tick(1);
    expect(net.node(3).snapshotsApplied).toHaveLength(1);
  });

  it('a successful snapshot report moves the follower to probe from after the snapshot', () => {
    const net = compactedCluster();
    net.ignore(MessageType.Snap);
    net.tick(1);
    const lead = net.node(1);
    lead.node.reportSnapshot(3, true);
    expect(lead.status.progress?.get(3)).toMatchObject({ state: ProgressState.Probe, next: 12 });
  });

  it('a RawNode restarts from MemoryStorage holding a snapshot and the entries after it', () => {
    const storage = new MemoryStorage();
    storage.applySnapshot({ metadata: { index: 10, term: 3, confState: { voters: [1, 2, 3], learners: [4], removed: [5] } }, data: bytes('s') });
    storage.append([
      { term: 3, index: 11, type: EntryType.Normal, data: bytes('a') },
      { term: 4, index: 12, type: EntryType.Normal, data: bytes('b') },
    ]);
    storage.setHardState({ term: 4, vote: 2, commit: 12 });
    const node = new RawNode(makeConfig(1, storage, { applied: 10 }));
    const s = node.status();
    expect(s).toMatchObject({ term: 4, vote: 2, commit: 12, applied: 10, voters: [1, 2, 3], learners: [4] });
    expect(node.confState().removed).toEqual([5]);
    const rd = node.ready();
    expect(rd.hardState).toBeUndefined(); // nothing new to persist
    expect(rd.committedEntries.map((e) => text(e.data))).toEqual(['a', 'b']);
    node.advance(rd);
    expect(node.status().applied).toBe(12);
    // It can lead from there: the first index after the snapshot is still answerable.
    node.campaign();
    expect(node.status().role).toBe(Role.Candidate);
  });

  it('the leader uses the snapshot term for the App right after the compaction point', () => {
    const net = compactedCluster();
    net.tick(1);
    net.propose(1, 'x');
    for (const id of [1, 2, 3]) expect(net.node(id).status.commit).toBe(12);
  });
});
