/**
 * The joining node's side of the NodeCA service: get a first certificate with a join token, and
 * renew it later with the certificate itself.
 *
 * Trust on join: the node does not know the cluster's root CA yet, so it fetches it over TLS without
 * verifying the server, and believes it only if its digest is the one the join token pins (the token
 * came over a trusted path, e.g. the operator copying it). Only then does it send its CSR and the
 * token, over a connection that verifies the manager against that root: a man in the middle can
 * neither substitute its own CA nor learn the token's secret.
 *
 * Error messages name the manager's address and the cause, never the token's secret or a key.
 */
import * as grpc from '@grpc/grpc-js';
import {
  decodeMessage,
  decodeNodeCertificateResponse,
  decodeRootCaResponse,
  encodeMessage,
  type IssueNodeCertificateRequest,
  MalformedMessageError,
  NODE_CA_PATHS,
  type NodeCertificateResponse,
  type RenewNodeCertificateRequest,
} from './ca-service';
import { CertificateError } from './errors';
import { type ParsedJoinToken, parseJoinToken, tokenPinsRootCa } from './join-token';
import { keyMatchesCertificate, privateKeyFromPem } from './keys';
import { createNodeCsr, parseNodeCertificate, verifyNodeCertificate } from './node-cert';
import { loadRootCa, type RootCa } from './root-ca';
import { type NodeRole } from './roles';
import { clientCredentials, managerChannelOptions } from './tls-credentials';
import { x509 } from './x509';

export const DEFAULT_JOIN_TIMEOUT_MS = 10_000;

export const ROOT_CA_MISMATCH_MESSAGE = 'the manager\'s root CA does not match the join token: possible interception or wrong cluster';

export type JoinErrorReason =
  /** No answer within the deadline, connection refused, or the TLS handshake failed. */
  | 'unreachable'
  /** The root CA the manager sent is not the one the token pins. */
  | 'root-ca-mismatch'
  /** The manager answered with an error status (bad token, removed node, ...); see `code`. */
  | 'refused'
  /** The manager answered, but with something unusable (malformed message, wrong certificate). */
  | 'bad-response';

export class JoinError extends Error {
  override readonly name = 'JoinError';
  constructor(
    readonly reason: JoinErrorReason,
    message: string,
    /** The gRPC status, when the error came from a call. */
    readonly code?: grpc.status,
  ) {
    super(message);
  }
}

export interface JoinClusterOptions {
  /** host:port of a manager. */
  readonly address: string;
  readonly token: string;
  readonly advertiseAddress?: string;
  /** Bound on the whole join; DEFAULT_JOIN_TIMEOUT_MS by default. */
  readonly timeoutMs?: number;
}

export interface NodeCredentials {
  readonly nodeId: string;
  readonly role: NodeRole;
  /** PKCS#8 PEM; persist with writeKeyFile (0600) and never log. */
  readonly keyPem: string;
  readonly certPem: string;
  readonly rootCaPem: string;
  /** The root CA's signing key (PKCS#8 PEM), given to managers only; persist 0600, never log. */
  readonly caKeyPem?: string;
}

export interface RenewCertificateOptions {
  readonly address: string;
  /** The node's current material: the root it trusts and the certificate it authenticates with. */
  readonly rootCaPem: string;
  readonly certPem: string;
  readonly keyPem: string;
  readonly timeoutMs?: number;
}

/** TLS that accepts any server: used only to fetch the root CA, which the token's digest then checks. */
function unverifiedCredentials(): grpc.ChannelCredentials {
  return grpc.credentials.createSsl(null, null, null, { rejectUnauthorized: false, checkServerIdentity: () => undefined });
}

function unaryCall(address: string, credentials: grpc.ChannelCredentials, path: string, request: unknown, deadline: number): Promise<unknown> {
  const client = new grpc.Client(address, credentials, managerChannelOptions);
  return new Promise<unknown>((resolve, reject) => {
    client.makeUnaryRequest(path, encodeMessage, decodeMessage, request, { deadline }, (err, response) => {
      client.close();
      if (err) reject(err);
      else resolve(response);
    });
  });
}

function isServiceError(err: unknown): err is grpc.ServiceError {
  return err instanceof Error && typeof (err as Partial<grpc.ServiceError>).code === 'number';
}

/** Turns a failed call into a JoinError; the details come from grpc or the manager, never from our secrets. */
function callFailure(err: unknown, address: string): JoinError {
  if (!isServiceError(err)) return new JoinError('unreachable', `cannot reach the manager at ${address}: ${String(err)}`);
  if (err.code === grpc.status.UNAVAILABLE || err.code === grpc.status.DEADLINE_EXCEEDED) {
    return new JoinError('unreachable', `cannot reach the manager at ${address}: ${err.details}`, err.code);
  }
  return new JoinError('refused', `the manager at ${address} refused the request: ${err.details}`, err.code);
}

async function call<T>(
  address: string,
  credentials: grpc.ChannelCredentials,
  path: string,
  request: unknown,
  deadline: number,
  decode: (value: unknown) => T,
): Promise<T> {
  let response: unknown;
  try {
    response = await unaryCall(address, credentials, path, request, deadline);
  } catch (err) {
    throw callFailure(err, address);
  }
  try {
    return decode(response);
  } catch (err) {
    if (err instanceof MalformedMessageError) throw new JoinError('bad-response', `the manager at ${address} sent a malformed answer: ${err.message}`);
    throw err;
  }
}

async function fetchPinnedRootCa(address: string, token: ParsedJoinToken, deadline: number): Promise<RootCa> {
  const { certPem } = await call(address, unverifiedCredentials(), NODE_CA_PATHS.getRootCaCertificate, {}, deadline, decodeRootCaResponse);
  let rootCa: RootCa;
  try {
    rootCa = await loadRootCa(certPem);
  } catch (err) {
    // Something that is not a CA certificate cannot match the token either; say what was wrong.
    const why = err instanceof CertificateError ? err.message : 'unreadable certificate';
    throw new JoinError('root-ca-mismatch', `${ROOT_CA_MISMATCH_MESSAGE} (${why})`);
  }
  if (!tokenPinsRootCa(token, rootCa.certDer)) throw new JoinError('root-ca-mismatch', ROOT_CA_MISMATCH_MESSAGE);
  return rootCa;
}

/**
 * Checks what the manager issued before the node relies on it: signed by the pinned root, naming the
 * node and role the answer claims, for the key we hold, and with the same root it answered with.
 */
async function checkIssued(address: string, issued: NodeCertificateResponse, rootCa: RootCa, keyPem: string): Promise<void> {
  const unusable = (why: string) => new JoinError('bad-response', `the manager at ${address} returned an unusable certificate: ${why}`);
  let matchesKey: boolean;
  let sameRoot: boolean;
  try {
    const info = await verifyNodeCertificate(issued.certPem, rootCa);
    if (info.nodeId !== issued.nodeId || info.role !== issued.role) throw unusable('it names another node or role than the answer');
    matchesKey = await keyMatchesCertificate(await privateKeyFromPem(keyPem), new x509.X509Certificate(issued.certPem));
    sameRoot = sameRootCa(rootCa, await loadRootCa(issued.rootCaPem));
  } catch (err) {
    if (err instanceof JoinError) throw err;
    throw unusable(err instanceof CertificateError ? err.message : 'it cannot be read');
  }
  if (!matchesKey) throw unusable('it is not for the key this node generated');
  if (!sameRoot) throw unusable('the answer names another root CA than the one the join token pins');
}

/** A manager's answer must carry the root's own key (a worker's must carry none). */
async function checkedCaKey(address: string, issued: NodeCertificateResponse, rootCa: RootCa): Promise<{ caKeyPem?: string }> {
  if (issued.role !== 'manager') return {};
  if (issued.caKeyPem === undefined) throw new JoinError('bad-response', `the manager at ${address} issued a manager certificate without the CA key`);
  let matches: boolean;
  try {
    matches = await keyMatchesCertificate(await privateKeyFromPem(issued.caKeyPem), rootCa.cert);
  } catch {
    matches = false;
  }
  if (!matches) throw new JoinError('bad-response', `the manager at ${address} sent a CA key that does not belong to the root CA`);
  return { caKeyPem: issued.caKeyPem };
}

function sameRootCa(a: RootCa, b: RootCa): boolean {
  return Buffer.from(a.digest).equals(Buffer.from(b.digest));
}

/** Joins a cluster: returns the node's new identity, key and certificate, and the cluster's root CA. */
export async function joinCluster(options: JoinClusterOptions): Promise<NodeCredentials> {
  // Parsing first: a malformed token fails here, before any network I/O.
  const token = parseJoinToken(options.token);
  const deadline = Date.now() + (options.timeoutMs ?? DEFAULT_JOIN_TIMEOUT_MS);
  const rootCa = await fetchPinnedRootCa(options.address, token, deadline);
  const { keyPem, csrPem } = await createNodeCsr();
  const request: IssueNodeCertificateRequest = { token: options.token, csrPem, advertiseAddress: options.advertiseAddress };
  // From here on the manager must prove it holds a manager certificate of the pinned root.
  const credentials = clientCredentials({ rootCaPem: rootCa.certPem });
  const issued = await call(options.address, credentials, NODE_CA_PATHS.issueNodeCertificate, request, deadline, decodeNodeCertificateResponse);
  await checkIssued(options.address, issued, rootCa, keyPem);
  return { nodeId: issued.nodeId, role: issued.role, keyPem, certPem: issued.certPem, rootCaPem: rootCa.certPem, ...(await checkedCaKey(options.address, issued, rootCa)) };
}

/**
 * Renews a node's certificate with a fresh key, authenticating with the current one. The new
 * certificate keeps the node ID and carries the role the cluster has for the node now.
 */
export async function renewNodeCertificate(options: RenewCertificateOptions): Promise<NodeCredentials> {
  const deadline = Date.now() + (options.timeoutMs ?? DEFAULT_JOIN_TIMEOUT_MS);
  const rootCa = await loadRootCa(options.rootCaPem);
  const { keyPem, csrPem } = await createNodeCsr();
  const request: RenewNodeCertificateRequest = { csrPem };
  const credentials = clientCredentials({ rootCaPem: options.rootCaPem, certPem: options.certPem, keyPem: options.keyPem });
  const issued = await call(options.address, credentials, NODE_CA_PATHS.renewNodeCertificate, request, deadline, decodeNodeCertificateResponse);
  await checkIssued(options.address, issued, rootCa, keyPem);
  // Renewal must never change who the node is, only its key, validity and role.
  if (issued.nodeId !== parseNodeCertificate(options.certPem).nodeId) {
    throw new JoinError('bad-response', `the manager at ${options.address} renewed the certificate for another node ID`);
  }
  return { nodeId: issued.nodeId, role: issued.role, keyPem, certPem: issued.certPem, rootCaPem: rootCa.certPem, ...(await checkedCaKey(options.address, issued, rootCa)) };
}
