/**
 * The join flow end to end on 127.0.0.1: a real NodeCA service behind listenMutualTls, an in-memory
 * JoinAuthority, and the joining node's client.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import * as net from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  addNodeCaService,
  clientCredentials,
  createNodeCsr,
  decodeMessage,
  encodeMessage,
  generateJoinToken,
  type JoinAuthority,
  joinCluster,
  JoinError,
  JoinTokenError,
  listenMutualTls,
  managerChannelOptions,
  NODE_CA_PATHS,
  nodeCaServiceDefinition,
  type NodeCredentials,
  type NodeRole,
  parseNodeCertificate,
  renewNodeCertificate,
  ROOT_CA_MISMATCH_MESSAGE,
  type RootCa,
  verifyNodeCertificate,
  newNodeId,
} from '../../agent/ca';
import { makeCluster, type TestCluster } from './fixtures';

class FakeAuthority implements JoinAuthority {
  readonly nodes = new Map<string, { role: NodeRole; advertiseAddress: string | undefined }>();
  private tokens: { worker: string; manager: string };

  constructor(
    readonly rootCa: RootCa,
    readonly clusterId: string,
  ) {
    this.tokens = this.freshTokens();
  }

  private freshTokens() {
    return { worker: generateJoinToken(this.rootCa.certDer), manager: generateJoinToken(this.rootCa.certDer) };
  }

  rotate(): void {
    this.tokens = this.freshTokens();
  }

  joinTokens() {
    return this.tokens;
  }

  async registerNode(role: NodeRole, advertiseAddress: string | undefined): Promise<string> {
    const nodeId = newNodeId();
    this.nodes.set(nodeId, { role, advertiseAddress });
    return nodeId;
  }

  async currentRole(nodeId: string): Promise<NodeRole | undefined> {
    return this.nodes.get(nodeId)?.role;
  }

  certValidityMs(): number {
    return 60 * 60 * 1000;
  }
}

interface RunningServer {
  address: string;
  port: number;
  stop(): Promise<void>;
}

async function serve(cluster: TestCluster, register: (server: grpc.Server) => void): Promise<RunningServer> {
  const serverNode = await cluster.issue('manager');
  const server = new grpc.Server();
  register(server);
  const listener = await listenMutualTls(server, '127.0.0.1', 0, {
    rootCaPem: cluster.rootCa.certPem,
    certPem: serverNode.certPem,
    keyPem: serverNode.keyPem,
  });
  return {
    address: `127.0.0.1:${listener.port}`,
    port: listener.port,
    stop: async () => {
      await listener.close();
      server.forceShutdown();
    },
  };
}

interface RawResult {
  code: grpc.status;
  details?: string;
  response?: unknown;
}

/** Calls a NodeCA method with exactly these bytes, bypassing the join client's own checks. */
function rawCall(address: string, path: string, body: Buffer, credentials: grpc.ChannelCredentials): Promise<RawResult> {
  const client = new grpc.Client(address, credentials, managerChannelOptions);
  return new Promise((resolve) => {
    client.makeUnaryRequest(path, (b: Buffer) => b, decodeMessage, body, { deadline: Date.now() + 5000 }, (err, response) => {
      client.close();
      if (err) resolve({ code: err.code, details: err.details });
      else resolve({ code: grpc.status.OK, response });
    });
  });
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof Error) return err;
    throw new Error(`rejected with a non-Error: ${String(err)}`);
  }
  throw new Error('expected the promise to reject');
}

function subjectOf(certPem: string): string {
  return new X509Certificate(certPem).subject;
}

/** A port that refuses connections: bound once, then closed. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('joining a cluster through the NodeCA service', () => {
  let cluster: TestCluster;
  let authority: FakeAuthority;
  let server: RunningServer;

  beforeAll(async () => {
    cluster = await makeCluster();
    authority = new FakeAuthority(cluster.rootCa, cluster.clusterId);
    server = await serve(cluster, (s) => addNodeCaService(s, authority));
  });

  afterAll(async () => {
    await server.stop();
  });

  const anonymous = () => clientCredentials({ rootCaPem: cluster.rootCa.certPem });

  async function expectIssuedFor(joined: NodeCredentials, role: NodeRole): Promise<void> {
    const info = await verifyNodeCertificate(joined.certPem, cluster.rootCa);
    expect(info).toMatchObject({ nodeId: joined.nodeId, role, clusterId: cluster.clusterId });
    const subject = subjectOf(joined.certPem);
    expect(subject).toContain(`OU=swarm-${role}`);
    expect(subject).toContain(`CN=${joined.nodeId}`);
    expect(subject).toContain(`O=${cluster.clusterId}`);
    expect(new X509Certificate(joined.certPem).checkPrivateKey(createPrivateKey(joined.keyPem))).toBe(true);
    expect(joined.rootCaPem).toBe(cluster.rootCa.certPem);
  }

  it('issues a worker certificate for the worker token and registers the node', async () => {
    const joined = await joinCluster({ address: server.address, token: authority.joinTokens().worker, advertiseAddress: '10.0.0.7:2377' });
    expect(joined.role).toBe('worker');
    await expectIssuedFor(joined, 'worker');
    expect(authority.nodes.get(joined.nodeId)).toEqual({ role: 'worker', advertiseAddress: '10.0.0.7:2377' });
    // Workers never sign, so they never receive the CA key.
    expect(joined.caKeyPem).toBeUndefined();
  });

  it('issues a manager certificate for the manager token', async () => {
    const joined = await joinCluster({ address: server.address, token: authority.joinTokens().manager });
    expect(joined.role).toBe('manager');
    await expectIssuedFor(joined, 'manager');
    expect(authority.nodes.get(joined.nodeId)).toEqual({ role: 'manager', advertiseAddress: undefined });
    // Any manager may become leader and sign, so it receives the root's own key.
    const caKey = createPrivateKey(joined.caKeyPem ?? '');
    expect(new X509Certificate(cluster.rootCa.certPem).checkPrivateKey(caKey)).toBe(true);
  });

  it('refuses a token with the wrong secret, without repeating the secret', async () => {
    const before = authority.nodes.size;
    const wrong = generateJoinToken(cluster.rootCa.certDer);
    const err = await rejection(joinCluster({ address: server.address, token: wrong }));
    expect(err).toBeInstanceOf(JoinError);
    expect(err).toMatchObject({ reason: 'refused', code: grpc.status.PERMISSION_DENIED });
    expect(err.message).toBe(`the manager at ${server.address} refused the request: invalid join token`);
    expect(err.message).not.toContain(wrong.split('-')[3]);
    expect(authority.nodes.size).toBe(before);
  });

  it('stops a token of another cluster at the client, before the token is sent', async () => {
    const foreign = await makeCluster();
    const before = authority.nodes.size;
    const err = await rejection(joinCluster({ address: server.address, token: generateJoinToken(foreign.rootCa.certDer) }));
    expect(err).toMatchObject({ reason: 'root-ca-mismatch', message: ROOT_CA_MISMATCH_MESSAGE });
    expect(authority.nodes.size).toBe(before);
  });

  it('refuses a token of another cluster at the server with its own message', async () => {
    const foreign = await makeCluster();
    const { csrPem } = await createNodeCsr();
    const body = encodeMessage({ token: generateJoinToken(foreign.rootCa.certDer), csrPem });
    const result = await rawCall(server.address, NODE_CA_PATHS.issueNodeCertificate, body, anonymous());
    expect(result).toEqual({
      code: grpc.status.PERMISSION_DENIED,
      details: 'the join token is for a different cluster (its CA digest does not match this cluster\'s root CA)',
    });
  });

  it('fails on a malformed token before any network I/O', async () => {
    // Nothing listens there: a network attempt would fail as "unreachable" instead.
    const address = `127.0.0.1:${await closedPort()}`;
    const err = await rejection(joinCluster({ address, token: 'SWMTKN-1-notadigest-notasecret' }));
    expect(err).toBeInstanceOf(JoinTokenError);
    expect(err.message).toMatch(/malformed CA digest in join token/);
  });

  it('answers a malformed token with INVALID_ARGUMENT naming the malformed part', async () => {
    const { csrPem } = await createNodeCsr();
    const digest = authority.joinTokens().worker.split('-')[2];
    const body = encodeMessage({ token: `SWMTKN-1-${digest}-short`, csrPem });
    const result = await rawCall(server.address, NODE_CA_PATHS.issueNodeCertificate, body, anonymous());
    expect(result.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(result.details).toMatch(/^malformed secret in join token/);
    expect(result.details).not.toContain('short');
  });

  it('reports an unreachable manager by address', async () => {
    const address = `127.0.0.1:${await closedPort()}`;
    const err = await rejection(joinCluster({ address, token: authority.joinTokens().worker }));
    expect(err).toMatchObject({ reason: 'unreachable', code: grpc.status.UNAVAILABLE });
    expect(err.message).toMatch(new RegExp(`^cannot reach the manager at ${address}: `));
    expect(err.message).not.toContain(authority.joinTokens().worker.split('-')[3]);
  });

  it('gives up on a manager that never answers when the deadline passes', async () => {
    // Accepts TCP but never speaks TLS, so only the deadline ends the attempt.
    const sockets: net.Socket[] = [];
    const silent = net.createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const address = `127.0.0.1:${(silent.address() as net.AddressInfo).port}`;
    try {
      const started = Date.now();
      const err = await rejection(joinCluster({ address, token: authority.joinTokens().worker, timeoutMs: 300 }));
      expect(err).toMatchObject({ reason: 'unreachable', code: grpc.status.DEADLINE_EXCEEDED });
      expect(err.message).toMatch(new RegExp(`^cannot reach the manager at ${address}: `));
      expect(Date.now() - started).toBeLessThan(3000);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it('refuses the old token after rotation and accepts the new one', async () => {
    const old = authority.joinTokens().worker;
    authority.rotate();
    const before = authority.nodes.size;
    const err = await rejection(joinCluster({ address: server.address, token: old }));
    expect(err).toMatchObject({ reason: 'refused', code: grpc.status.PERMISSION_DENIED });
    expect(err.message).toMatch(/invalid join token$/);
    expect(authority.nodes.size).toBe(before);
    expect((await joinCluster({ address: server.address, token: authority.joinTokens().worker })).role).toBe('worker');
  });

  describe('malformed requests', () => {
    const issue = (body: Buffer) => rawCall(server.address, NODE_CA_PATHS.issueNodeCertificate, body, anonymous());

    it.each([
      ['bytes that are not JSON', Buffer.from('{not json'), /not UTF-8 JSON/],
      ['invalid UTF-8', Buffer.from([0xff, 0xfe, 0x7b]), /not UTF-8 JSON/],
      ['a JSON array', encodeMessage([]), /not a JSON object/],
      ['no token', encodeMessage({ csrPem: 'x' }), /lacks "token"/],
      ['a numeric CSR', encodeMessage({ token: 'SWMTKN-1', csrPem: 7 }), /lacks "csrPem"/],
      ['an over-long token', encodeMessage({ token: 'x'.repeat(1000), csrPem: 'x' }), /"token" .* longer than/],
      ['an advertise address with spaces', encodeMessage({ token: 't', csrPem: 'c', advertiseAddress: 'a b' }), /"advertiseAddress"/],
    ])('rejects %s with INVALID_ARGUMENT', async (_label, body, details) => {
      const result = await issue(body);
      expect(result.code).toBe(grpc.status.INVALID_ARGUMENT);
      expect(result.details).toMatch(details);
    });

    it('rejects a bad CSR with INVALID_ARGUMENT and registers nothing', async () => {
      const before = authority.nodes.size;
      const result = await issue(encodeMessage({ token: authority.joinTokens().worker, csrPem: '-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----' }));
      expect(result.code).toBe(grpc.status.INVALID_ARGUMENT);
      expect(result.details).toMatch(/certificate signing request is malformed/);
      expect(authority.nodes.size).toBe(before);
    });

    it('serves the root CA certificate to anyone', async () => {
      const result = await rawCall(server.address, NODE_CA_PATHS.getRootCaCertificate, encodeMessage({}), anonymous());
      expect(result).toEqual({ code: grpc.status.OK, response: { certPem: cluster.rootCa.certPem } });
    });
  });

  describe('renewal', () => {
    let joined: NodeCredentials;

    beforeAll(async () => {
      joined = await joinCluster({ address: server.address, token: authority.joinTokens().worker });
    });

    const renew = (node: NodeCredentials) =>
      renewNodeCertificate({ address: server.address, rootCaPem: node.rootCaPem, certPem: node.certPem, keyPem: node.keyPem });

    it('issues a new certificate and key for the same node ID and role', async () => {
      const renewed = await renew(joined);
      expect(renewed).toMatchObject({ nodeId: joined.nodeId, role: 'worker' });
      expect(renewed.certPem).not.toBe(joined.certPem);
      expect(renewed.keyPem).not.toBe(joined.keyPem);
      expect(parseNodeCertificate(renewed.certPem)).toMatchObject({ nodeId: joined.nodeId, role: 'worker', clusterId: cluster.clusterId });
      joined = renewed;
    });

    it('carries a promotion into the renewed certificate', async () => {
      authority.nodes.set(joined.nodeId, { role: 'manager', advertiseAddress: undefined });
      const renewed = await renew(joined);
      expect(renewed).toMatchObject({ nodeId: joined.nodeId, role: 'manager' });
      expect(subjectOf(renewed.certPem)).toContain('OU=swarm-manager');
      expect(renewed.caKeyPem).toBeDefined();
    });

    it('refuses a node that was removed', async () => {
      authority.nodes.delete(joined.nodeId);
      const err = await rejection(renew(joined));
      expect(err).toMatchObject({ reason: 'refused', code: grpc.status.PERMISSION_DENIED });
      expect(err.message).toMatch(new RegExp(`node ${joined.nodeId} was removed from the cluster$`));
    });

    it('refuses a call without a client certificate', async () => {
      const { csrPem } = await createNodeCsr();
      const result = await rawCall(server.address, NODE_CA_PATHS.renewNodeCertificate, encodeMessage({ csrPem }), anonymous());
      expect(result.code).toBe(grpc.status.PERMISSION_DENIED);
      expect(result.details).toMatch(/presented no valid node certificate/);
    });
  });
});

describe('a man in the middle with another root CA', () => {
  it('is refused after GetRootCACertificate and never receives the token', async () => {
    const cluster = await makeCluster();
    const mitm = await makeCluster();
    const token = generateJoinToken(cluster.rootCa.certDer);
    const calls: string[] = [];
    const record = (name: string, response: unknown): grpc.handleUnaryCall<unknown, unknown> => (_call, callback) => {
      calls.push(name);
      callback(null, response);
    };
    const server = await serve(mitm, (s) =>
      s.addService(nodeCaServiceDefinition, {
        getRootCaCertificate: record('root', { certPem: mitm.rootCa.certPem }),
        issueNodeCertificate: record('issue', {}),
        renewNodeCertificate: record('renew', {}),
      }),
    );
    try {
      const err = await rejection(joinCluster({ address: server.address, token }));
      expect(err).toBeInstanceOf(JoinError);
      expect(err).toMatchObject({ reason: 'root-ca-mismatch', message: ROOT_CA_MISMATCH_MESSAGE });
      expect(calls).toEqual(['root']);
    } finally {
      await server.stop();
    }
  });
});
