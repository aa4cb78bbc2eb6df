import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RaftRunner } from '../../agent/raft/runner';
import { NodeFs } from '../../agent/raft/storage/fs';
import { DurableRaftStorage } from '../../agent/raft/storage/raft-storage';
import { MemoryRaftNetwork } from '../../agent/raft/transport/memory-transport';
import { type ChangeEvent, MemoryStore, ApiError } from '../../agent/store';
import type { Proposer } from '../../agent/raft/state-machine';
import { service } from './fixtures';

/** The store on three real raft members (WAL on disk, in-process network): what every manager runs. */
interface Manager {
  runner: RaftRunner;
  store: MemoryStore;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

async function until(predicate: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function managers(count: number): Promise<Manager[]> {
  const network = new MemoryRaftNetwork();
  const ids = Array.from({ length: count }, (_, i) => i + 1);
  const out: Manager[] = [];
  for (const id of ids) {
    const dir = await mkdtemp(join(tmpdir(), 'swarmdesk-replicated-store-'));
    const { storage, state } = await DurableRaftStorage.open(dir, new NodeFs());
    // The store needs its proposer before the runner (which needs the store) exists.
    const late: { runner?: RaftRunner } = {};
    const proposer: Proposer = {
      propose: (data, signal) => (late.runner as RaftRunner).propose(data, signal),
      linearizableBarrier: (signal) => (late.runner as RaftRunner).linearizableBarrier(signal),
    };
    const store = new MemoryStore(proposer);
    const runner = await RaftRunner.start({
      id,
      address: `m${id}`,
      durable: storage,
      restored: state,
      transport: network.transport(id),
      stateMachine: store,
      bootstrap: true,
      peers: new Map(ids.filter((p) => p !== id).map((p) => [p, `m${p}`])),
      tickMs: 10,
    });
    late.runner = runner;
    cleanups.push(async () => {
      await runner.stop();
      await rm(dir, { recursive: true, force: true });
    });
    out.push({ runner, store });
  }
  await until(() => out.some((m) => m.runner.isLeader));
  return out;
}

describe('the store replicated by raft', () => {
  it('applies a transaction as one entry on every manager, with the same version everywhere', async () => {
    const all = await managers(3);
    const leader = all.find((m) => m.runner.isLeader) as Manager;
    const followerEvents: ChangeEvent[] = [];
    const follower = all.find((m) => m !== leader) as Manager;
    follower.store.subscribe({ kinds: ['service'] }, (event) => {
      if (event.type === 'change') followerEvents.push(event);
    });
    const before = leader.runner.status().commit;
    const result = await leader.store.update((tx) => {
      tx.create('service', service('svc-web', 'web', 3));
      tx.create('service', service('svc-db', 'db', 1));
    });
    // One transaction, one raft entry.
    expect(leader.runner.status().commit).toBe(before + 1);
    expect(result.version).toBe(before + 1);
    await until(() => all.every((m) => m.store.get('service', 'svc-db') !== undefined));
    for (const m of all) {
      expect(m.store.get('service', 'svc-web')?.meta.version).toBe(result.version);
      expect(m.store.view((tx) => tx.getByName('service', 'db')?.id)).toBe('svc-db');
    }
    await until(() => followerEvents.length === 2);
    expect(followerEvents.map((e) => [e.action, e.object.id])).toEqual([
      ['create', 'svc-web'],
      ['create', 'svc-db'],
    ]);
  });

  it('refuses a stale update made on another manager with a conflict, and changes nothing', async () => {
    const all = await managers(3);
    const leader = all.find((m) => m.runner.isLeader) as Manager;
    const follower = all.find((m) => m !== leader) as Manager;
    await leader.store.createObject('service', service('svc-api', 'api', 1));
    await until(() => follower.store.get('service', 'svc-api') !== undefined);
    const stale = follower.store.get('service', 'svc-api');
    if (!stale) throw new Error('missing');

    // The leader moves the object on first; the follower's write still carries the old version.
    await leader.store.update((tx) => {
      const current = tx.get('service', 'svc-api');
      if (current) tx.update('service', { ...current, spec: { ...current.spec, labels: { tier: 'gold' } } });
    });
    const conflicting = follower.store.updateObject('service', { ...stale, spec: { ...stale.spec, labels: { tier: 'tin' } } });
    await expect(conflicting).rejects.toBeInstanceOf(ApiError);
    await expect(conflicting).rejects.toMatchObject({ code: 'Conflict' });
    await until(() => all.every((m) => m.store.get('service', 'svc-api')?.spec.labels.tier === 'gold'));
  });

  it('serves linearizable reads on a follower: it sees a write the leader just acknowledged', async () => {
    const all = await managers(3);
    const leader = all.find((m) => m.runner.isLeader) as Manager;
    const follower = all.find((m) => m !== leader) as Manager;
    for (let i = 0; i < 10; i++) {
      await leader.store.createObject('service', service(`svc-${i}`, `s${i}`, 1));
      const seen = await follower.store.linearizableView((tx) => tx.get('service', `svc-${i}`)?.spec.name);
      expect(seen).toBe(`s${i}`);
    }
  });
});
