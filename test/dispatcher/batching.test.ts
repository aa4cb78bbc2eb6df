/**
 * Store cost of the dispatcher, counted in store versions (one per Raft entry): bursts of state
 * changes share entries, heartbeats and no-op re-registrations write nothing. Driven through the
 * Dispatcher's own API (no gRPC) so a hundred nodes take milliseconds.
 */
import { describe, expect, it } from 'vitest';
import type { SessionMessage } from '../../agent/api/dispatcher';
import type { ApiError } from '../../agent/api/errors';
import { TaskState, type TaskStatus } from '../../agent/api/objects';
import { Dispatcher, type SessionSink } from '../../agent/manager/dispatcher';
import { TaskStatusWriter } from '../../agent/manager/dispatcher/status-writer';
import { silentLogger } from '../../agent/runtime';
import { createLocalStore, type LoggedEntry, type MemoryStore } from '../../agent/store';
import { cluster, node, task } from '../store/fixtures';
import { FakeClock } from '../support/fake-clock';
import { description, PERIOD } from './fixtures';

const N = 100;
/** These tests count entries: a count-only slice, so a slow turn on a loaded machine cannot split a batch by time. */
const WRITE_SLICE = { maxWrites: 1000 };

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
    const dispatcher = new Dispatcher({ store, clock, writeSlice: WRITE_SLICE });
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
    const dispatcher = new Dispatcher({ store, clock: new FakeClock(), writeSlice: WRITE_SLICE });
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
    const dispatcher = new Dispatcher({ store, clock: new FakeClock(), writeSlice: WRITE_SLICE });
    await dispatcher.start();
    expect(store.version - v).toBe(1);
    expect(store.view((tx) => tx.list('node').every((n) => n.status.state === 'unknown'))).toBe(true);
    dispatcher.stop();
  });
});

describe('task status writer', () => {
  const NODE = 'node000000000000000000001';
  const RUNNING: TaskStatus = { state: TaskState.RUNNING, message: 'started', timestamp: '2025-01-01T00:00:01.000Z' };

  async function assigned(count: number) {
    const { store, proposer } = createLocalStore({ record: true });
    const ids = Array.from({ length: count }, (_, i) => `task${String(i).padStart(21, '0')}`);
    await store.update((tx) => {
      ids.forEach((id, i) => {
        const t = task(id, 'svc', i + 1, NODE);
        tx.create('task', { ...t, status: { ...t.status, state: TaskState.ASSIGNED } });
      });
    });
    const running = (of: readonly string[]) => store.view((tx) => of.filter((id) => tx.get('task', id)?.status.state === TaskState.RUNNING).length);
    return { store, proposer, ids, running, from: proposer.log.length };
  }

  const writesOf = (entry: LoggedEntry) => (JSON.parse(new TextDecoder().decode(entry.data)) as { a: unknown[] }).a.length;
  const reports = (ids: readonly string[]) => ids.map((taskId) => ({ taskId, status: RUNNING }));

  it('writes a burst one slice per entry, oldest first, and answers each caller once all its reports are written', async () => {
    const { store, proposer, ids, running, from } = await assigned(100);
    const writer = new TaskStatusWriter(store, silentLogger, undefined, { maxWrites: 30 });
    const first = ids.slice(0, 70);
    const second = ids.slice(60); // ten keys shared with the first caller
    const seenWhenAnswered: number[] = [];
    await Promise.all([
      writer.write(NODE, reports(first)).then(() => seenWhenAnswered.push(running(first))),
      writer.write(NODE, reports(second)).then(() => seenWhenAnswered.push(running(second))),
    ]);
    expect(seenWhenAnswered).toEqual([70, 40]);
    expect(running(ids)).toBe(100);
    expect(proposer.log.slice(from).map(writesOf)).toEqual([30, 30, 30, 10]);
    await writer.idle();
  });

  it('ends a batch once its time is used, after at least one write', async () => {
    const { store, proposer, ids, running, from } = await assigned(5);
    const writer = new TaskStatusWriter(store, silentLogger, undefined, { maxWrites: 1000, maxMs: 0 });
    await writer.write(NODE, reports(ids));
    expect(running(ids)).toBe(5);
    expect(proposer.log.slice(from).map(writesOf)).toEqual([1, 1, 1, 1, 1]);
  });
});
