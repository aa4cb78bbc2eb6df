/**
 * A dispatcher behind a real gRPC server with mutual TLS, a real MemoryStore on a LocalProposer, and
 * raw clients that speak the dispatcher protocol directly (so tests control every call).
 */
import * as grpc from '@grpc/grpc-js';
import { vi } from 'vitest';
import { DISPATCHER_PATHS, parseHeartbeatResponse, parseSessionMessage, type SessionMessage } from '../../agent/api/dispatcher';
import type { NodeDescription } from '../../agent/api/objects';
import { clientCredentials, managerChannelOptions, serverCredentials } from '../../agent/ca';
import { addDispatcherService, Dispatcher, type DispatcherOptions } from '../../agent/manager/dispatcher';
import { decodeMessage, encodeMessage } from '../../agent/rpc/json-codec';
import { createLocalStore, type MemoryStore } from '../../agent/store';
import { type IssuedNode, makeCluster, type TestCluster } from '../ca/fixtures';
import { cluster as clusterObject, node as nodeObject } from '../store/fixtures';
import { FakeClock } from '../support/fake-clock';

export const PERIOD = 5000;

export function description(hostname: string): NodeDescription {
  return {
    hostname,
    platform: { os: 'linux', arch: 'x86_64' },
    resources: { nanoCpus: 2e9, memoryBytes: 4 * 2 ** 30 },
    engine: { version: '27.3.1', labels: { zone: 'a' } },
  };
}

export interface ServedManager {
  port: number;
  addr: string;
  server: grpc.Server;
  close(): void;
}

/** A gRPC server with the dispatcher service, as one manager of `cluster` serves it. */
export async function serveDispatcher(
  tc: TestCluster,
  options: { dispatcher: () => Dispatcher | undefined; leaderAddress?: () => string | undefined },
): Promise<ServedManager> {
  const self = await tc.issue('manager');
  const server = new grpc.Server();
  addDispatcherService(server, {
    dispatcher: options.dispatcher,
    leaderAddress: options.leaderAddress ?? (() => undefined),
    rootCaPem: tc.rootCa.certPem,
    clusterId: tc.clusterId,
  });
  const material = { rootCaPem: tc.rootCa.certPem, certPem: self.certPem, keyPem: self.keyPem };
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', serverCredentials(material), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return { port, addr: `127.0.0.1:${port}`, server, close: () => server.forceShutdown() };
}

export interface Harness {
  tc: TestCluster;
  store: MemoryStore;
  clock: FakeClock;
  dispatcher: Dispatcher;
  manager: ServedManager;
  clusterId: string;
  /** A node certificate plus the node object in the store. */
  addNode(role?: 'worker' | 'manager', state?: 'unknown' | 'ready' | 'down'): Promise<IssuedNode>;
  close(): void;
}

export async function startHarness(options: Partial<DispatcherOptions> & { start?: boolean } = {}): Promise<Harness> {
  const tc = await makeCluster();
  const { store } = createLocalStore();
  const clock = new FakeClock();
  const clusterId = 'cluster0000000000000000001';
  const seed = clusterObject(clusterId);
  await store.createObject('cluster', { ...seed, spec: { ...seed.spec, dispatcher: { heartbeatPeriodMs: PERIOD } } });
  const dispatcher = new Dispatcher({ store, clock, ...options });
  const manager = await serveDispatcher(tc, { dispatcher: () => dispatcher });
  if (options.start !== false) await dispatcher.start();
  return {
    tc,
    store,
    clock,
    dispatcher,
    manager,
    clusterId,
    async addNode(role = 'worker', state = 'unknown') {
      const issued = await tc.issue(role);
      const { description: _unused, ...obj } = nodeObject(issued.nodeId, `host-${issued.nodeId.slice(0, 6)}`, {
        role,
        spec: { labels: {}, role, availability: 'active' },
      });
      await store.createObject('node', { ...obj, status: { state, message: '', addr: '' } });
      return issued;
    },
    close() {
      dispatcher.stop();
      manager.close();
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// Raw protocol clients

export function rawClient(tc: TestCluster, addr: string, node: IssuedNode | undefined, rootCaPem = tc.rootCa.certPem): grpc.Client {
  return new grpc.Client(addr, clientCredentials({ rootCaPem, certPem: node?.certPem, keyPem: node?.keyPem }), managerChannelOptions);
}

export interface RawSession {
  messages: SessionMessage[];
  /** Resolves with the n-th message (0-based) once it arrived. */
  message(n: number): Promise<SessionMessage>;
  /** Resolves with how the stream ended. */
  ended: Promise<grpc.ServiceError>;
  cancel(): void;
}

export function openSession(client: grpc.Client, desc: NodeDescription): RawSession {
  const stream = client.makeServerStreamRequest(DISPATCHER_PATHS.session, encodeMessage, decodeMessage, { description: desc }, new grpc.Metadata(), {});
  const messages: SessionMessage[] = [];
  const waiters: { n: number; resolve(m: SessionMessage): void }[] = [];
  stream.on('data', (raw: unknown) => {
    messages.push(parseSessionMessage(raw));
    for (const w of waiters.filter((x) => x.n < messages.length)) w.resolve(messages[w.n]);
  });
  const ended = new Promise<grpc.ServiceError>((resolve) => {
    stream.on('error', (err: grpc.ServiceError) => resolve(err));
  });
  return {
    messages,
    message: (n) =>
      n < messages.length ? Promise.resolve(messages[n]) : new Promise((resolve) => waiters.push({ n, resolve })),
    ended,
    cancel: () => stream.cancel(),
  };
}

export function heartbeat(client: grpc.Client, sessionId: string): Promise<{ periodMs: number } | grpc.ServiceError> {
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      DISPATCHER_PATHS.heartbeat,
      encodeMessage,
      decodeMessage,
      { sessionId },
      new grpc.Metadata(),
      { deadline: Date.now() + 10_000 },
      (err: grpc.ServiceError | null, res?: unknown) => resolve(err ?? parseHeartbeatResponse(res)),
    );
  });
}

/** Polls (real time) until `fn` stops throwing; for effects that cross the network or the store. */
export function eventually<T>(fn: () => T | Promise<T>): Promise<T> {
  return vi.waitFor(fn, { timeout: 15_000, interval: 5 });
}
