/**
 * Mutual TLS end to end on 127.0.0.1: real grpc-js server and clients, real certificates. The same
 * matrix runs against both ways of serving: bindAsync with serverCredentials(), and listenMutualTls().
 */
import * as tls from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  clientCredentials,
  type ClientTlsMaterial,
  listenMutualTls,
  managerChannelOptions,
  peerIdentity,
  requireRole,
  serverCredentials,
  type NodeIdentity,
} from '../../agent/ca';
import { type IssuedNode, makeCluster, type TestCluster } from './fixtures';

const passthrough = {
  requestStream: false,
  responseStream: false,
  requestSerialize: (b: Buffer) => b,
  requestDeserialize: (b: Buffer) => b,
  responseSerialize: (b: Buffer) => b,
  responseDeserialize: (b: Buffer) => b,
};

/** Join: open (a joining node has no certificate); Status: any node; Admin: managers only. */
const testService: grpc.ServiceDefinition = {
  join: { path: '/test.Ca/Join', ...passthrough },
  status: { path: '/test.Ca/Status', ...passthrough },
  admin: { path: '/test.Ca/Admin', ...passthrough },
};
const TestClient = grpc.makeGenericClientConstructor(testService, 'Ca');

type Unary = grpc.handleUnaryCall<Buffer, Buffer>;

function guarded(roles: ('worker' | 'manager')[] | 'open', cluster: TestCluster): Unary {
  return (call, callback) => {
    try {
      const who: NodeIdentity | undefined =
        roles === 'open' ? peerIdentity(call) : requireRole(call, roles, { rootCaPem: cluster.rootCa.certPem, clusterId: cluster.clusterId });
      callback(null, Buffer.from(who ? `${who.role}:${who.nodeId}` : 'anonymous'));
    } catch (err) {
      callback(err as grpc.ServerErrorResponse);
    }
  };
}

interface CallResult {
  code: grpc.status;
  body?: string;
  details?: string;
}

function call(port: number, method: 'join' | 'status' | 'admin', material: ClientTlsMaterial): Promise<CallResult> {
  const client = new TestClient(`127.0.0.1:${port}`, clientCredentials(material), managerChannelOptions);
  const fn = client[method] as (req: Buffer, options: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: Buffer) => void) => void;
  return new Promise<CallResult>((resolve) => {
    fn.call(client, Buffer.from('hi'), { deadline: Date.now() + 5000 }, (err, res) => {
      client.close();
      if (err) resolve({ code: err.code, details: err.details });
      else resolve({ code: grpc.status.OK, body: res?.toString() });
    });
  });
}

const setups = ['bindAsync+serverCredentials', 'listenMutualTls'] as const;

describe.each(setups)('mutual TLS over gRPC (%s)', (setup) => {
  let cluster: TestCluster;
  let foreign: TestCluster;
  let serverNode: IssuedNode;
  let manager: IssuedNode;
  let worker: IssuedNode;
  let foreignManager: IssuedNode;
  let server: grpc.Server;
  let port: number;
  let closeListener: () => Promise<void> = async () => {};

  beforeAll(async () => {
    cluster = await makeCluster();
    foreign = await makeCluster();
    serverNode = await cluster.issue('manager', { ipAddresses: ['127.0.0.1'] });
    manager = await cluster.issue('manager');
    worker = await cluster.issue('worker');
    foreignManager = await foreign.issue('manager');

    server = new grpc.Server();
    server.addService(testService, {
      join: guarded('open', cluster),
      status: guarded(['worker', 'manager'], cluster),
      admin: guarded(['manager'], cluster),
    });
    const material = { rootCaPem: cluster.rootCa.certPem, certPem: serverNode.certPem, keyPem: serverNode.keyPem };
    if (setup === 'listenMutualTls') {
      const listener = await listenMutualTls(server, '127.0.0.1', 0, material);
      port = listener.port;
      closeListener = () => listener.close();
    } else {
      port = await new Promise<number>((resolve, reject) =>
        server.bindAsync('127.0.0.1:0', serverCredentials(material), (err, p) => (err ? reject(err) : resolve(p))),
      );
    }
  });

  afterAll(async () => {
    await closeListener();
    server.forceShutdown();
  });

  const as = (node: IssuedNode | undefined, rootCaPem?: string): ClientTlsMaterial => ({
    rootCaPem: rootCaPem ?? cluster.rootCa.certPem,
    certPem: node?.certPem,
    keyPem: node?.keyPem,
  });

  it('lets a manager call everything and sees who it is', async () => {
    expect(await call(port, 'admin', as(manager))).toEqual({ code: grpc.status.OK, body: `manager:${manager.nodeId}` });
    expect(await call(port, 'status', as(manager))).toMatchObject({ code: grpc.status.OK });
    expect(await call(port, 'join', as(manager))).toEqual({ code: grpc.status.OK, body: `manager:${manager.nodeId}` });
  });

  it('denies a worker the manager-only method but serves it the worker method', async () => {
    const admin = await call(port, 'admin', as(worker));
    expect(admin.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(admin.details).toMatch(/this call needs a manager certificate; the caller has a worker certificate/);
    expect(await call(port, 'status', as(worker))).toEqual({ code: grpc.status.OK, body: `worker:${worker.nodeId}` });
  });

  it('lets a node without a certificate reach only the open method', async () => {
    expect(await call(port, 'join', as(undefined))).toEqual({ code: grpc.status.OK, body: 'anonymous' });
    const status = await call(port, 'status', as(undefined));
    expect(status.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(status.details).toMatch(/needs a worker or manager certificate; the caller presented no valid node certificate/);
    expect((await call(port, 'admin', as(undefined))).code).toBe(grpc.status.PERMISSION_DENIED);
  });

  it('gives a certificate from another root CA nothing', async () => {
    // The client trusts our root (so it accepts our server) but presents the other cluster's certificate.
    const status = await call(port, 'status', as(foreignManager));
    const admin = await call(port, 'admin', as(foreignManager));
    const join = await call(port, 'join', as(foreignManager));
    if (setup === 'listenMutualTls') {
      // The connection is closed right after the handshake: no call gets through at all.
      for (const result of [status, admin, join]) expect(result.code).toBe(grpc.status.UNAVAILABLE);
    } else {
      // Node cannot verify-if-given: the session is unauthorized, so the peer is anonymous.
      expect(status.code).toBe(grpc.status.PERMISSION_DENIED);
      expect(admin.code).toBe(grpc.status.PERMISSION_DENIED);
      expect(join).toEqual({ code: grpc.status.OK, body: 'anonymous' });
    }
  });

  it('makes a client that trusts another root refuse our server', async () => {
    const result = await call(port, 'join', as(foreignManager, foreign.rootCa.certPem));
    expect(result.code).toBe(grpc.status.UNAVAILABLE);
    const anonymous = await call(port, 'join', as(undefined, foreign.rootCa.certPem));
    expect(anonymous.code).toBe(grpc.status.UNAVAILABLE);
  });

  it('checks the server is the expected cluster and node when asked', async () => {
    const right = { ...as(manager), expectedClusterId: cluster.clusterId, expectedNodeId: serverNode.nodeId };
    expect((await call(port, 'join', right)).code).toBe(grpc.status.OK);
    expect((await call(port, 'join', { ...right, expectedClusterId: foreign.clusterId })).code).toBe(grpc.status.UNAVAILABLE);
    expect((await call(port, 'join', { ...right, expectedNodeId: manager.nodeId })).code).toBe(grpc.status.UNAVAILABLE);
  });
});

describe('mutual TLS handshake details', () => {
  it('closes a raw TLS connection that presents a foreign client certificate (listenMutualTls)', async () => {
    const cluster = await makeCluster();
    const foreign = await makeCluster();
    const serverNode = await cluster.issue('manager');
    const foreignNode = await foreign.issue('manager');
    const ownNode = await cluster.issue('worker');
    const server = new grpc.Server();
    const listener = await listenMutualTls(server, '127.0.0.1', 0, {
      rootCaPem: cluster.rootCa.certPem,
      certPem: serverNode.certPem,
      keyPem: serverNode.keyPem,
    });
    const connect = (node: IssuedNode) =>
      new Promise<'closed' | 'open'>((resolve) => {
        const socket = tls.connect({
          host: '127.0.0.1',
          port: listener.port,
          ca: cluster.rootCa.certPem,
          cert: node.certPem,
          key: node.keyPem,
          ALPNProtocols: ['h2'],
          servername: 'swarm-manager',
        });
        socket.on('error', () => resolve('closed'));
        socket.on('close', () => resolve('closed'));
        // The server sends HTTP/2 SETTINGS first once it accepts us; a rejected peer gets EOF instead.
        socket.once('data', () => {
          resolve('open');
          socket.destroy();
        });
      });
    try {
      expect(await connect(foreignNode)).toBe('closed');
      expect(await connect(ownNode)).toBe('open');
    } finally {
      await listener.close();
      server.forceShutdown();
    }
  });

  it('ends open connections on close (listenMutualTls): a stopping manager does not wait for its peers to hang up', async () => {
    const cluster = await makeCluster();
    const serverNode = await cluster.issue('manager', { ipAddresses: ['127.0.0.1'] });
    const client = await cluster.issue('worker');
    // A stream that never ends by itself, as a worker's session stream does.
    const watchService: grpc.ServiceDefinition = { watch: { path: '/test.Watch/Watch', ...passthrough, responseStream: true } };
    const server = new grpc.Server();
    server.addService(watchService, { watch: (call: grpc.ServerWritableStream<Buffer, Buffer>) => call.write(Buffer.from('hello')) });
    const listener = await listenMutualTls(server, '127.0.0.1', 0, { rootCaPem: cluster.rootCa.certPem, certPem: serverNode.certPem, keyPem: serverNode.keyPem });
    const WatchClient = grpc.makeGenericClientConstructor(watchService, 'Watch');
    const channel = new WatchClient(`127.0.0.1:${listener.port}`, clientCredentials({ rootCaPem: cluster.rootCa.certPem, certPem: client.certPem, keyPem: client.keyPem }), managerChannelOptions);
    try {
      const watch = channel.watch as (req: Buffer) => grpc.ClientReadableStream<Buffer>;
      const stream = watch.call(channel, Buffer.from('hi'));
      const ended = new Promise<void>((resolve) => {
        stream.on('error', () => resolve());
        stream.on('end', () => resolve());
      });
      await new Promise((resolve) => stream.once('data', resolve));
      const closed = await Promise.race([listener.close().then(() => 'closed'), new Promise((r) => setTimeout(() => r('still waiting'), 3000))]);
      expect(closed).toBe('closed');
      await ended;
    } finally {
      channel.close();
      server.forceShutdown();
    }
  });

  it('shows why serverCredentials() does not use createSsl(..., false): that never requests a client certificate', async () => {
    const cluster = await makeCluster();
    const serverNode = await cluster.issue('manager');
    const manager = await cluster.issue('manager');
    const server = new grpc.Server();
    server.addService(testService, { join: guarded('open', cluster), status: guarded('open', cluster), admin: guarded('open', cluster) });
    const creds = grpc.ServerCredentials.createSsl(
      Buffer.from(cluster.rootCa.certPem),
      [{ cert_chain: Buffer.from(serverNode.certPem), private_key: Buffer.from(serverNode.keyPem) }],
      false,
    );
    const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', creds, (err, p) => (err ? reject(err) : resolve(p))));
    try {
      const material = { rootCaPem: cluster.rootCa.certPem, certPem: manager.certPem, keyPem: manager.keyPem };
      // If grpc-js ever starts requesting certificates here, this fails and the subclass can go.
      expect(await call(port, 'join', material)).toEqual({ code: grpc.status.OK, body: 'anonymous' });
    } finally {
      server.forceShutdown();
    }
  });

  it('refuses to talk to a server whose certificate is a worker certificate', async () => {
    const cluster = await makeCluster();
    const workerServer = await cluster.issue('worker');
    const server = new grpc.Server();
    server.addService(testService, { join: guarded('open', cluster), status: guarded('open', cluster), admin: guarded('open', cluster) });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(
        '127.0.0.1:0',
        serverCredentials({ rootCaPem: cluster.rootCa.certPem, certPem: workerServer.certPem, keyPem: workerServer.keyPem }),
        (err, p) => (err ? reject(err) : resolve(p)),
      ),
    );
    try {
      const result = await call(port, 'join', { rootCaPem: cluster.rootCa.certPem });
      expect(result.code).toBe(grpc.status.UNAVAILABLE);
    } finally {
      server.forceShutdown();
    }
  });
});
