/**
 * Node registration rate limiting (SwarmKit's CheckRateLimit: 3 registrations, 8 s): the limiter alone
 * on a virtual clock, the dispatcher refusing a flapping node over gRPC with UNAVAILABLE, and a node's
 * DispatcherSession whose sessions flap backing off further each time instead of re-registering in a
 * tight loop.
 */
import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { clientCredentials, managerChannelOptions } from '../../agent/ca';
import { ApiError } from '../../agent/api/errors';
import { LEADER_ADDR_METADATA_KEY } from '../../agent/api/dispatcher';
import { RegistrationLimiter } from '../../agent/manager/dispatcher';
import { DispatcherSession } from '../../agent/worker/session';
import { FakeClock } from '../support/fake-clock';
import { description, eventually, type Harness, openSession, PERIOD, rawClient, startHarness } from './fixtures';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function harness(): Promise<Harness> {
  const h = await startHarness();
  cleanups.push(() => h.close());
  return h;
}

function refused(fn: () => void): ApiError | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  return undefined;
}

describe('RegistrationLimiter', () => {
  it('admits 3 registrations in a row within 8 s and refuses a 4th with UNAVAILABLE', () => {
    const clock = new FakeClock();
    const limiter = new RegistrationLimiter(clock);
    for (let i = 0; i < 3; i++) {
      limiter.admit('n1');
      clock.advance(2000);
    }
    const err = refused(() => limiter.admit('n1'));
    expect(err?.code).toBe('Unavailable');
    expect(err?.message).toBe('node n1 exceeded rate limit count of registrations');
    // Another node is not affected.
    expect(refused(() => limiter.admit('n2'))).toBeUndefined();
  });

  it('starts the count over once 8 s passed since the last accepted registration; refusals do not move that', () => {
    const clock = new FakeClock();
    const limiter = new RegistrationLimiter(clock);
    for (let i = 0; i < 3; i++) limiter.admit('n1');
    clock.advance(5000);
    expect(refused(() => limiter.admit('n1'))).toBeDefined();
    clock.advance(3000); // 8 s after the last accepted one: still within the period
    expect(refused(() => limiter.admit('n1'))).toBeDefined();
    clock.advance(1);
    expect(refused(() => limiter.admit('n1'))).toBeUndefined();
  });

  it('never limits registrations spaced more than the period apart', () => {
    const clock = new FakeClock();
    const limiter = new RegistrationLimiter(clock, { count: 3, periodMs: 8000 });
    for (let i = 0; i < 20; i++) {
      expect(refused(() => limiter.admit('n1'))).toBeUndefined();
      clock.advance(8001);
    }
  });
});

describe('the dispatcher refuses a node that re-registers too often', () => {
  it('the 4th session within 8 s ends with UNAVAILABLE (no leader hint); after 8 s the node gets in again', async () => {
    const h = await harness();
    const worker = await h.addNode('worker');
    const client = rawClient(h.tc, h.manager.addr, worker);
    cleanups.push(() => client.close());
    for (let i = 0; i < 3; i++) {
      const session = openSession(client, description('alpha'));
      await session.message(0);
      session.cancel();
    }
    const fourth = openSession(client, description('alpha'));
    const ended = await fourth.ended;
    expect(ended.code).toBe(grpc.status.UNAVAILABLE);
    expect(ended.details).toBe(`node ${worker.nodeId} exceeded rate limit count of registrations`);
    expect(ended.metadata.get(LEADER_ADDR_METADATA_KEY)).toEqual([]);
    expect(fourth.messages).toHaveLength(0);

    h.clock.advance(8001);
    const fifth = openSession(client, description('alpha'));
    expect((await fifth.message(0)).sessionId).not.toBe('');
    fifth.cancel();
  });
});

describe('a node whose sessions flap', () => {
  it('backs off further after each flap (jittered), and the rate limit stops it registering a 4th time in 8 s', async () => {
    const h = await harness();
    const worker = await h.addNode('worker');
    const clock = new FakeClock();
    let established = 0;
    const session = new DispatcherSession({
      managers: () => [h.manager.addr],
      credentials: () => clientCredentials({ rootCaPem: h.tc.rootCa.certPem, certPem: worker.certPem, keyPem: worker.keyPem }),
      channelOptions: managerChannelOptions,
      description: () => Promise.resolve(description('alpha')),
      // The session breaks as soon as it opens (e.g. its task stream fails at once).
      onEstablished: (link) => {
        established++;
        link.fail('flapping');
      },
      clock,
      random: () => 0.999999,
    });
    session.start();
    cleanups.push(() => session.stop());

    // Three registrations go through, each followed by a longer wait: 100, 300, 700 ms ceilings.
    const ceilings = [100, 300, 700, 1500, 3100];
    for (const [i, ceiling] of ceilings.entries()) {
      await eventually(() => expect(clock.pendingDelays()).toEqual([ceiling - 1]));
      expect(session.attempts).toBe(i + 1);
      clock.advance(ceiling - 1);
    }
    // Attempts 4 and 5 came within the dispatcher's 8 s (its clock has not moved) and were refused.
    expect(established).toBe(3);
    expect(h.store.get('node', worker.nodeId)?.status.state).toBe('ready');
    // Once the period has passed on the dispatcher's clock, the node registers again.
    h.clock.advance(8001);
    clock.advance(6299);
    await eventually(() => expect(established).toBe(4));
  });

  it('starts the backoff over once a session has had a heartbeat answered', async () => {
    const h = await harness();
    const worker = await h.addNode('worker');
    const clock = new FakeClock();
    let dials = 0;
    const session = new DispatcherSession({
      // Three dials to nowhere first, so the backoff has grown before the session opens.
      managers: () => (++dials <= 3 ? ['127.0.0.1:1'] : [h.manager.addr]),
      credentials: () => clientCredentials({ rootCaPem: h.tc.rootCa.certPem, certPem: worker.certPem, keyPem: worker.keyPem }),
      channelOptions: managerChannelOptions,
      description: () => Promise.resolve(description('alpha')),
      clock,
      random: () => 0.999999,
    });
    session.start();
    cleanups.push(() => session.stop());
    for (const ceiling of [100, 300, 700]) {
      await eventually(() => expect(clock.pendingDelays()).toEqual([ceiling - 1]));
      clock.advance(ceiling - 1);
    }
    await eventually(() => expect(session.sessionId).toBeDefined());
    clock.advance(PERIOD * 1.25);
    await eventually(() => expect(session.heartbeats).toBe(1));
    h.dispatcher.stop();
    // The failure after a proven session waits from the first ceiling, not the 4th (1500 ms).
    await eventually(() => expect(clock.pendingDelays()).toEqual([99]));
  });
});
