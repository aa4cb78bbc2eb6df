/**
 * The dispatcher over real gRPC with mutual TLS: registration, heartbeat deadlines on a virtual clock,
 * leader-change grace, session messages driven by store changes, removal and authorization.
 */
import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { LEADER_ADDR_METADATA_KEY, NODE_REMOVED_METADATA_KEY } from '../../agent/api/dispatcher';
import { LEADERSHIP_CHANGE_MESSAGE } from '../../agent/manager/dispatcher';
import { makeCluster } from '../ca/fixtures';
import { description, eventually, type Harness, heartbeat, openSession, PERIOD, rawClient, serveDispatcher, startHarness } from './fixtures';

let harness: Harness | undefined;
const clients: grpc.Client[] = [];

afterEach(() => {
  for (const c of clients.splice(0)) c.close();
  harness?.close();
  harness = undefined;
});

async function setup(options: Parameters<typeof startHarness>[0] = {}): Promise<Harness> {
  harness = await startHarness(options);
  return harness;
}

function client(h: Harness, node: Parameters<typeof rawClient>[2], rootCaPem?: string): grpc.Client {
  const c = rawClient(h.tc, h.manager.addr, node, rootCaPem);
  clients.push(c);
  return c;
}

function isError(value: unknown): value is grpc.ServiceError {
  return value instanceof Error;
}

describe('dispatcher sessions', () => {
  it('makes a worker READY with its description and the address it connects from', async () => {
    const h = await setup();
    const worker = await h.addNode('worker');
    const session = openSession(client(h, worker), description('alpha'));
    const first = await session.message(0);
    expect(first).toMatchObject({ heartbeatPeriodMs: PERIOD, role: 'worker', managers: [] });
    expect(first.sessionId).toMatch(/^[0-9a-z]{25}$/);
    // The first message is sent only once READY is committed.
    const node = h.store.get('node', worker.nodeId);
    expect(node?.status).toEqual({ state: 'ready', message: '', addr: '127.0.0.1' });
    expect(node?.description).toEqual(description('alpha'));
    expect(h.dispatcher.sessionCount).toBe(1);
  });

  it('accepts a manager certificate too', async () => {
    const h = await setup();
    const manager = await h.addNode('manager');
    const first = await openSession(client(h, manager), description('m1')).message(0);
    expect(first.role).toBe('manager');
    expect(h.store.get('node', manager.nodeId)?.status.state).toBe('ready');
  });

  it('keeps a heartbeating node READY, marks it DOWN after three missed periods, READY again when it returns', async () => {
    const h = await setup();
    const worker = await h.addNode('worker');
    const c = client(h, worker);
    const session = openSession(c, description('alpha'));
    const { sessionId } = await session.message(0);

    for (let i = 0; i < 5; i++) {
      h.clock.advance(2 * PERIOD);
      expect(await heartbeat(c, sessionId)).toEqual({ periodMs: PERIOD });
    }
    await h.dispatcher.settled();
    expect(h.store.get('node', worker.nodeId)?.status.state).toBe('ready');

    h.clock.advance(3 * PERIOD - 1);
    await h.dispatcher.settled();
    expect(h.store.get('node', worker.nodeId)?.status.state).toBe('ready');
    h.clock.advance(1);
    const ended = await session.ended;
    expect(ended.code).toBe(grpc.status.UNAVAILABLE);
    await eventually(() => expect(h.store.get('node', worker.nodeId)?.status.state).toBe('down'));
    expect(h.store.get('node', worker.nodeId)?.status.message).toBe('heartbeat failure: no heartbeat for 15s (3 heartbeat periods)');

    const stale = await heartbeat(c, sessionId);
    expect(isError(stale) && stale.code).toBe(grpc.status.NOT_FOUND);

    const again = openSession(c, description('alpha'));
    const next = await again.message(0);
    expect(next.sessionId).not.toBe(sessionId);
    expect(h.store.get('node', worker.nodeId)?.status).toEqual({ state: 'ready', message: '', addr: '127.0.0.1' });
  });

  it('answers heartbeats with the cluster period and tells sessions when it changes', async () => {
    const h = await setup();
    const worker = await h.addNode('worker');
    const c = client(h, worker);
    const session = openSession(c, description('alpha'));
    const { sessionId } = await session.message(0);
    const cluster = h.store.view((tx) => tx.list('cluster')[0]);
    await h.store.updateObject('cluster', { ...cluster, spec: { ...cluster.spec, dispatcher: { heartbeatPeriodMs: 2000 } } });
    expect(await session.message(1)).toMatchObject({ sessionId, heartbeatPeriodMs: 2000 });
    expect(await heartbeat(c, sessionId)).toEqual({ periodMs: 2000 });
    // The deadline follows the new period: 3 × 2 s.
    h.clock.advance(6000);
    await eventually(() => expect(h.store.get('node', worker.nodeId)?.status.state).toBe('down'));
  });

  it('sends a new message when the role or the manager set changes, and none for status writes', async () => {
    const h = await setup();
    const worker = await h.addNode('worker');
    const other = await h.addNode('worker');
    const session = openSession(client(h, worker), description('alpha'));
    await session.message(0);

    // Another node's status change (its registration) is no news to this node.
    await openSession(client(h, other), description('beta')).message(0);
    await h.dispatcher.settled();

    const node = h.store.get('node', worker.nodeId);
    if (node === undefined) throw new Error('node missing');
    await h.store.updateObject('node', { ...node, role: 'manager', spec: { ...node.spec, role: 'manager' } });
    expect((await session.message(1)).role).toBe('manager');

    const peer = h.store.get('node', other.nodeId);
    if (peer === undefined) throw new Error('node missing');
    await h.store.updateObject('node', {
      ...peer,
      role: 'manager',
      managerStatus: { raftId: 2, addr: '10.0.0.2:4242', leader: false, reachability: 'reachable' },
    });
    expect((await session.message(2)).managers).toEqual([{ nodeId: other.nodeId, addr: '10.0.0.2:4242' }]);

    const current = h.store.get('node', other.nodeId);
    if (current === undefined) throw new Error('node missing');
    await h.store.updateObject('node', { ...current, spec: { ...current.spec, labels: { x: 'y' } } });
    await h.dispatcher.settled();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(session.messages).toHaveLength(3);
  });

  it('refuses a node whose object is gone with PERMISSION_DENIED "removed", and ends the session of a node removed later', async () => {
    const h = await setup();
    const ghost = await h.tc.issue('worker');
    const refused = await openSession(client(h, ghost), description('ghost')).ended;
    expect(refused.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(refused.details).toBe(`node ${ghost.nodeId} was removed from the cluster`);
    expect(refused.metadata.get(NODE_REMOVED_METADATA_KEY)).toEqual([ghost.nodeId]);

    const worker = await h.addNode('worker');
    const c = client(h, worker);
    const session = openSession(c, description('alpha'));
    const { sessionId } = await session.message(0);
    await h.store.deleteObject('node', worker.nodeId);
    const ended = await session.ended;
    expect(ended.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(ended.details).toBe(`node ${worker.nodeId} was removed from the cluster`);
    const hb = await heartbeat(c, sessionId);
    expect(isError(hb) && hb.code).toBe(grpc.status.NOT_FOUND);
  });

  it('refuses callers without a node certificate of this cluster', async () => {
    const h = await setup();
    const anonymous = await openSession(client(h, undefined), description('anon')).ended;
    expect(anonymous.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(anonymous.details).toMatch(/needs a worker or manager certificate/);

    // Another cluster's CA: the TLS session is unauthorized, so the caller counts as anonymous.
    const foreign = await makeCluster();
    const stranger = await foreign.issue('worker');
    const foreignResult = await openSession(client(h, stranger), description('stranger')).ended;
    expect(foreignResult.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(foreignResult.metadata.get(NODE_REMOVED_METADATA_KEY)).toEqual([]);

    // Our root but another cluster ID: this node has no place here, it is told it was removed.
    const otherCluster = await h.tc.issue('worker', { clusterId: 'someothercluster000000001' });
    const wrong = await openSession(client(h, otherCluster), description('x')).ended;
    expect(wrong.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(wrong.details).toBe(`node ${otherCluster.nodeId} was removed from the cluster`);
    expect(wrong.metadata.get(NODE_REMOVED_METADATA_KEY)).toEqual([otherCluster.nodeId]);
  });

  it('rejects a malformed description with INVALID_ARGUMENT', async () => {
    const h = await setup();
    const worker = await h.addNode('worker');
    const bad = { ...description('x'), resources: { nanoCpus: -1, memoryBytes: 1 } };
    const ended = await openSession(client(h, worker), bad).ended;
    expect(ended.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(ended.details).toMatch(/description\.resources\.nanoCpus/);
    expect(h.store.get('node', worker.nodeId)?.status.state).toBe('unknown');
  });

  it('replaces an older session of the same node', async () => {
    const h = await setup();
    const worker = await h.addNode('worker');
    const c = client(h, worker);
    const first = openSession(c, description('alpha'));
    const { sessionId: old } = await first.message(0);
    const second = openSession(c, description('alpha'));
    const { sessionId } = await second.message(0);
    expect((await first.ended).code).toBe(grpc.status.UNAVAILABLE);
    const stale = await heartbeat(c, old);
    expect(isError(stale) && stale.code).toBe(grpc.status.NOT_FOUND);
    expect(await heartbeat(c, sessionId)).toEqual({ periodMs: PERIOD });
  });
});

describe('leadership', () => {
  it('moves nodes to UNKNOWN on start and gives them six periods before DOWN; DOWN nodes stay DOWN', async () => {
    const h = await setup({ start: false });
    const a = await h.addNode('worker', 'ready');
    const b = await h.addNode('worker', 'ready');
    const gone = await h.addNode('worker', 'down');
    await h.dispatcher.start();
    for (const n of [a, b]) {
      expect(h.store.get('node', n.nodeId)?.status).toMatchObject({ state: 'unknown', message: LEADERSHIP_CHANGE_MESSAGE });
    }
    expect(h.store.get('node', gone.nodeId)?.status.state).toBe('down');

    // Three periods would bring a registered node down; an unknown one is still waiting.
    h.clock.advance(3 * PERIOD);
    await h.dispatcher.settled();
    expect(h.store.get('node', b.nodeId)?.status.state).toBe('unknown');

    const c = client(h, a);
    const { sessionId } = await openSession(c, description('a')).message(0);
    expect(h.store.get('node', a.nodeId)?.status.state).toBe('ready');
    h.clock.advance(2 * PERIOD);
    expect(await heartbeat(c, sessionId)).toEqual({ periodMs: PERIOD });

    h.clock.advance(PERIOD - 1);
    await h.dispatcher.settled();
    expect(h.store.get('node', b.nodeId)?.status.state).toBe('unknown');
    h.clock.advance(1);
    await eventually(() => expect(h.store.get('node', b.nodeId)?.status.state).toBe('down'));
    expect(h.store.get('node', b.nodeId)?.status.message).toBe(
      'heartbeat failure for node in "unknown" state: no session within 30s of the leadership change',
    );
    expect(h.store.get('node', a.nodeId)?.status.state).toBe('ready');
  });

  it('closes every session with UNAVAILABLE on stop, then answers as a follower', async () => {
    const h = await setup();
    const worker = await h.addNode('worker');
    const c = client(h, worker);
    const session = openSession(c, description('alpha'));
    const { sessionId } = await session.message(0);
    h.dispatcher.stop();
    expect((await session.ended).code).toBe(grpc.status.UNAVAILABLE);
    const hb = await heartbeat(c, sessionId);
    expect(isError(hb) && hb.code).toBe(grpc.status.UNAVAILABLE);
    // No timers survive a stop: a later clock jump marks nobody down.
    h.clock.advance(100 * PERIOD);
    expect(h.clock.pending).toBe(0);
  });

  it('redirects nodes from a follower to the leader through trailing metadata', async () => {
    const h = await setup();
    const follower = await serveDispatcher(h.tc, { dispatcher: () => undefined, leaderAddress: () => h.manager.addr });
    const unknownLeader = await serveDispatcher(h.tc, { dispatcher: () => undefined });
    try {
      const worker = await h.addNode('worker');
      const viaFollower = rawClient(h.tc, follower.addr, worker);
      clients.push(viaFollower);
      const ended = await openSession(viaFollower, description('alpha')).ended;
      expect(ended.code).toBe(grpc.status.UNAVAILABLE);
      expect(ended.metadata.get(LEADER_ADDR_METADATA_KEY)).toEqual([h.manager.addr]);
      const hb = await heartbeat(viaFollower, 'whatever');
      expect(isError(hb) && hb.metadata.get(LEADER_ADDR_METADATA_KEY)).toEqual([h.manager.addr]);

      const noLeader = rawClient(h.tc, unknownLeader.addr, worker);
      clients.push(noLeader);
      const none = await openSession(noLeader, description('alpha')).ended;
      expect(none.code).toBe(grpc.status.UNAVAILABLE);
      expect(none.metadata.get(LEADER_ADDR_METADATA_KEY)).toEqual([]);
    } finally {
      follower.close();
      unknownLeader.close();
    }
  });
});
