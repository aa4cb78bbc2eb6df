/**
 * gRPC credentials for mutual TLS between nodes, and per-call authorization from the peer certificate.
 *
 * Trust: every node trusts exactly the cluster's root CA (never the system roots), so "chains to our
 * root" is what OpenSSL checks during the handshake on both sides.
 *
 * Servers request a client certificate but do not require one, like Go's VerifyClientCertIfGiven in
 * SwarmKit: a node that is joining has no certificate yet and must still reach the CA service to get
 * one. Authorization therefore happens per call (requireRole), not per connection.
 *
 * Note on grpc-js: ServerCredentials.createSsl(ca, pairs, false) sets `requestCert: false`, so the
 * server would never ask for a client certificate and no call could ever see one; createSsl(..., true)
 * requires one and locks joining nodes out. Hence serverCredentials() subclasses ServerCredentials with
 * requestCert: true, rejectUnauthorized: false. With those options Node completes the handshake even
 * for a certificate that does not chain to our root; grpc-js then reports the call as unauthenticated
 * (getAuthContext() is empty unless the socket is `authorized`), so such a client gets no more than a
 * client without a certificate. listenMutualTls() goes further and closes those connections right
 * after the handshake, the closest Node allows to "verify the client certificate if one is given".
 *
 * Clients: a node dials managers by address, but certificates name roles, not hosts. We send
 * "swarm-manager" as the TLS server name (channel option grpc.ssl_target_name_override, see
 * managerChannelOptions) and replace the hostname check with checkServerIdentity that accepts a
 * certificate which chained to our root (Node calls it only after chain verification succeeded), has
 * OU swarm-manager and the DNS SAN swarm-manager, and optionally the expected cluster and node ID.
 */
import { X509Certificate as NodeX509Certificate } from 'node:crypto';
import { type AddressInfo } from 'node:net';
import * as tls from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { CertificateError } from './errors';
import { certificateValidity, type NodeCertificateInfo, parseNodeCertificate } from './node-cert';
import { MANAGER_ROLE_NAME, type NodeRole } from './roles';

export interface ServerTlsMaterial {
  readonly rootCaPem: string;
  readonly certPem: string;
  readonly keyPem: string;
}

export interface ClientTlsMaterial {
  readonly rootCaPem: string;
  /** Absent while joining: the node has no certificate yet. */
  readonly certPem?: string;
  readonly keyPem?: string;
  /** When set, the manager's certificate must carry this cluster ID (O). */
  readonly expectedClusterId?: string;
  /** When set, the manager's certificate must carry this node ID (CN), e.g. a known raft peer. */
  readonly expectedNodeId?: string;
}

export interface NodeIdentity {
  readonly nodeId: string;
  readonly role: NodeRole;
  readonly clusterId: string;
}

/**
 * Nothing in swarmdesk serves or reads channelz (gRPC's introspection service), and with it on grpc-js
 * books every call and socket: a few percent of the CPU of each call, spent on every raft message,
 * dispatcher heartbeat and control call.
 */
export const withoutChannelz: grpc.ChannelOptions = Object.freeze({ 'grpc.enable_channelz': 0 });

/** Pass these channel options with clientCredentials() when creating a client or channel. */
export const managerChannelOptions: grpc.ChannelOptions = Object.freeze({
  ...withoutChannelz,
  'grpc.ssl_target_name_override': MANAGER_ROLE_NAME,
});

function tlsServerOptions(material: ServerTlsMaterial): tls.TlsOptions {
  return {
    ca: [material.rootCaPem],
    cert: material.certPem,
    key: material.keyPem,
    requestCert: true,
    rejectUnauthorized: false,
    minVersion: 'TLSv1.2',
  };
}

class OptionalClientCertificateCredentials extends grpc.ServerCredentials {
  constructor(material: ServerTlsMaterial) {
    const { ca, cert, key, ...connection } = tlsServerOptions(material);
    super(connection, { ca, cert, key });
  }

  override _equals(other: grpc.ServerCredentials): boolean {
    return other === this;
  }
}

export function serverCredentials(material: ServerTlsMaterial): grpc.ServerCredentials {
  return new OptionalClientCertificateCredentials(material);
}

function subjectValues(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/** The client's check of a manager's certificate; exported for tests and for non-gRPC TLS clients. */
export function checkManagerIdentity(
  cert: tls.PeerCertificate,
  expected: { clusterId?: string; nodeId?: string } = {},
): Error | undefined {
  // Node's typings say string, but multi-valued attributes arrive as arrays.
  const subject = cert.subject as unknown as Record<string, string | string[] | undefined>;
  const ou = subjectValues(subject.OU);
  if (ou.length !== 1 || ou[0] !== MANAGER_ROLE_NAME) {
    return new Error(`the server's certificate is not a manager certificate (OU ${JSON.stringify(ou)})`);
  }
  const sanError = tls.checkServerIdentity(MANAGER_ROLE_NAME, cert);
  if (sanError !== undefined) return sanError;
  if (expected.clusterId !== undefined) {
    const o = subjectValues(subject.O);
    if (o.length !== 1 || o[0] !== expected.clusterId) return new Error('the server\'s certificate belongs to another cluster');
  }
  if (expected.nodeId !== undefined) {
    const cn = subjectValues(subject.CN);
    if (cn.length !== 1 || cn[0] !== expected.nodeId) return new Error('the server\'s certificate names another node');
  }
  return undefined;
}

export function clientCredentials(material: ClientTlsMaterial): grpc.ChannelCredentials {
  if ((material.certPem === undefined) !== (material.keyPem === undefined)) {
    throw new CertificateError('unsupported-key', 'a client certificate and its key must be given together');
  }
  const expected = { clusterId: material.expectedClusterId, nodeId: material.expectedNodeId };
  return grpc.credentials.createSsl(
    Buffer.from(material.rootCaPem),
    material.keyPem === undefined ? null : Buffer.from(material.keyPem),
    material.certPem === undefined ? null : Buffer.from(material.certPem),
    // Node calls this only after the chain verified against rootCaPem; the host name is ignored on purpose.
    { checkServerIdentity: (_host, cert) => checkManagerIdentity(cert, expected) },
  );
}

// ---------------------------------------------------------------------------------------------------
// Per-call identity and authorization

/** What grpc-js server calls offer; typed structurally because grpc-js does not export AuthContext. */
export interface CallWithAuthContext {
  getAuthContext(): { transportSecurityType?: string; sslPeerCertificate?: tls.PeerCertificate } | null;
}

export interface PeerCheckOptions {
  /**
   * Re-verify the peer certificate's signature against this root. OpenSSL already did at the
   * handshake; this guards against a server built with other credentials than ours.
   */
  readonly rootCaPem?: string;
  /** Only certificates of this cluster count. */
  readonly clusterId?: string;
  readonly now?: Date;
}

const rootKeys = new Map<string, NodeX509Certificate>();

function rootCertificate(rootCaPem: string): NodeX509Certificate {
  let root = rootKeys.get(rootCaPem);
  if (root === undefined) {
    root = new NodeX509Certificate(rootCaPem);
    if (rootKeys.size > 16) rootKeys.clear();
    rootKeys.set(rootCaPem, root);
  }
  return root;
}

/**
 * Parsing and verifying a certificate costs about a millisecond, and every heartbeat and status report
 * of every node pays for it (it was half of an idle leader's CPU with 100 nodes), but a node presents
 * the same certificate for weeks. So the outcome is kept per (root, certificate DER): both are
 * immutable, so the signature check and the parsed fields cannot change. What depends on the call
 * (the time, the cluster asked for) is still checked every time. Oldest entries go first past the cap.
 */
const MAX_VERIFIED_CERTIFICATES = 10_000;
const verifiedCertificates = new Map<string, NodeCertificateInfo | null>();

function verifiedCertificate(raw: Buffer, rootCaPem: string | undefined): NodeCertificateInfo | null {
  const key = `${rootCaPem ?? ''}\n${raw.toString('base64')}`;
  const known = verifiedCertificates.get(key);
  if (known !== undefined) return known;
  // A bad root PEM is our configuration error, so it throws rather than denying quietly (uncached).
  const root = rootCaPem === undefined ? undefined : rootCertificate(rootCaPem);
  let info: NodeCertificateInfo | null;
  try {
    const leaf = root === undefined ? undefined : new NodeX509Certificate(raw);
    info = leaf !== undefined && root !== undefined && (!leaf.checkIssued(root) || !leaf.verify(root.publicKey)) ? null : parseNodeCertificate(new Uint8Array(raw));
  } catch {
    info = null;
  }
  if (verifiedCertificates.size >= MAX_VERIFIED_CERTIFICATES) {
    const oldest = verifiedCertificates.keys().next();
    if (oldest.done !== true) verifiedCertificates.delete(oldest.value);
  }
  verifiedCertificates.set(key, info);
  return info;
}

/**
 * The verified identity of the peer of a server call, or undefined when it presented no certificate,
 * one that did not verify (grpc-js hides those: it reports only `authorized` sockets), one past its
 * validity (a connection can outlive its certificate), or one that is not a node certificate.
 */
export function peerIdentity(call: CallWithAuthContext, options: PeerCheckOptions = {}): NodeIdentity | undefined {
  const context = call.getAuthContext();
  const peer = context?.sslPeerCertificate;
  if (context?.transportSecurityType !== 'ssl' || peer?.raw === undefined) return undefined;
  const info = verifiedCertificate(peer.raw, options.rootCaPem);
  if (info === null) return undefined;
  if (certificateValidity(info, options.now) !== 'valid') return undefined;
  if (options.clusterId !== undefined && info.clusterId !== options.clusterId) return undefined;
  return { nodeId: info.nodeId, role: info.role, clusterId: info.clusterId };
}

/** A grpc status error: services pass it to their callback or emit it; grpc-js sends code and details. */
export class PermissionDeniedError extends Error implements grpc.ServerErrorResponse {
  override readonly name = 'PermissionDeniedError';
  readonly code = grpc.status.PERMISSION_DENIED;
  readonly details: string;
  readonly metadata = new grpc.Metadata();

  constructor(message: string) {
    super(message);
    this.details = message;
  }
}

/** Returns the caller's identity when it holds a certificate of one of `roles`; throws otherwise. */
export function requireRole(call: CallWithAuthContext, roles: readonly NodeRole[], options: PeerCheckOptions = {}): NodeIdentity {
  const identity = peerIdentity(call, options);
  const needed = roles.length === 1 ? `a ${roles[0]}` : `a ${roles.join(' or ')}`;
  if (identity === undefined) {
    throw new PermissionDeniedError(`this call needs ${needed} certificate; the caller presented no valid node certificate`);
  }
  if (!roles.includes(identity.role)) {
    throw new PermissionDeniedError(`this call needs ${needed} certificate; the caller has a ${identity.role} certificate`);
  }
  return identity;
}

// ---------------------------------------------------------------------------------------------------
// Listening with handshake-time rejection of foreign client certificates

export interface MutualTlsListener {
  readonly port: number;
  /** Stops accepting connections and ends the open ones; shut the grpc.Server down separately. */
  close(): Promise<void>;
}

/**
 * Serves `server` on host:port over our own TLS listener and hands each accepted connection to grpc.
 * Unlike bindAsync with serverCredentials(), a client that presents a certificate which does not
 * chain to our root is disconnected as soon as its handshake completes (Node's own
 * rejectUnauthorized does the same, and it cannot be combined with an optional certificate).
 */
export function listenMutualTls(server: grpc.Server, host: string, port: number, material: ServerTlsMaterial): Promise<MutualTlsListener> {
  // The TLS is ours; grpc sees decrypted HTTP/2. getAuthContext still works: it reads the session's
  // socket, which is our TLSSocket.
  const injector = server.createConnectionInjector(grpc.ServerCredentials.createInsecure());
  // Open connections, ended by close(): tls.Server.close() alone waits for every one of them, and
  // other nodes' sessions and raft streams never end by themselves, so a stopping manager would hang.
  const sockets = new Set<tls.TLSSocket>();
  const tlsServer = tls.createServer({ ...tlsServerOptions(material), ALPNProtocols: ['h2'] }, (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => {
      // A peer resetting the connection is routine; grpc reports failed calls itself.
    });
    const presented = Object.keys(socket.getPeerCertificate()).length > 0;
    if (presented && !socket.authorized) {
      socket.destroy();
      return;
    }
    injector.injectConnection(socket);
  });
  return new Promise((resolve, reject) => {
    tlsServer.once('error', reject);
    tlsServer.listen(port, host, () => {
      tlsServer.off('error', reject);
      resolve({
        port: (tlsServer.address() as AddressInfo).port,
        close: () =>
          new Promise<void>((done) => {
            injector.destroy();
            tlsServer.close(() => done());
            for (const socket of sockets) socket.destroy();
          }),
      });
    });
  });
}
