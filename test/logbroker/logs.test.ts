/**
 * Logs across nodes over real mutual-TLS gRPC: the leader's broker, two nodes' publishers reading from
 * fake containers, and a subscriber on the Logs service.
 */
import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import type { LogLine, LogOptions } from '../../agent/api/logs';
import { TaskState } from '../../agent/api/objects';
import { clientCredentials, listenMutualTls, managerChannelOptions, type MutualTlsListener } from '../../agent/ca';
import { LogBroker } from '../../agent/manager/logbroker/broker';
import { addLogBrokerService, addLogsService, subscribeRemote } from '../../agent/manager/logbroker/service';
import { createLocalStore, type MemoryStore } from '../../agent/store';
import { type ContainerLogLine, LogPublisher, type LogSource } from '../../agent/worker/log-publisher';
import { type IssuedNode, makeCluster, type TestCluster } from '../ca/fixtures';

/** A node's containers: fixed lines per task; with follow, more arrive when `emit` is called. */
class FakeContainers implements LogSource {
  readonly followers = new Map<string, (line: ContainerLogLine) => void>();
  constructor(private readonly lines: Map<string, string[]>) {}

  async *read(taskId: string, options: LogOptions, signal: AbortSignal): AsyncIterable<ContainerLogLine> {
    const all = this.lines.get(taskId) ?? [];
    const shown = options.tail === undefined ? all : all.slice(Math.max(0, all.length - options.tail));
    for (const data of shown) yield { stream: 'stdout', timestamp: '2026-01-01T00:00:00Z', data };
    if (!options.follow) return;
    const queue: ContainerLogLine[] = [];
    let wake: (() => void) | undefined;
    this.followers.set(taskId, (line) => {
      queue.push(line);
      wake?.();
    });
    while (!signal.aborted) {
      if (queue.length === 0) await new Promise<void>((resolve) => {
        wake = resolve;
        signal.addEventListener('abort', () => resolve(), { once: true });
      });
      while (queue.length > 0) yield queue.shift() as ContainerLogLine;
    }
    this.followers.delete(taskId);
  }
}

interface Lab {
  cluster: TestCluster;
  store: MemoryStore;
  broker: LogBroker;
  server: grpc.Server;
  listener: MutualTlsListener;
  address: string;
  manager: IssuedNode;
  publishers: LogPublisher[];
}

let lab: Lab | undefined;
afterEach(async () => {
  for (const publisher of lab?.publishers ?? []) publisher.stop();
  lab?.broker.stop();
  await lab?.listener.close();
  lab?.server.forceShutdown();
  lab = undefined;
});

async function startLab(): Promise<Lab> {
  const cluster = await makeCluster();
  const manager = await cluster.issue('manager');
  const { store } = createLocalStore();
  const broker = new LogBroker({ store, completionTimeoutMs: 5000 });
  broker.start();
  const server = new grpc.Server();
  const routing = { isLeader: () => true, leaderAddress: () => undefined };
  addLogBrokerService(server, { broker, routing, rootCaPem: cluster.rootCa.certPem, clusterId: cluster.clusterId });
  addLogsService(server, { subscribe: (request, sink) => broker.subscribe(request.selector, request.options, sink) });
  const listener = await listenMutualTls(server, '127.0.0.1', 0, { rootCaPem: cluster.rootCa.certPem, certPem: manager.certPem, keyPem: manager.keyPem });
  lab = { cluster, store, broker, server, listener, address: `127.0.0.1:${listener.port}`, manager, publishers: [] };
  return lab;
}

async function addTask(store: MemoryStore, id: string, serviceId: string, nodeId: string): Promise<void> {
  await store.createObject('task', {
    id,
    serviceId,
    slot: 1,
    nodeId,
    desiredState: TaskState.RUNNING,
    spec: { container: { image: 'busybox' } },
    serviceAnnotations: { name: 'web', labels: {} },
    status: { state: TaskState.RUNNING, message: 'started', timestamp: new Date().toISOString() },
  });
}

function startPublisher(current: Lab, node: IssuedNode, source: LogSource): LogPublisher {
  const publisher = new LogPublisher({
    nodeId: node.nodeId,
    managers: () => [current.address],
    credentials: () => clientCredentials({ rootCaPem: current.cluster.rootCa.certPem, certPem: node.certPem, keyPem: node.keyPem }),
    channelOptions: managerChannelOptions,
    source,
  });
  publisher.start();
  current.publishers.push(publisher);
  return publisher;
}

function subscribe(current: Lab, request: Parameters<typeof subscribeRemote>[2]): { lines: LogLine[]; done: Promise<Error | undefined>; cancel: () => void } {
  const client = new grpc.Client(current.address, clientCredentials({ rootCaPem: current.cluster.rootCa.certPem, certPem: current.manager.certPem, keyPem: current.manager.keyPem }), managerChannelOptions);
  const lines: LogLine[] = [];
  let cancel = () => {};
  const done = new Promise<Error | undefined>((resolve) => {
    cancel = subscribeRemote(client, 'the manager', request, { send: (batch) => lines.push(...batch), end: (err) => resolve(err) });
  });
  return { lines, done: done.finally(() => client.close()), cancel };
}

async function until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('service logs across nodes', () => {
  it('gathers every replica\'s lines from every node and ends when all nodes are done', async () => {
    const current = await startLab();
    const [w1, w2] = [await current.cluster.issue('worker'), await current.cluster.issue('worker')];
    await addTask(current.store, 'task1', 'svc1', w1.nodeId);
    await addTask(current.store, 'task2', 'svc1', w2.nodeId);
    await addTask(current.store, 'other', 'svc2', w2.nodeId);
    startPublisher(current, w1, new FakeContainers(new Map([['task1', ['a1', 'a2', 'a3']]])));
    startPublisher(current, w2, new FakeContainers(new Map([['task2', ['b1']], ['other', ['secret of svc2']]])));
    await until(() => current.broker.listeningNodes === 2);
    const sub = subscribe(current, { selector: { serviceIds: ['svc1'] }, options: { follow: false, tail: 2 } });
    expect(await sub.done).toBeUndefined();
    expect(sub.lines.map((l) => `${l.taskId}:${l.data}`).sort()).toEqual(['task1:a2', 'task1:a3', 'task2:b1']);
    expect(sub.lines.find((l) => l.taskId === 'task1')?.nodeId).toBe(w1.nodeId);
  });

  it('follows new lines until the subscriber leaves, then stops the readers', async () => {
    const current = await startLab();
    const w1 = await current.cluster.issue('worker');
    await addTask(current.store, 'task1', 'svc1', w1.nodeId);
    const containers = new FakeContainers(new Map([['task1', ['old']]]));
    startPublisher(current, w1, containers);
    await until(() => current.broker.listeningNodes === 1);
    const sub = subscribe(current, { selector: { serviceIds: ['svc1'] }, options: { follow: true } });
    await until(() => sub.lines.length === 1 && containers.followers.has('task1'));
    containers.followers.get('task1')?.({ stream: 'stderr', timestamp: '2026-01-01T00:00:05Z', data: 'new' });
    await until(() => sub.lines.length === 2);
    expect(sub.lines[1]).toMatchObject({ data: 'new', stream: 'stderr' });
    sub.cancel();
    await until(() => !containers.followers.has('task1'));
  });

  it('refuses lines from a node that was not asked, and a subscription with no selector', async () => {
    const current = await startLab();
    const w1 = await current.cluster.issue('worker');
    await addTask(current.store, 'task1', 'svc1', w1.nodeId);
    const lines: LogLine[] = [];
    const cancel = current.broker.subscribe({ serviceIds: ['svc1'] }, { follow: true }, { send: (batch) => lines.push(...batch), end: () => {} });
    expect(() => current.broker.publish('intruder', { subscriptionId: 'x', lines: [] })).toThrow('is closed');
    cancel();
    expect(() => current.broker.subscribe({}, { follow: false }, { send: () => {}, end: () => {} })).toThrow('at least one service or task');
    const refused = subscribe(current, { selector: {}, options: { follow: false } });
    expect(await refused.done).toMatchObject({ code: 'InvalidArgument' });
  });
});
