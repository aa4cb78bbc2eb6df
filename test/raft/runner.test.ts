import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RaftRunner } from '../../agent/raft/runner';
import { DurableRaftStorage } from '../../agent/raft/storage/raft-storage';
import { NodeFs } from '../../agent/raft/storage/fs';
import { MemoryRaftNetwork, type MemoryRaftTransport } from '../../agent/raft/transport/memory-transport';
import { type Message, MessageType, type NodeId } from '../../agent/raft/types';
import { KvStateMachine, put } from './kv-state-machine';

const dirs: string[] = [];
const runners: RaftRunner[] = [];

afterEach(async () => {
  for (const r of runners.splice(0)) await r.stop();
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function until(predicate: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

interface Member {
  id: number;
  dir: string;
  sm: KvStateMachine;
  runner: RaftRunner;
}

async function startMember(
  network: MemoryRaftNetwork,
  id: number,
  dir: string,
  opts: { bootstrap?: boolean; peers?: number[]; forceNewCluster?: boolean; snapshotEveryBytes?: number; keptBytesAfterSnapshot?: number },
): Promise<Member> {
  const { storage, state } = await DurableRaftStorage.open(dir, new NodeFs());
  const sm = new KvStateMachine();
  const runner = await RaftRunner.start({
    id,
    address: `mem-${id}`,
    durable: storage,
    restored: state,
    transport: network.transport(id),
    stateMachine: sm,
    bootstrap: opts.bootstrap,
    forceNewCluster: opts.forceNewCluster,
    peers: new Map((opts.peers ?? []).map((p) => [p, `mem-${p}`])),
    tickMs: 10,
    snapshotEvery: 50,
    entriesKeptAfterSnapshot: 10,
    snapshotEveryBytes: opts.snapshotEveryBytes,
    keptBytesAfterSnapshot: opts.keptBytesAfterSnapshot,
  });
  runners.push(runner);
  return { id, dir, sm, runner };
}

async function newDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'swarmdesk-runner-'));
  dirs.push(dir);
  return dir;
}

async function cluster(network: MemoryRaftNetwork, ids: number[]): Promise<Member[]> {
  const members: Member[] = [];
  for (const id of ids) members.push(await startMember(network, id, await newDir(), { bootstrap: true, peers: ids.filter((p) => p !== id) }));
  return members;
}

/** A network that knows which messages are still on their way: sent, not yet received. */
class WatchedNetwork extends MemoryRaftNetwork {
  readonly onTheWay = new Set<Message>();

  override transport(id: NodeId): MemoryRaftTransport {
    const transport = super.transport(id);
    const receive = transport.receive.bind(transport);
    transport.receive = (message) => {
      this.onTheWay.delete(message);
      receive(message);
    };
    return transport;
  }

  override deliver(message: Message): boolean {
    const taken = super.deliver(message);
    if (taken) this.onTheWay.add(message);
    return taken;
  }
}

function leaderOf(members: Member[]): Member | undefined {
  return members.find((m) => m.runner.isLeader);
}

describe('raft runner', () => {
  it('elects a leader among three members and replicates writes to all of them', async () => {
    const network = new MemoryRaftNetwork();
    const members = await cluster(network, [1, 2, 3]);
    await until(() => leaderOf(members) !== undefined);
    const leader = leaderOf(members) as Member;
    for (let i = 0; i < 20; i++) await leader.runner.propose(put(`k${i % 3}`, `v${i}`));
    await until(() => members.every((m) => m.sm.data.get('k1') === 'v19'));
    for (const m of members) expect(Object.fromEntries(m.sm.data)).toEqual({ k0: 'v18', k1: 'v19', k2: 'v17' });
  });

  it('returns the state machine result to the proposer, also when proposing on a follower', async () => {
    const network = new MemoryRaftNetwork();
    const members = await cluster(network, [1, 2, 3]);
    await until(() => leaderOf(members) !== undefined);
    const follower = members.find((m) => !m.runner.isLeader) as Member;
    await expect(follower.runner.propose(put('a', '1'))).resolves.toBeUndefined();
    await expect(follower.runner.propose(put('a', '2'))).resolves.toBe('1');
  });

  it('serves a linearizable barrier on a follower only after it applied what the leader committed', async () => {
    const network = new MemoryRaftNetwork();
    const members = await cluster(network, [1, 2, 3]);
    await until(() => leaderOf(members) !== undefined);
    const leader = leaderOf(members) as Member;
    const follower = members.find((m) => !m.runner.isLeader) as Member;
    await leader.runner.propose(put('x', 'fresh'));
    await follower.runner.linearizableBarrier();
    expect(follower.sm.data.get('x')).toBe('fresh');
  });

  it("lets a follower's acknowledgement leave before it applies what the same Ready committed", async () => {
    // A socket (this network, Node's HTTP/2) writes what was sent when the current turn of the event
    // loop ends; applying in the same turn made every answer wait for the apply.
    const network = new WatchedNetwork();
    const members = await cluster(network, [1, 2, 3]);
    await until(() => leaderOf(members) !== undefined);
    const leader = leaderOf(members) as Member;
    let applies = 0;
    const heldBack: string[] = [];
    for (const follower of members.filter((m) => m !== leader)) {
      follower.sm.onApply = () => {
        applies++;
        for (const m of network.onTheWay) {
          if (m.from === follower.id && (m.type === MessageType.AppResp || m.type === MessageType.HeartbeatResp)) heldBack.push(`${MessageType[m.type]} ${m.index} from ${m.from}`);
        }
      };
    }
    for (let i = 0; i < 30; i++) await leader.runner.propose(put('k', `v${i}`));
    await until(() => applies >= 2 * 30);
    expect(heldBack).toEqual([]);
  });

  it('handles a proposal in the turn it was made: its appends are on their way before the event loop turns', async () => {
    const network = new WatchedNetwork();
    const members = await cluster(network, [1, 2, 3]);
    await until(() => leaderOf(members) !== undefined);
    const leader = leaderOf(members) as Member;
    await leader.runner.propose(put('warm', 'up'));
    await new Promise((resolve) => setTimeout(resolve, 50)); // the runner has nothing left to do
    const appendsOnTheWay = () => [...network.onTheWay].filter((m) => m.from === leader.id && m.type === MessageType.App && m.entries.length > 0).length;
    // Queued before the proposal, this runs at the next check phase: a runner that waited for
    // setImmediate would not have sent anything by then.
    const atNextTurn = new Promise<number>((resolve) => setImmediate(() => resolve(appendsOnTheWay())));
    const written = leader.runner.propose(put('a', '1'));
    expect(await atNextTurn).toBe(2);
    await written;
  });

  it('hands the event loop back while applying a long run of committed entries', async () => {
    const network = new MemoryRaftNetwork();
    const members = await cluster(network, [1, 2, 3]);
    await until(() => leaderOf(members) !== undefined);
    const leader = leaderOf(members) as Member;
    const behind = members.find((m) => m !== leader) as Member;
    network.isolate(behind.id);
    for (let i = 0; i < 40; i++) await leader.runner.propose(put(`k${i}`, `v${i}`));

    // The member that fell behind gets all 40 at once when it is back, and each apply now takes 4 ms.
    let turn = 0;
    let counting = true;
    const tick = () => {
      turn++;
      if (counting) setImmediate(tick);
    };
    setImmediate(tick);
    const appliedInTurn = new Map<number, number>();
    behind.sm.onApply = () => {
      const until = performance.now() + 4;
      while (performance.now() < until) {
        // busy, as a large store entry is
      }
      appliedInTurn.set(turn, (appliedInTurn.get(turn) ?? 0) + 1);
    };
    network.heal();
    await until(() => behind.sm.data.get('k39') === 'v39');
    counting = false;
    // ≈ 3 applies (10 ms) per turn; a turn's count may hold two slices (the counter and the runner
    // share the loop's check phase). Without the yields the 40 are applied in one turn.
    expect(Math.max(...appliedInTurn.values())).toBeLessThanOrEqual(8);
  });

  it('restarts every member from disk with the same state, after snapshots compacted the log', async () => {
    const network = new MemoryRaftNetwork();
    const members = await cluster(network, [1, 2, 3]);
    await until(() => leaderOf(members) !== undefined);
    for (let i = 0; i < 120; i++) await (leaderOf(members) as Member).runner.propose(put(`k${i % 7}`, `v${i}`));
    const expected = Object.fromEntries((leaderOf(members) as Member).sm.data);
    for (const r of runners.splice(0)) await r.stop();

    const network2 = new MemoryRaftNetwork();
    const restarted: Member[] = [];
    for (const m of members) restarted.push(await startMember(network2, m.id, m.dir, {}));
    await until(() => leaderOf(restarted) !== undefined);
    await (leaderOf(restarted) as Member).runner.propose(put('after', 'restart'));
    await until(() => restarted.every((m) => m.sm.data.get('after') === 'restart'));
    for (const m of restarted) expect(Object.fromEntries(m.sm.data)).toEqual({ ...expected, after: 'restart' });
  });

  it('snapshots by bytes as well as by entries, and keeps only so many bytes of log behind a snapshot', async () => {
    const network = new MemoryRaftNetwork();
    const dir = await newDir();
    // 20 KiB of entries trigger a snapshot long before 50 entries would; at most 5 KiB stay behind it.
    const member = await startMember(network, 1, dir, { bootstrap: true, snapshotEveryBytes: 20 * 1024, keptBytesAfterSnapshot: 5 * 1024 });
    await until(() => member.runner.isLeader);
    const value = 'x'.repeat(1024);
    for (let i = 0; i < 30; i++) await member.runner.propose(put(`k${i}`, value));
    const status = member.runner.status();
    expect(status.snapshotIndex).toBeGreaterThan(0);
    expect(status.applied).toBeLessThan(50);
    // Behind the snapshot: no more entries than fit in 5 KiB (each is a little over 1 KiB).
    expect(status.snapshotIndex - status.firstIndex + 1).toBeLessThanOrEqual(5);
    expect(status.firstIndex).toBeGreaterThan(1);
    // And the state survives a restart from that snapshot.
    await member.runner.stop();
    runners.splice(runners.indexOf(member.runner), 1);
    const restarted = await startMember(new MemoryRaftNetwork(), 1, dir, {});
    await until(() => restarted.runner.isLeader);
    expect(restarted.sm.data.size).toBe(30);
  });

  it('reports live followers as recently active at every moment, not only between two quorum checks', async () => {
    const network = new MemoryRaftNetwork();
    const members = await cluster(network, [1, 2, 3]);
    await until(() => leaderOf(members) !== undefined);
    const leader = leaderOf(members) as Member;
    await leader.runner.propose(put('k', 'v'));
    // The core clears its activity flags at each quorum check (every 100 ms here) and sets them again on
    // the next answer; sampled every 2 ms for a second, status() must never show a live follower inactive.
    let samples = 0;
    const inactive: string[] = [];
    const deadline = Date.now() + 1000;
    while (Date.now() < deadline) {
      for (const [id, progress] of leader.runner.status().progress ?? []) if (!progress.recentActive) inactive.push(`${id}@${samples}`);
      samples++;
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    expect(samples).toBeGreaterThan(100);
    expect(inactive).toEqual([]);
    // A member that stops is reported inactive within about an election timeout.
    const follower = members.find((m) => m !== leader) as Member;
    network.isolate(follower.id);
    await until(() => leader.runner.status().progress?.get(follower.id)?.recentActive === false, 2000);
  });

  it('encodes a snapshot beside the pipeline: writes commit meanwhile, and the snapshot lands at the index it was captured at', async () => {
    const network = new MemoryRaftNetwork();
    const dir = await newDir();
    const member = await startMember(network, 1, dir, { bootstrap: true });
    // The encoder of the first snapshot (due after 50 entries) waits, pausing, until the test lets it finish.
    let capturedAt: number | undefined;
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    let finished = false;
    const sm = member.sm;
    sm.captureSnapshot = () => {
      capturedAt ??= sm.appliedIndex;
      const bytes = new TextEncoder().encode(JSON.stringify([...sm.data]));
      return async (slice) => {
        while (!finished) {
          await Promise.race([released.then(() => (finished = true)), slice.pause()]);
        }
        return bytes;
      };
    };
    await until(() => member.runner.isLeader);
    const bootstrapSnapshot = member.runner.status().snapshotIndex;
    for (let i = 0; i < 50; i++) await member.runner.propose(put(`k${i}`, `v${i}`));
    await until(() => capturedAt !== undefined);
    // Encoding is under way and not done: more writes still commit and apply.
    for (let i = 50; i < 70; i++) await member.runner.propose(put(`k${i}`, `v${i}`));
    expect(member.runner.status().snapshotIndex).toBe(bootstrapSnapshot);
    expect(member.runner.status().applied).toBeGreaterThan(capturedAt ?? 0);
    release();
    await until(() => member.runner.status().snapshotIndex > bootstrapSnapshot);
    expect(member.runner.status().snapshotIndex).toBe(capturedAt);
    // A restart rebuilds everything from that snapshot plus the entries after it.
    await member.runner.stop();
    runners.splice(runners.indexOf(member.runner), 1);
    const restarted = await startMember(new MemoryRaftNetwork(), 1, dir, {});
    await until(() => restarted.runner.isLeader);
    expect(restarted.sm.data.size).toBe(70);
    expect(restarted.sm.data.get('k69')).toBe('v69');
  });

  it('adds a learner that catches up by snapshot, promotes it, and survives losing an original member', async () => {
    const network = new MemoryRaftNetwork();
    const members = await cluster(network, [1, 2, 3]);
    await until(() => leaderOf(members) !== undefined);
    for (let i = 0; i < 100; i++) await (leaderOf(members) as Member).runner.propose(put(`k${i % 5}`, `v${i}`));
    const leader = leaderOf(members) as Member;
    const joiner = await startMember(network, 4, await newDir(), { peers: [1, 2, 3] });
    await leader.runner.addLearner(4, 'mem-4');
    await until(() => joiner.sm.data.get('k4') === 'v99');
    await leader.runner.promoteLearner(4);
    expect(leader.runner.status().voters.sort()).toEqual([1, 2, 3, 4]);
    const victim = members.find((m) => m !== leader) as Member;
    network.isolate(victim.id);
    await leader.runner.propose(put('still', 'writable'));
    await until(() => joiner.sm.data.get('still') === 'writable');
  });

  it('removes a member: it is told, and the rest keep a quorum of their own', async () => {
    const network = new MemoryRaftNetwork();
    const members = await cluster(network, [1, 2, 3]);
    await until(() => leaderOf(members) !== undefined);
    const leader = leaderOf(members) as Member;
    const victim = members.find((m) => m !== leader) as Member;
    let removed = false;
    victim.runner.onRemoved(() => (removed = true));
    await leader.runner.removeMember(victim.id);
    await until(() => removed);
    expect(leader.runner.status().voters).not.toContain(victim.id);
    await expect(leader.runner.propose(put('after', 'removal'))).resolves.toBeUndefined();
  });

  it('transfers leadership to a chosen member', async () => {
    const network = new MemoryRaftNetwork();
    const members = await cluster(network, [1, 2, 3]);
    await until(() => leaderOf(members) !== undefined);
    const leader = leaderOf(members) as Member;
    const target = members.find((m) => m !== leader) as Member;
    await leader.runner.transferLeadership(target.id);
    await until(() => target.runner.isLeader);
    await expect(target.runner.propose(put('new', 'leader'))).resolves.toBeUndefined();
  });

  it('refuses proposals clearly when there is no quorum', async () => {
    const network = new MemoryRaftNetwork();
    const members = await cluster(network, [1, 2, 3]);
    await until(() => leaderOf(members) !== undefined);
    const leader = leaderOf(members) as Member;
    for (const m of members) if (m !== leader) network.isolate(m.id);
    // CheckQuorum makes the isolated leader step down; afterwards nobody accepts writes.
    await until(() => !leader.runner.isLeader);
    await expect(leader.runner.propose(put('x', 'y'))).rejects.toMatchObject({ code: 'Unavailable' });
  });

  it('forces a new one-member cluster from a survivor, keeping its data and shutting out the old members', async () => {
    const network = new MemoryRaftNetwork();
    const members = await cluster(network, [1, 2, 3]);
    await until(() => leaderOf(members) !== undefined);
    for (let i = 0; i < 75; i++) await (leaderOf(members) as Member).runner.propose(put(`k${i % 4}`, `v${i}`));
    await until(() => members.every((m) => m.sm.data.get('k2') === 'v74'));
    const expected = Object.fromEntries(members[0].sm.data);
    for (const r of runners.splice(0)) await r.stop();

    // Quorum is lost for good: only member 3 comes back, forced into a cluster of its own.
    const network2 = new MemoryRaftNetwork();
    const survivor = await startMember(network2, 3, members[2].dir, { forceNewCluster: true });
    await until(() => survivor.runner.isLeader);
    expect(Object.fromEntries(survivor.sm.data)).toEqual(expected);
    expect(survivor.runner.status().voters).toEqual([3]);
    await survivor.runner.propose(put('after', 'recovery'));

    // An old member restarted from its own disk cannot disturb it: its messages are ignored.
    const ghost = await startMember(network2, 1, members[0].dir, {});
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(survivor.runner.isLeader).toBe(true);
    await expect(survivor.runner.propose(put('still', 'leader'))).resolves.toBeUndefined();
    expect(ghost.sm.data.get('after')).toBeUndefined();

    // And the forced cluster restarts normally from its new state.
    await survivor.runner.stop();
    runners.splice(runners.indexOf(survivor.runner), 1);
    const again = await startMember(new MemoryRaftNetwork(), 3, members[2].dir, {});
    await until(() => again.runner.isLeader);
    expect(again.sm.data.get('still')).toBe('leader');
    expect(again.runner.status().voters).toEqual([3]);
  });
});
