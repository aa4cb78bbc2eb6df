/**
 * The dispatcher's task channel end to end: a real MemoryStore (local, no raft), the dispatcher behind
 * gRPC with mutual TLS, and on the other side either a worker's real DispatcherSession + TaskAgent (with
 * a scripted executor) or raw protocol calls.
 */
import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type AssignmentsMessage,
  DISPATCHER_PATHS,
  parseAssignmentsMessage,
  type TaskStatusReport,
} from '../../agent/api/dispatcher';
import { type Task, TaskState, taskStateName } from '../../agent/api/objects';
import { clientCredentials, managerChannelOptions } from '../../agent/ca';
import { decodeMessage, encodeMessage } from '../../agent/rpc/json-codec';
import type { NewObject } from '../../agent/store';
import { DispatcherSession } from '../../agent/worker/session';
import { TaskAgent } from '../../agent/worker/task-agent';
import type { IssuedNode } from '../ca/fixtures';
import { FakeExecutor } from '../worker/fake-executor';
import { assignedTask } from '../worker/task-fixtures';
import { description, eventually, type Harness, openSession, rawClient, startHarness } from './fixtures';

let harness: Harness | undefined;
const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  harness?.close();
  harness = undefined;
});

async function setup(): Promise<Harness> {
  harness = await startHarness();
  return harness;
}

function stored(task: Task): NewObject<'task'> {
  const { meta: _meta, ...rest } = task;
  return rest;
}

/** A worker as node.ts runs one: its session, and its task agent attached to every established session. */
function startWorker(h: Harness, node: IssuedNode, executor = new FakeExecutor()) {
  const agent = new TaskAgent({ executor, channel: { retryMs: 50 } });
  const session = new DispatcherSession({
    managers: () => [h.manager.addr],
    credentials: () => clientCredentials({ rootCaPem: h.tc.rootCa.certPem, certPem: node.certPem, keyPem: node.keyPem }),
    channelOptions: managerChannelOptions,
    description: async () => description(`host-${node.nodeId.slice(0, 4)}`),
    onEstablished: (link) => agent.attach(link),
    initialBackoffMs: 20,
    maxBackoffMs: 100,
  });
  session.start();
  cleanups.push(async () => {
    await session.stop();
    await agent.stop();
  });
  return { agent, session, executor };
}

function stateOf(h: Harness, taskId: string): string {
  const task = h.store.get('task', taskId);
  return task === undefined ? 'deleted' : taskStateName(task.status.state);
}

interface RawAssignments {
  messages: AssignmentsMessage[];
  message(n: number): Promise<AssignmentsMessage>;
  ended: Promise<grpc.ServiceError>;
}

function openAssignments(client: grpc.Client, sessionId: string): RawAssignments {
  const stream = client.makeServerStreamRequest(DISPATCHER_PATHS.assignments, encodeMessage, decodeMessage, { sessionId }, new grpc.Metadata(), {});
  const messages: AssignmentsMessage[] = [];
  cleanups.push(() => stream.cancel());
  stream.on('data', (raw: unknown) => messages.push(parseAssignmentsMessage(raw)));
  const ended = new Promise<grpc.ServiceError>((resolve) => stream.on('error', resolve));
  return {
    messages,
    message: (n) =>
      eventually(() => {
        if (messages.length <= n) throw new Error(`only ${messages.length} assignments messages`);
        return messages[n];
      }),
    ended,
  };
}

function updateTaskStatus(client: grpc.Client, sessionId: string, updates: TaskStatusReport[]): Promise<grpc.ServiceError | null> {
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      DISPATCHER_PATHS.updateTaskStatus,
      encodeMessage,
      decodeMessage,
      { sessionId, updates },
      new grpc.Metadata(),
      { deadline: Date.now() + 10_000 },
      (err: grpc.ServiceError | null) => resolve(err),
    );
  });
}

async function rawSession(h: Harness, node: IssuedNode): Promise<{ client: grpc.Client; sessionId: string }> {
  const client = rawClient(h.tc, h.manager.addr, node);
  cleanups.push(() => client.close());
  const session = openSession(client, description('raw'));
  cleanups.push(() => session.cancel());
  const { sessionId } = await session.message(0);
  return { client, sessionId };
}

describe('dispatcher task channel', () => {
  it('runs an assigned task on the worker and writes what the worker reports, up to SHUTDOWN and removal', async () => {
    const h = await setup();
    const worker = await h.addNode('worker');
    const task = assignedTask({ nodeId: worker.nodeId });
    await h.store.createObject('task', stored(task));
    const { agent, executor } = startWorker(h, worker);

    await eventually(() => expect(stateOf(h, task.id)).toBe('RUNNING'));
    const running = h.store.get('task', task.id);
    expect(running?.status.message).toBe('started');
    expect(running?.status.containerStatus?.containerId).toBe('c1');
    expect(agent.manager.taskIds).toEqual([task.id]);

    // The orchestrator stops it by raising the desired state; the worker stops the container.
    const current = h.store.get('task', task.id);
    if (current === undefined) throw new Error('task vanished');
    await h.store.updateObject('task', { ...current, desiredState: TaskState.SHUTDOWN });
    await eventually(() => expect(stateOf(h, task.id)).toBe('SHUTDOWN'));
    expect(h.store.get('task', task.id)?.status.containerStatus?.exitCode).toBe(143);

    // The reaper deletes it: the worker removes its container.
    await h.store.deleteObject('task', task.id);
    await eventually(() => expect(executor.removed).toEqual([task.id]));
    expect(agent.manager.taskIds).toEqual([]);
  });

  it('records REJECTED with the executor\'s reason and FAILED with the exit code', async () => {
    const h = await setup();
    const worker = await h.addNode('worker');
    const executor = new FakeExecutor();
    executor.missingImages.add('nosuch:1');
    const missing = assignedTask({ nodeId: worker.nodeId, slot: 1, container: { image: 'nosuch:1' } });
    const crashing = assignedTask({ nodeId: worker.nodeId, slot: 2 });
    await h.store.createObject('task', stored(missing));
    await h.store.createObject('task', stored(crashing));
    startWorker(h, worker, executor);

    await eventually(() => expect(stateOf(h, missing.id)).toBe('REJECTED'));
    expect(h.store.get('task', missing.id)?.status).toMatchObject({ message: 'preparing', err: 'No such image: nosuch:1' });
    await eventually(() => expect(stateOf(h, crashing.id)).toBe('RUNNING'));
    executor.exit(crashing.id, 2);
    await eventually(() => expect(stateOf(h, crashing.id)).toBe('FAILED'));
    expect(h.store.get('task', crashing.id)?.status).toMatchObject({ err: 'task: non-zero exit (2)', containerStatus: { exitCode: 2 } });
  });

  it('keeps reports across a leader change and delivers them over the next session', async () => {
    const h = await setup();
    const worker = await h.addNode('worker');
    const task = assignedTask({ nodeId: worker.nodeId });
    await h.store.createObject('task', stored(task));
    const { agent, executor } = startWorker(h, worker);
    await eventually(() => expect(stateOf(h, task.id)).toBe('RUNNING'));

    h.dispatcher.stop(); // leadership lost: the session and its streams end
    executor.exit(task.id, 0);
    await eventually(() => expect(agent.manager.statusOf(task.id)?.state).toBe(TaskState.COMPLETE));
    expect(stateOf(h, task.id)).toBe('RUNNING');
    expect(agent.channel.pendingReports).toBe(1);

    await h.dispatcher.start(); // leadership regained (or a new leader): the node reconnects
    await eventually(() => expect(stateOf(h, task.id)).toBe('COMPLETE'));
    expect(h.store.get('task', task.id)?.status.message).toBe('finished');
    await eventually(() => expect(agent.channel.pendingReports).toBe(0));
  });

  it('streams the node its own tasks: the complete set first, then changes, never its own status echoes', async () => {
    const h = await setup();
    const worker = await h.addNode('worker');
    const other = await h.addNode('worker');
    const mine = assignedTask({ nodeId: worker.nodeId, slot: 1 });
    const pending = { ...assignedTask({ nodeId: worker.nodeId, slot: 2 }), status: { state: TaskState.PENDING, message: 'pending task scheduling', timestamp: new Date().toISOString() } };
    const theirs = assignedTask({ nodeId: other.nodeId, slot: 3 });
    for (const t of [mine, pending, theirs]) await h.store.createObject('task', stored(t));

    const { client, sessionId } = await rawSession(h, worker);
    const stream = openAssignments(client, sessionId);
    const first = await stream.message(0);
    expect(first.type).toBe('complete');
    expect(first.updates.map((t) => t.id)).toEqual([mine.id]); // not yet ASSIGNED, or another node's: not sent

    // The scheduler assigns the pending one: sent.
    const p = h.store.get('task', pending.id);
    if (p === undefined) throw new Error('missing');
    await h.store.updateObject('task', { ...p, status: { ...p.status, state: TaskState.ASSIGNED, message: 'scheduler assigned task to node' } });
    const second = await stream.message(1);
    expect(second).toMatchObject({ type: 'incremental', removes: [] });
    expect(second.updates.map((t) => t.id)).toEqual([pending.id]);

    // The node's own report changes only the status: not echoed back.
    expect(await updateTaskStatus(client, sessionId, [{ taskId: mine.id, status: { state: TaskState.ACCEPTED, message: 'accepted', timestamp: new Date().toISOString() } }])).toBeNull();
    expect(stateOf(h, mine.id)).toBe('ACCEPTED');
    // A desired-state change is sent; a deletion is a remove.
    const m = h.store.get('task', mine.id);
    if (m === undefined) throw new Error('missing');
    await h.store.updateObject('task', { ...m, desiredState: TaskState.SHUTDOWN });
    await h.store.deleteObject('task', pending.id);
    const third = await stream.message(2);
    expect(third.updates.map((t) => [t.id, t.desiredState])).toEqual([[mine.id, TaskState.SHUTDOWN]]);
    const fourth = await stream.message(3);
    expect(fourth).toEqual({ type: 'incremental', updates: [], removes: [pending.id] });
    // Another node's task changing sends nothing here.
    const t = h.store.get('task', theirs.id);
    if (t === undefined) throw new Error('missing');
    await h.store.updateObject('task', { ...t, desiredState: TaskState.SHUTDOWN });
    await h.dispatcher.settled();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(stream.messages).toHaveLength(4);
  });

  it('ignores reports for tasks of another node, refuses a stale session, and moves a task only forward', async () => {
    const h = await setup();
    const worker = await h.addNode('worker');
    const intruder = await h.addNode('worker');
    const task = assignedTask({ nodeId: worker.nodeId });
    await h.store.createObject('task', stored(task));
    const now = () => new Date().toISOString();

    const bad = await rawSession(h, intruder);
    expect(await updateTaskStatus(bad.client, bad.sessionId, [{ taskId: task.id, status: { state: TaskState.FAILED, message: 'x', timestamp: now() } }])).toBeNull();
    expect(stateOf(h, task.id)).toBe('ASSIGNED');
    expect(h.dispatcher.ignoredTaskReports).toBe(1);

    const good = await rawSession(h, worker);
    const stale = await updateTaskStatus(good.client, 'notmysession', [{ taskId: task.id, status: { state: TaskState.RUNNING, message: 'started', timestamp: now() } }]);
    expect(stale?.code).toBe(grpc.status.NOT_FOUND);
    expect((await openAssignments(good.client, 'notmysession').ended).code).toBe(grpc.status.NOT_FOUND);

    // Batched: several reports in one call, the furthest wins; then a late one cannot go back.
    expect(
      await updateTaskStatus(good.client, good.sessionId, [
        { taskId: task.id, status: { state: TaskState.ACCEPTED, message: 'accepted', timestamp: now() } },
        { taskId: task.id, status: { state: TaskState.RUNNING, message: 'started', timestamp: now() } },
      ]),
    ).toBeNull();
    expect(stateOf(h, task.id)).toBe('RUNNING');
    expect(await updateTaskStatus(good.client, good.sessionId, [{ taskId: task.id, status: { state: TaskState.STARTING, message: 'starting', timestamp: now() } }])).toBeNull();
    expect(stateOf(h, task.id)).toBe('RUNNING');

    // A malformed report is refused whole.
    const invalid = await updateTaskStatus(good.client, good.sessionId, [{ taskId: task.id, status: { state: 7 as TaskState, message: 'x', timestamp: now() } }]);
    expect(invalid?.code).toBe(grpc.status.INVALID_ARGUMENT);
  });

  it('ends the node\'s assignments stream with its session', async () => {
    const h = await setup();
    const worker = await h.addNode('worker');
    const { client, sessionId } = await rawSession(h, worker);
    const stream = openAssignments(client, sessionId);
    await stream.message(0);
    h.dispatcher.stop();
    expect((await stream.ended).code).toBe(grpc.status.UNAVAILABLE);
  });
});
