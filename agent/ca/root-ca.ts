/**
 * The cluster's root certificate authority: a self-signed ECDSA P-256 certificate named "swarm-ca",
 * valid for 20 years like SwarmKit's. Every node trusts exactly this certificate; its SHA-256 digest is
 * what join tokens pin, so a joining node can tell it reached the right cluster before trusting it.
 */
import { createHash } from 'node:crypto';
import { CertificateError } from './errors';
import { generateKeyPair, isP256PublicKey, keyMatchesCertificate, privateKeyFromPem, privateKeyToPem, randomSerialNumber } from './keys';
import { EC_SIGNING_ALGORITHM, x509 } from './x509';
import type * as X509 from '@peculiar/x509';

export const ROOT_CA_COMMON_NAME = 'swarm-ca';
export const ROOT_CA_VALIDITY_MS = 20 * 365 * 24 * 60 * 60 * 1000;
/** Backdating absorbs clock skew between the CA and nodes that check the certificate right away. */
export const CERT_BACKDATE_MS = 5 * 60 * 1000;

export interface RootCa {
  readonly cert: X509.X509Certificate;
  readonly certPem: string;
  readonly certDer: Uint8Array;
  /** SHA-256 of the DER certificate: what join tokens carry. */
  readonly digest: Uint8Array;
  /** Present only where this node can sign (managers holding the CA key). */
  readonly signingKey?: CryptoKey;
}

export interface CreateRootCaOptions {
  now?: Date;
  validityMs?: number;
}

export function rootCaDigest(certDer: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(certDer).digest());
}

function fromCertificate(cert: X509.X509Certificate, signingKey?: CryptoKey): RootCa {
  const certDer = new Uint8Array(cert.rawData);
  return { cert, certPem: cert.toString('pem'), certDer, digest: rootCaDigest(certDer), signingKey };
}

export async function createRootCa(options: CreateRootCaOptions = {}): Promise<RootCa> {
  const now = options.now ?? new Date();
  const keys = await generateKeyPair();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerialNumber(),
    name: [{ CN: [ROOT_CA_COMMON_NAME] }],
    notBefore: new Date(now.getTime() - CERT_BACKDATE_MS),
    notAfter: new Date(now.getTime() + (options.validityMs ?? ROOT_CA_VALIDITY_MS)),
    keys,
    signingAlgorithm: EC_SIGNING_ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return fromCertificate(cert, keys.privateKey);
}

/**
 * Loads a root CA from PEM and checks it is one: a self-signed P-256 CA certificate. With a key, also
 * checks the key belongs to it, so a mismatched pair fails here rather than as unverifiable node certs.
 */
export async function loadRootCa(certPem: string, keyPem?: string): Promise<RootCa> {
  let cert: X509.X509Certificate;
  try {
    cert = new x509.X509Certificate(certPem);
  } catch (cause) {
    throw new CertificateError('malformed-certificate', 'the root CA certificate is not a PEM or DER X.509 certificate', { cause });
  }
  if (!isP256PublicKey(cert.publicKey)) {
    throw new CertificateError('unsupported-key', 'the root CA certificate does not hold an ECDSA P-256 key');
  }
  const constraints = cert.getExtension(x509.BasicConstraintsExtension);
  if (!constraints?.ca) {
    throw new CertificateError('malformed-certificate', 'the root CA certificate lacks the CA basic constraint');
  }
  if (!(await cert.isSelfSigned())) {
    throw new CertificateError('bad-signature', 'the root CA certificate is not self-signed');
  }
  if (keyPem === undefined) return fromCertificate(cert);
  const key = await privateKeyFromPem(keyPem);
  if (!(await keyMatchesCertificate(key, cert))) {
    throw new CertificateError('unsupported-key', 'the root CA key does not belong to the root CA certificate');
  }
  return fromCertificate(cert, key);
}

/** The key half of a root CA, for a manager to persist (with key-files' 0600 writer). */
export async function rootCaKeyPem(rootCa: RootCa): Promise<string> {
  if (rootCa.signingKey === undefined) {
    throw new CertificateError('unsupported-key', 'this root CA was loaded without its key');
  }
  return privateKeyToPem(rootCa.signingKey);
}
