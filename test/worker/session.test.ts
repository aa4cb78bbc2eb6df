/**
 * A node's DispatcherSession against real dispatcher services over mutual TLS. Both sides run on
 * virtual clocks: the test decides when heartbeats are due and when deadlines pass, and waits (in real
 * time) only for network round trips to land.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { SessionMessage } from '../../agent/api/dispatcher';
import { clientCredentials, managerChannelOptions } from '../../agent/ca';
import { Dispatcher } from '../../agent/manager/dispatcher';
import { Backoff, jitteredHeartbeatMs } from '../../agent/worker/backoff';
import { DispatcherSession, type DispatcherSessionOptions } from '../../agent/worker/session';
import type { IssuedNode } from '../ca/fixtures';
import { description, eventually, type Harness, PERIOD, serveDispatcher, type ServedManager, startHarness } from '../dispatcher/fixtures';
import { FakeClock } from '../support/fake-clock';

interface NodeUnderTest {
  session: DispatcherSession;
  clock: FakeClock;
  messages: SessionMessage[];
  removed: string[];
  credentialReads(): number;
}

const cleanups: (() => unknown)[] = [];

afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function harness(options: Parameters<typeof startHarness>[0] = {}): Promise<Harness> {
  const h = await startHarness(options);
  cleanups.push(() => h.close());
  return h;
}

function startNode(h: Harness, node: IssuedNode, managers: () => string[], extra: Partial<DispatcherSessionOptions> = {}): NodeUnderTest {
  const clock = new FakeClock();
  const messages: SessionMessage[] = [];
  const removed: string[] = [];
  let reads = 0;
  const session = new DispatcherSession({
    managers,
    credentials: () => {
      reads++;
      return clientCredentials({ rootCaPem: h.tc.rootCa.certPem, certPem: node.certPem, keyPem: node.keyPem });
    },
    channelOptions: managerChannelOptions,
    description: () => Promise.resolve(description('alpha')),
    onMessage: (m) => messages.push(m),
    onRemoved: (reason) => removed.push(reason),
    clock,
    random: () => 0.5,
    ...extra,
  });
  session.start();
  cleanups.push(() => session.stop());
  return { session, clock, messages, removed, credentialReads: () => reads };
}

function serve(h: Harness, options: Parameters<typeof serveDispatcher>[1]): Promise<ServedManager> {
  return serveDispatcher(h.tc, options).then((served) => {
    cleanups.push(() => served.close());
    return served;
  });
}

describe('DispatcherSession', () => {
  it('opens a session that makes the node READY and delivers the first message', async () => {
    const h = await harness();
    const worker = await h.addNode('worker');
    const n = startNode(h, worker, () => [h.manager.addr]);
    await eventually(() => expect(n.messages).toHaveLength(1));
    expect(n.messages[0]).toMatchObject({ role: 'worker', heartbeatPeriodMs: PERIOD });
    expect(n.session.manager).toBe(h.manager.addr);
    expect(n.session.sessionId).toBe(n.messages[0].sessionId);
    expect(h.store.get('node', worker.nodeId)?.status).toEqual({ state: 'ready', message: '', addr: '127.0.0.1' });
    expect(h.store.get('node', worker.nodeId)?.description).toEqual(description('alpha'));
    expect(n.credentialReads()).toBe(1);
  });

  it('heartbeats every period to stay READY; DOWN once it stops, READY when it comes back', async () => {
    const h = await harness();
    const worker = await h.addNode('worker');
    const n = startNode(h, worker, () => [h.manager.addr]);
    await eventually(() => expect(n.messages).toHaveLength(1));
    // random() = 0.5 means no jitter: exactly one heartbeat timer, one period away.
    expect(n.clock.pendingDelays()).toEqual([PERIOD]);

    for (let i = 1; i <= 6; i++) {
      h.clock.advance(PERIOD);
      n.clock.advance(PERIOD);
      await eventually(() => expect(n.session.heartbeats).toBe(i));
    }
    await h.dispatcher.settled();
    expect(h.store.get('node', worker.nodeId)?.status.state).toBe('ready');

    await n.session.stop();
    h.clock.advance(3 * PERIOD);
    await eventually(() => expect(h.store.get('node', worker.nodeId)?.status.state).toBe('down'));
    expect(h.store.get('node', worker.nodeId)?.status.message).toMatch(/^heartbeat failure/);

    const back = startNode(h, worker, () => [h.manager.addr]);
    await eventually(() => expect(back.messages).toHaveLength(1));
    expect(h.store.get('node', worker.nodeId)?.status).toEqual({ state: 'ready', message: '', addr: '127.0.0.1' });
  });

  it('jitters heartbeats by up to a quarter period either way', async () => {
    expect(jitteredHeartbeatMs(4000, () => 0)).toBe(3000);
    expect(jitteredHeartbeatMs(4000, () => 0.5)).toBe(4000);
    expect(jitteredHeartbeatMs(4000, () => 0.999999)).toBe(5000);
    const h = await harness();
    const worker = await h.addNode('worker');
    const n = startNode(h, worker, () => [h.manager.addr], { random: () => 0 });
    await eventually(() => expect(n.messages).toHaveLength(1));
    expect(n.clock.pendingDelays()).toEqual([0.75 * PERIOD]);
  });

  it('follows a follower\'s leader hint straight to the leader', async () => {
    const h = await harness();
    const follower = await serve(h, { dispatcher: () => undefined, leaderAddress: () => h.manager.addr });
    const worker = await h.addNode('worker');
    const n = startNode(h, worker, () => [follower.addr]);
    await eventually(() => expect(n.messages).toHaveLength(1));
    expect(n.session.manager).toBe(h.manager.addr);
    expect(n.session.attempts).toBe(2);
    // No backoff was needed: the virtual clock was never advanced.
    expect(h.store.get('node', worker.nodeId)?.status.state).toBe('ready');
  });

  it('moves to the new leader when leadership changes', async () => {
    const h = await harness({ start: false });
    const worker = await h.addNode('worker');
    let leader: 'A' | 'B' = 'A';
    const dA = new Dispatcher({ store: h.store, clock: h.clock });
    const dB = new Dispatcher({ store: h.store, clock: h.clock });
    cleanups.push(() => dA.stop(), () => dB.stop());
    const addrs: { A?: string; B?: string } = {};
    const a = await serve(h, { dispatcher: () => dA, leaderAddress: () => (leader === 'B' ? addrs.B : undefined) });
    const b = await serve(h, { dispatcher: () => dB, leaderAddress: () => (leader === 'A' ? addrs.A : undefined) });
    addrs.A = a.addr;
    addrs.B = b.addr;
    await dA.start();

    const n = startNode(h, worker, () => [a.addr, b.addr]);
    await eventually(() => expect(n.session.manager).toBe(a.addr));

    leader = 'B';
    await dB.start();
    expect(h.store.get('node', worker.nodeId)?.status.state).toBe('unknown');
    dA.stop();
    await eventually(() => expect(n.session.manager).toBe(b.addr));
    expect(n.messages).toHaveLength(2);
    expect(n.messages[1].sessionId).not.toBe(n.messages[0].sessionId);
    await eventually(() => expect(h.store.get('node', worker.nodeId)?.status.state).toBe('ready'));
    expect(n.credentialReads()).toBe(n.session.attempts);
  });

  it('calls onRemoved and stops for good when the node is not in the cluster', async () => {
    const h = await harness();
    const ghost = await h.tc.issue('worker');
    const n = startNode(h, ghost, () => [h.manager.addr]);
    await eventually(() => expect(n.removed).toEqual([`node ${ghost.nodeId} was removed from the cluster`]));
    await n.session.stop();
    expect(n.session.attempts).toBe(1);
    expect(n.clock.pending).toBe(0);
  });

  it('calls onRemoved when the node is removed while its session is open', async () => {
    const h = await harness();
    const worker = await h.addNode('worker');
    const n = startNode(h, worker, () => [h.manager.addr]);
    await eventually(() => expect(n.messages).toHaveLength(1));
    await h.store.deleteObject('node', worker.nodeId);
    await eventually(() => expect(n.removed).toEqual([`node ${worker.nodeId} was removed from the cluster`]));
    expect(n.session.manager).toBeUndefined();
  });

  it('backs off exponentially with jitter, capped, while no manager answers', async () => {
    const h = await harness();
    const worker = await h.addNode('worker');
    // Nothing listens on port 1: every attempt fails at once with UNAVAILABLE.
    const n = startNode(h, worker, () => ['127.0.0.1:1'], { random: () => 0.999999 });
    const ceilings = [100, 300, 700, 1500, 3100, 6300, 8000, 8000];
    for (const [i, ceiling] of ceilings.entries()) {
      await eventually(() => expect(n.clock.pendingDelays()).toEqual([ceiling - 1]));
      expect(n.session.attempts).toBe(i + 1);
      n.clock.advance(ceiling - 1);
    }
  });

  it('uses the managers it learns from session messages', async () => {
    const h = await harness();
    const worker = await h.addNode('worker');
    const other = await h.addNode('manager');
    const peer = h.store.get('node', other.nodeId);
    if (peer === undefined) throw new Error('missing');
    await h.store.updateObject('node', {
      ...peer,
      managerStatus: { raftId: 1, addr: h.manager.addr, leader: true, reachability: 'reachable' },
    });
    const n = startNode(h, worker, () => [h.manager.addr]);
    await eventually(() => expect(n.session.knownManagers).toEqual([h.manager.addr]));
  });
});

describe('Backoff', () => {
  it('grows as initial + 2 × previous up to the cap, and starts over after reset', () => {
    const b = new Backoff(() => 0.999999, 100, 1000);
    expect([b.next(), b.next(), b.next(), b.next()]).toEqual([99, 299, 699, 999]);
    b.reset();
    expect(b.next()).toBe(99);
    const zero = new Backoff(() => 0);
    expect(zero.next()).toBe(0);
  });
});
