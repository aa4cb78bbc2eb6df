/**
 * Store cost of the dispatcher, counted in store versions (one per Raft entry): bursts of state
 * changes share entries, heartbeats and no-op re-registrations write nothing. Driven through the
 * Dispatcher's own API (no gRPC) so a hundred nodes take milliseconds.
 */
import { describe, expect, it } from 'vitest';
import type { SessionMessage } from '../../agent/api/dispatcher';
import type { ApiError } from '../../agent/api/errors';
import { Dispatcher, type SessionSink } from '../../agent/manager/dispatcher';
import { createLocalStore, type MemoryStore } from '../../agent/store';
import { cluster, node } from '../store/fixtures';
import { FakeClock } from '../support/fake-clock';
import { description, PERIOD } from './fixtures';

const N = 100;

class RecordingSink implements SessionSink {
  readonly messages: SessionMessage[] = [];
  closedWith: ApiError | undefined;
  send(message: SessionMessage): void {
    this.messages.push(message);
  }
  close(error: ApiError): void {
    this.closedWith ??= error;
  }
}

async function seeded(): Promise<{ store: MemoryStore; ids: string[] }> {
  const { store } = createLocalStore();
  const ids = Array.from({ length: N }, (_, i) => `node${String(i).padStart(21, '0')}`);
  await store.update((tx) => {
    tx.create('cluster', cluster('cluster0000000000000000001'));
    for (const id of ids) {
      const { description: _d, ...obj } = node(id, id);
      tx.create('node', { ...obj, status: { state: 'down', message: '', addr: '' } });
    }
  });
  return { store, ids };
}

describe('dispatcher store writes', () => {
  it('writes a hundred registrations as one entry, heartbeats as none, a hundred expiries as one entry', async () => {
    const { store, ids } = await seeded();
    const clock = new FakeClock();
    const dispatcher = new Dispatcher({ store, clock });
    await dispatcher.start(); // every node is down: nothing to mark unknown
    const v0 = store.version;

    const sinks = ids.map(() => new RecordingSink());
    const sessions = await Promise.all(
      ids.map((id, i) => dispatcher.openSession({ nodeId: id, description: description(id), addr: '10.0.0.9' }, sinks[i])),
    );
    expect(store.version - v0).toBe(1);
    expect(store.view((tx) => tx.list('node').filter((n) => n.status.state === 'ready').length)).toBe(N);
    expect(sinks.every((s) => s.messages.length === 1)).toBe(true);

    const v1 = store.version;
    for (let round = 0; round < 10; round++) {
      clock.advance(PERIOD);
      ids.forEach((id, i) => expect(dispatcher.heartbeat(id, sessions[i].sessionId)).toEqual({ periodMs: PERIOD }));
    }
    await dispatcher.settled();
    expect(store.version).toBe(v1);

    clock.advance(3 * PERIOD);
    await dispatcher.settled();
    expect(store.version - v1).toBe(1);
    expect(store.view((tx) => tx.list('node').every((n) => n.status.state === 'down'))).toBe(true);
    expect(sinks.every((s) => s.closedWith?.code === 'Unavailable')).toBe(true);
    dispatcher.stop();
  });

  it('writes nothing when a READY node re-registers with the same description and address', async () => {
    const { store, ids } = await seeded();
    const dispatcher = new Dispatcher({ store, clock: new FakeClock() });
    await dispatcher.start();
    const reg = { nodeId: ids[0], description: description('same'), addr: '10.0.0.9' };
    await dispatcher.openSession(reg, new RecordingSink());
    const v = store.version;
    await dispatcher.openSession(reg, new RecordingSink());
    expect(store.version).toBe(v);
    await dispatcher.openSession({ ...reg, addr: '10.0.0.10' }, new RecordingSink());
    expect(store.version).toBe(v + 1);
    dispatcher.stop();
  });

  it('marks all live nodes unknown in one entry when it becomes leader', async () => {
    const { store, ids } = await seeded();
    await store.batch((b) => {
      for (const id of ids) {
        b.update((tx) => {
          const n = tx.get('node', id);
          if (n !== undefined) tx.update('node', { ...n, status: { ...n.status, state: 'ready' } });
        });
      }
    });
    const v = store.version;
    const dispatcher = new Dispatcher({ store, clock: new FakeClock() });
    await dispatcher.start();
    expect(store.version - v).toBe(1);
    expect(store.view((tx) => tx.list('node').every((n) => n.status.state === 'unknown'))).toBe(true);
    dispatcher.stop();
  });
});
