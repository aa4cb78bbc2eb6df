/**
 * The CA's gRPC service, SwarmKit's NodeCA: how a node gets its first certificate (join) and its next
 * ones (renewal).
 *
 * Messages are JSON objects carried as UTF-8 bytes, like the raft service's own framing: no protobuf
 * code generation. Every incoming field is validated here; a malformed request is answered with
 * INVALID_ARGUMENT naming what is wrong. Unknown fields are ignored, as protobuf would, so a newer
 * node can add fields without breaking older managers.
 *
 * Access: GetRootCACertificate and IssueNodeCertificate are open (a joining node has no certificate
 * yet; the join token is its credential), RenewNodeCertificate needs a valid node certificate of this
 * cluster. The service reaches the cluster only through JoinAuthority, so it does not depend on the
 * store and tests can fake it.
 */
import * as grpc from '@grpc/grpc-js';
import { decodeMessage, encodeMessage, UNDECODABLE } from '../rpc/json-codec';
import { unaryJsonMethod } from '../rpc/json-service';
import { CertificateError, type CertificateErrorReason, JoinTokenError } from './errors';
import { newNodeId } from './ids';
import { type ParsedJoinToken, parseJoinToken, tokenPinsRootCa, verifyJoinToken } from './join-token';
import { signNodeCsr } from './node-cert';
import { type RootCa, rootCaKeyPem } from './root-ca';
import { type NodeRole } from './roles';
import { type CallWithAuthContext, PermissionDeniedError, requireRole } from './tls-credentials';

export interface JoinAuthority {
  /** Must hold the signing key. */
  readonly rootCa: RootCa;
  readonly clusterId: string;
  /** The current tokens; rotation replaces them, and the old ones stop working at once. */
  joinTokens(): { worker: string; manager: string };
  /** Records a new node and returns its ID. Called only once the token and the CSR passed. */
  registerNode(role: NodeRole, advertiseAddress: string | undefined): Promise<string>;
  /** The node's role now (a promotion takes effect at its next renewal); undefined once removed. */
  currentRole(nodeId: string): Promise<NodeRole | undefined>;
  certValidityMs(): number;
}

export const NODE_CA_SERVICE_NAME = 'swarmdesk.ca.NodeCA';
export const NODE_CA_PATHS = Object.freeze({
  getRootCaCertificate: `/${NODE_CA_SERVICE_NAME}/GetRootCACertificate`,
  issueNodeCertificate: `/${NODE_CA_SERVICE_NAME}/IssueNodeCertificate`,
  renewNodeCertificate: `/${NODE_CA_SERVICE_NAME}/RenewNodeCertificate`,
});

export const OTHER_CLUSTER_MESSAGE =
  'the join token is for a different cluster (its CA digest does not match this cluster\'s root CA)';
export const INVALID_TOKEN_MESSAGE = 'invalid join token';

// ---------------------------------------------------------------------------------------------------
// Messages

export interface RootCaCertificateResponse {
  readonly certPem: string;
}

export interface IssueNodeCertificateRequest {
  readonly token: string;
  readonly csrPem: string;
  readonly advertiseAddress?: string;
}

export interface RenewNodeCertificateRequest {
  readonly csrPem: string;
}

/** The answer to both IssueNodeCertificate and RenewNodeCertificate. */
export interface NodeCertificateResponse {
  readonly nodeId: string;
  readonly role: NodeRole;
  readonly certPem: string;
  readonly rootCaPem: string;
  /**
   * The root CA's signing key, only in answers to managers: any manager may become leader and must
   * then sign certificates. It travels only over TLS verified against the pinned root.
   */
  readonly caKeyPem?: string;
}

/** A message that is not what its method expects; the server answers INVALID_ARGUMENT. */
export class MalformedMessageError extends Error {
  override readonly name = 'MalformedMessageError';
}

// Generous bounds: a P-256 CSR or certificate PEM is well under 2 KiB, a token is 84 characters.
const MAX_PEM_LENGTH = 16 * 1024;
const MAX_TOKEN_LENGTH = 256;
const MAX_ADDRESS_LENGTH = 300;
const MAX_ID_LENGTH = 64;
const PRINTABLE_ASCII = /^[\x21-\x7e]+$/;

export { decodeMessage, encodeMessage };

type Fields = Readonly<Record<string, unknown>>;

function asObject(value: unknown, what: string): Fields {
  if (value === UNDECODABLE) throw new MalformedMessageError(`the ${what} is not UTF-8 JSON`);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new MalformedMessageError(`the ${what} is not a JSON object`);
  }
  return value as Fields;
}

function stringField(fields: Fields, name: string, what: string, maxLength: number): string {
  const value = fields[name];
  if (typeof value !== 'string' || value.length === 0) {
    throw new MalformedMessageError(`the ${what} lacks "${name}" (a non-empty string)`);
  }
  if (value.length > maxLength) {
    throw new MalformedMessageError(`"${name}" in the ${what} is longer than ${maxLength} characters`);
  }
  return value;
}

function roleField(fields: Fields, what: string): NodeRole {
  const role = fields.role;
  if (role !== 'worker' && role !== 'manager') throw new MalformedMessageError(`"role" in the ${what} is neither "worker" nor "manager"`);
  return role;
}

function advertiseAddressField(fields: Fields, what: string): string | undefined {
  if (fields.advertiseAddress === undefined) return undefined;
  const address = stringField(fields, 'advertiseAddress', what, MAX_ADDRESS_LENGTH);
  if (!PRINTABLE_ASCII.test(address)) {
    throw new MalformedMessageError(`"advertiseAddress" in the ${what} must be printable ASCII without spaces`);
  }
  return address;
}

export function decodeRootCaRequest(value: unknown): void {
  asObject(value, 'GetRootCACertificate request');
}

export function decodeIssueRequest(value: unknown): IssueNodeCertificateRequest {
  const what = 'IssueNodeCertificate request';
  const fields = asObject(value, what);
  return {
    token: stringField(fields, 'token', what, MAX_TOKEN_LENGTH),
    csrPem: stringField(fields, 'csrPem', what, MAX_PEM_LENGTH),
    advertiseAddress: advertiseAddressField(fields, what),
  };
}

export function decodeRenewRequest(value: unknown): RenewNodeCertificateRequest {
  const what = 'RenewNodeCertificate request';
  return { csrPem: stringField(asObject(value, what), 'csrPem', what, MAX_PEM_LENGTH) };
}

export function decodeRootCaResponse(value: unknown): RootCaCertificateResponse {
  const what = 'GetRootCACertificate response';
  return { certPem: stringField(asObject(value, what), 'certPem', what, MAX_PEM_LENGTH) };
}

export function decodeNodeCertificateResponse(value: unknown): NodeCertificateResponse {
  const what = 'node certificate response';
  const fields = asObject(value, what);
  return {
    nodeId: stringField(fields, 'nodeId', what, MAX_ID_LENGTH),
    role: roleField(fields, what),
    certPem: stringField(fields, 'certPem', what, MAX_PEM_LENGTH),
    rootCaPem: stringField(fields, 'rootCaPem', what, MAX_PEM_LENGTH),
    caKeyPem: fields.caKeyPem === undefined ? undefined : stringField(fields, 'caKeyPem', what, MAX_PEM_LENGTH),
  };
}

export const nodeCaServiceDefinition: grpc.ServiceDefinition = {
  getRootCaCertificate: unaryJsonMethod(NODE_CA_PATHS.getRootCaCertificate),
  issueNodeCertificate: unaryJsonMethod(NODE_CA_PATHS.issueNodeCertificate),
  renewNodeCertificate: unaryJsonMethod(NODE_CA_PATHS.renewNodeCertificate),
};

// ---------------------------------------------------------------------------------------------------
// Status errors

class CaStatusError extends Error implements grpc.ServerErrorResponse {
  override readonly name = 'CaStatusError';
  readonly details: string;
  readonly metadata = new grpc.Metadata();

  constructor(
    readonly code: grpc.status,
    message: string,
  ) {
    super(message);
    this.details = message;
  }
}

/** CSR problems are the caller's; any other CertificateError while signing is our own fault. */
const CSR_REASONS: ReadonlySet<CertificateErrorReason> = new Set(['malformed-csr', 'unsupported-key', 'bad-signature']);

function toStatusError(err: unknown): grpc.ServerErrorResponse {
  if (err instanceof CaStatusError || err instanceof PermissionDeniedError) return err;
  if (err instanceof MalformedMessageError) return new CaStatusError(grpc.status.INVALID_ARGUMENT, err.message);
  if (err instanceof CertificateError && CSR_REASONS.has(err.reason)) {
    return new CaStatusError(grpc.status.INVALID_ARGUMENT, err.message);
  }
  // Anything else is a bug or a broken authority; its message may describe internals, so it stays here.
  return new CaStatusError(grpc.status.INTERNAL, 'the certificate authority failed to process the request');
}

// ---------------------------------------------------------------------------------------------------
// Handlers

/** The role the token grants; throws a status error naming why it does not. */
function checkJoinToken(authority: JoinAuthority, token: string): NodeRole {
  let presented: ParsedJoinToken;
  try {
    presented = parseJoinToken(token);
  } catch (err) {
    // Parse messages name the malformed part and never echo the secret.
    if (err instanceof JoinTokenError) throw new CaStatusError(grpc.status.INVALID_ARGUMENT, err.message);
    throw err;
  }
  // Checked against the root itself rather than the current tokens, so the message is exact.
  if (!tokenPinsRootCa(presented, authority.rootCa.certDer)) {
    throw new CaStatusError(grpc.status.PERMISSION_DENIED, OTHER_CLUSTER_MESSAGE);
  }
  try {
    return verifyJoinToken(token, authority.joinTokens());
  } catch (err) {
    if (err instanceof JoinTokenError && err.reason === 'wrong-secret') {
      throw new CaStatusError(grpc.status.PERMISSION_DENIED, INVALID_TOKEN_MESSAGE);
    }
    // Any other reason means the authority's own tokens are broken: INTERNAL, via toStatusError.
    throw err;
  }
}

function signFor(authority: JoinAuthority, csrPem: string, nodeId: string, role: NodeRole): Promise<string> {
  return signNodeCsr(authority.rootCa, csrPem, { nodeId, role, clusterId: authority.clusterId, validityMs: authority.certValidityMs() });
}

function requireSigningKey(authority: JoinAuthority): void {
  if (authority.rootCa.signingKey === undefined) {
    throw new CaStatusError(grpc.status.FAILED_PRECONDITION, 'this manager cannot sign certificates: it does not hold the root CA key');
  }
}

async function signingKeyFor(authority: JoinAuthority, role: NodeRole): Promise<{ caKeyPem?: string }> {
  return role === 'manager' ? { caKeyPem: await rootCaKeyPem(authority.rootCa) } : {};
}

async function issueNodeCertificate(authority: JoinAuthority, request: unknown): Promise<NodeCertificateResponse> {
  const { token, csrPem, advertiseAddress } = decodeIssueRequest(request);
  const role = checkJoinToken(authority, token);
  requireSigningKey(authority);
  // A dry run with a throwaway ID: signNodeCsr is the one complete CSR check, and running it before
  // registerNode keeps a bad CSR from leaving a node record behind.
  await signFor(authority, csrPem, newNodeId(), role);
  const nodeId = await authority.registerNode(role, advertiseAddress);
  const certPem = await signFor(authority, csrPem, nodeId, role);
  return { nodeId, role, certPem, rootCaPem: authority.rootCa.certPem, ...(await signingKeyFor(authority, role)) };
}

async function renewNodeCertificate(
  authority: JoinAuthority,
  call: CallWithAuthContext,
  request: unknown,
): Promise<NodeCertificateResponse> {
  const caller = requireRole(call, ['worker', 'manager'], { rootCaPem: authority.rootCa.certPem, clusterId: authority.clusterId });
  const { csrPem } = decodeRenewRequest(request);
  requireSigningKey(authority);
  // The role comes from the cluster, not the old certificate, so promotions and demotions take effect.
  const role = await authority.currentRole(caller.nodeId);
  if (role === undefined) {
    throw new CaStatusError(grpc.status.PERMISSION_DENIED, `node ${caller.nodeId} was removed from the cluster`);
  }
  const certPem = await signFor(authority, csrPem, caller.nodeId, role);
  return { nodeId: caller.nodeId, role, certPem, rootCaPem: authority.rootCa.certPem, ...(await signingKeyFor(authority, role)) };
}

type UnaryCall = grpc.ServerUnaryCall<unknown, unknown>;

function unaryHandler(handle: (call: UnaryCall) => Promise<unknown>): grpc.handleUnaryCall<unknown, unknown> {
  return (call, callback) => {
    handle(call).then(
      (response) => callback(null, response),
      (err: unknown) => callback(toStatusError(err)),
    );
  };
}

export function addNodeCaService(server: grpc.Server, authority: JoinAuthority): void {
  server.addService(nodeCaServiceDefinition, {
    getRootCaCertificate: unaryHandler(async (call): Promise<RootCaCertificateResponse> => {
      decodeRootCaRequest(call.request);
      return { certPem: authority.rootCa.certPem };
    }),
    issueNodeCertificate: unaryHandler((call) => issueNodeCertificate(authority, call.request)),
    renewNodeCertificate: unaryHandler((call) => renewNodeCertificate(authority, call, call.request)),
  });
}
