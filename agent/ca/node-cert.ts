/**
 * Node certificates. A node makes its own key and a CSR (the key never leaves it); the CA signs the
 * CSR's public key into a certificate whose subject it chooses itself: CN = node ID, OU = role name,
 * O = cluster ID. The CSR's own subject is ignored, so a node cannot ask for another identity.
 */
import { isIP } from 'node:net';
import { CertificateError } from './errors';
import { isValidId } from './ids';
import { generateKeyPair, isP256PublicKey, privateKeyToPem, randomSerialNumber } from './keys';
import { CERT_BACKDATE_MS, type RootCa } from './root-ca';
import { type NodeRole, roleFromName, roleName } from './roles';
import { EC_SIGNING_ALGORITHM, x509 } from './x509';
import type * as X509 from '@peculiar/x509';

/** SwarmKit's default node certificate lifetime: 2160 hours (90 days). */
export const DEFAULT_NODE_CERT_VALIDITY_MS = 2160 * 60 * 60 * 1000;

const OID_COMMON_NAME = '2.5.4.3';
const OID_ORGANIZATIONAL_UNIT = '2.5.4.11';
const OID_ORGANIZATION = '2.5.4.10';

export interface NodeCsr {
  /** PKCS#8 PEM; write it with writeKeyFile (mode 0600), never log it. */
  readonly keyPem: string;
  readonly csrPem: string;
}

export interface SignNodeCsrRequest {
  readonly nodeId: string;
  readonly role: NodeRole;
  readonly clusterId: string;
  /** Extra IP SANs, for clients that check the address too. */
  readonly ipAddresses?: readonly string[];
  readonly validityMs?: number;
  readonly now?: Date;
}

export interface NodeCertificateInfo {
  readonly nodeId: string;
  readonly role: NodeRole;
  readonly clusterId: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

export type CertificateValidity = 'valid' | 'not-yet-valid' | 'expired';

export async function createNodeCsr(): Promise<NodeCsr> {
  const keys = await generateKeyPair();
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    // Informational only: the CA assigns the real subject.
    name: [{ CN: ['swarm-node'] }],
    keys,
    signingAlgorithm: EC_SIGNING_ALGORITHM,
  });
  return { keyPem: await privateKeyToPem(keys.privateKey), csrPem: csr.toString('pem') };
}

async function parseCsr(csrPem: string): Promise<X509.Pkcs10CertificateRequest> {
  let csr: X509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(csrPem);
  } catch (cause) {
    throw new CertificateError('malformed-csr', 'the certificate signing request is malformed: not a PEM or DER PKCS#10 request', { cause });
  }
  let p256: boolean;
  try {
    p256 = isP256PublicKey(csr.publicKey);
  } catch (cause) {
    throw new CertificateError('malformed-csr', 'the certificate signing request is malformed: its public key cannot be read', { cause });
  }
  if (!p256) {
    throw new CertificateError('unsupported-key', 'the certificate signing request must carry an ECDSA P-256 public key');
  }
  // The signature proves the requester holds the private key of the key it wants certified.
  let signed: boolean;
  try {
    signed = await csr.verify();
  } catch (cause) {
    throw new CertificateError('malformed-csr', 'the certificate signing request is malformed: its signature cannot be checked', { cause });
  }
  if (!signed) throw new CertificateError('bad-signature', 'the certificate signing request is not signed by its own key');
  return csr;
}

export async function signNodeCsr(rootCa: RootCa, csrPem: string, request: SignNodeCsrRequest): Promise<string> {
  if (rootCa.signingKey === undefined) {
    throw new CertificateError('unsupported-key', 'this node holds the root CA certificate but not its key, so it cannot sign');
  }
  if (!isValidId(request.nodeId)) throw new CertificateError('not-a-node-certificate', 'the node ID must be 25 base-36 characters');
  if (!isValidId(request.clusterId)) throw new CertificateError('not-a-node-certificate', 'the cluster ID must be 25 base-36 characters');
  for (const ip of request.ipAddresses ?? []) {
    if (isIP(ip) === 0) throw new CertificateError('not-a-node-certificate', `"${ip}" is not an IP address`);
  }
  const csr = await parseCsr(csrPem);

  const now = request.now ?? new Date();
  const notBefore = new Date(now.getTime() - CERT_BACKDATE_MS);
  let notAfter = new Date(now.getTime() + (request.validityMs ?? DEFAULT_NODE_CERT_VALIDITY_MS));
  // A certificate cannot outlive its issuer: verifiers would reject the chain past that point anyway.
  if (notAfter > rootCa.cert.notAfter) notAfter = rootCa.cert.notAfter;

  const role = roleName(request.role);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerialNumber(),
    subject: [{ O: [request.clusterId] }, { OU: [role] }, { CN: [request.nodeId] }],
    issuer: rootCa.cert.subjectName.toJSON(),
    notBefore,
    notAfter,
    publicKey: csr.publicKey,
    signingKey: rootCa.signingKey,
    signingAlgorithm: EC_SIGNING_ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
      new x509.SubjectAlternativeNameExtension([
        { type: 'dns', value: role },
        { type: 'dns', value: request.nodeId },
        ...(request.ipAddresses ?? []).map((ip) => ({ type: 'ip' as const, value: ip })),
      ]),
      await x509.SubjectKeyIdentifierExtension.create(csr.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(rootCa.cert.publicKey),
    ],
  });
  return cert.toString('pem');
}

function toCertificate(cert: string | Uint8Array | X509.X509Certificate): X509.X509Certificate {
  if (cert instanceof x509.X509Certificate) return cert;
  try {
    // Copy bytes into a plain ArrayBuffer-backed view (the library rejects SharedArrayBuffer views).
    return new x509.X509Certificate(typeof cert === 'string' ? cert : new Uint8Array(cert));
  } catch (cause) {
    throw new CertificateError('malformed-certificate', 'not a PEM or DER X.509 certificate', { cause });
  }
}

function singleField(cert: X509.X509Certificate, oid: string, label: string): string {
  const values = cert.subjectName.getField(oid);
  if (values.length !== 1) {
    throw new CertificateError('not-a-node-certificate', `a node certificate has exactly one ${label}; this one has ${values.length}`);
  }
  return values[0];
}

/** Reads the identity out of a node certificate (no trust decision: see verifyNodeCertificate). */
export function parseNodeCertificate(input: string | Uint8Array | X509.X509Certificate): NodeCertificateInfo {
  const cert = toCertificate(input);
  const nodeId = singleField(cert, OID_COMMON_NAME, 'CN');
  const ou = singleField(cert, OID_ORGANIZATIONAL_UNIT, 'OU');
  const clusterId = singleField(cert, OID_ORGANIZATION, 'O');
  const role = roleFromName(ou);
  if (role === undefined) {
    throw new CertificateError('not-a-node-certificate', `the certificate's OU "${ou}" is neither swarm-manager nor swarm-worker`);
  }
  if (!isValidId(nodeId) || !isValidId(clusterId)) {
    throw new CertificateError('not-a-node-certificate', 'the certificate\'s node or cluster ID is not 25 base-36 characters');
  }
  return { nodeId, role, clusterId, notBefore: cert.notBefore, notAfter: cert.notAfter };
}

export function certificateValidity(cert: Pick<NodeCertificateInfo, 'notBefore' | 'notAfter'>, now: Date = new Date()): CertificateValidity {
  if (now < cert.notBefore) return 'not-yet-valid';
  if (now > cert.notAfter) return 'expired';
  return 'valid';
}

/**
 * The full trust decision for a node certificate: signed by our root, within its validity period, and
 * a well-formed node identity. Used when a node loads its own certificate and on renewal.
 */
export async function verifyNodeCertificate(
  input: string | Uint8Array,
  rootCa: RootCa,
  now: Date = new Date(),
): Promise<NodeCertificateInfo> {
  const cert = toCertificate(input);
  const signedByRoot = await cert.verify({ publicKey: rootCa.cert.publicKey, signatureOnly: true }).catch(() => false);
  if (!signedByRoot || cert.issuer !== rootCa.cert.subject) {
    throw new CertificateError('untrusted', 'the certificate was not issued by this cluster\'s root CA');
  }
  const info = parseNodeCertificate(cert);
  const validity = certificateValidity(info, now);
  if (validity === 'expired') throw new CertificateError('expired', `the certificate expired at ${info.notAfter.toISOString()}`);
  if (validity === 'not-yet-valid') {
    throw new CertificateError('not-yet-valid', `the certificate is not valid before ${info.notBefore.toISOString()}`);
  }
  return info;
}
