/** The cluster's certificate authority: IDs, root CA, join tokens, node certificates, TLS for gRPC. */
export { ID_LENGTH, isValidId, newClusterId, newNodeId } from './ids';
export { CertificateError, type CertificateErrorReason, JoinTokenError, type JoinTokenErrorReason } from './errors';
export { generateKeyPair, privateKeyFromPem, privateKeyToPem } from './keys';
export { MANAGER_ROLE_NAME, type NodeRole, roleFromName, roleName, WORKER_ROLE_NAME } from './roles';
export {
  CERT_BACKDATE_MS,
  createRootCa,
  type CreateRootCaOptions,
  loadRootCa,
  ROOT_CA_COMMON_NAME,
  ROOT_CA_VALIDITY_MS,
  type RootCa,
  rootCaDigest,
  rootCaKeyPem,
} from './root-ca';
export {
  type ClusterJoinTokens,
  constantTimeSecretEquals,
  generateJoinToken,
  JOIN_TOKEN_PREFIX,
  JOIN_TOKEN_VERSION,
  type ParsedJoinToken,
  parseJoinToken,
  tokenPinsRootCa,
  verifyJoinToken,
} from './join-token';
export {
  certificateValidity,
  type CertificateValidity,
  createNodeCsr,
  DEFAULT_NODE_CERT_VALIDITY_MS,
  type NodeCertificateInfo,
  type NodeCsr,
  parseNodeCertificate,
  signNodeCsr,
  type SignNodeCsrRequest,
  verifyNodeCertificate,
} from './node-cert';
export { type CertificateLifetime, nextRenewalTime, RENEWAL_WINDOW_END, RENEWAL_WINDOW_START, renewalDelayMs } from './renewal';
export {
  type AtomicWriteHooks,
  CERT_FILE_MODE,
  KEY_FILE_MODE,
  readCertFile,
  readKeyFile,
  writeCertFile,
  writeFileAtomic,
  writeKeyFile,
} from './key-files';
export {
  type CallWithAuthContext,
  checkManagerIdentity,
  clientCredentials,
  type ClientTlsMaterial,
  listenMutualTls,
  managerChannelOptions,
  type MutualTlsListener,
  type NodeIdentity,
  type PeerCheckOptions,
  peerIdentity,
  PermissionDeniedError,
  requireRole,
  serverCredentials,
  type ServerTlsMaterial,
} from './tls-credentials';
export {
  addNodeCaService,
  decodeMessage,
  encodeMessage,
  INVALID_TOKEN_MESSAGE,
  type IssueNodeCertificateRequest,
  type JoinAuthority,
  MalformedMessageError,
  NODE_CA_PATHS,
  NODE_CA_SERVICE_NAME,
  nodeCaServiceDefinition,
  type NodeCertificateResponse,
  OTHER_CLUSTER_MESSAGE,
  type RenewNodeCertificateRequest,
  type RootCaCertificateResponse,
} from './ca-service';
export {
  DEFAULT_JOIN_TIMEOUT_MS,
  joinCluster,
  type JoinClusterOptions,
  JoinError,
  type JoinErrorReason,
  type NodeCredentials,
  renewNodeCertificate,
  type RenewCertificateOptions,
  ROOT_CA_MISMATCH_MESSAGE,
} from './join-client';
