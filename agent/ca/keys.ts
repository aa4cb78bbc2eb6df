/**
 * ECDSA P-256 key pairs and their PEM form (PKCS#8 "PRIVATE KEY", which both WebCrypto and Node's TLS
 * accept). Keys are made extractable only because a node must persist its own key to disk.
 */
import { randomBytes } from 'node:crypto';
import { cryptoEngine, EC_KEY_ALGORITHM, EC_SIGNING_ALGORITHM, x509 } from './x509';
import type * as X509 from '@peculiar/x509';
import { CertificateError } from './errors';

const PRIVATE_KEY_LABEL = 'PRIVATE KEY';

export function generateKeyPair(): Promise<CryptoKeyPair> {
  return cryptoEngine.subtle.generateKey(EC_KEY_ALGORITHM, true, ['sign', 'verify']);
}

export async function privateKeyToPem(key: CryptoKey): Promise<string> {
  const der = await cryptoEngine.subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(der, PRIVATE_KEY_LABEL);
}

export async function privateKeyFromPem(pem: string): Promise<CryptoKey> {
  let der: ArrayBuffer;
  try {
    const blocks = x509.PemConverter.decode(pem);
    if (blocks.length !== 1) throw new Error(`expected one PEM block, found ${blocks.length}`);
    der = blocks[0];
  } catch (cause) {
    // The message deliberately does not echo the input: it is key material.
    throw new CertificateError('unsupported-key', 'the private key is not a PEM-encoded PKCS#8 key', { cause });
  }
  try {
    return await cryptoEngine.subtle.importKey('pkcs8', der, EC_KEY_ALGORITHM, true, ['sign']);
  } catch (cause) {
    throw new CertificateError('unsupported-key', 'the private key is not an ECDSA P-256 key', { cause });
  }
}

/** Proves a private key belongs to a certificate by signing a fresh challenge and checking it. */
export async function keyMatchesCertificate(key: CryptoKey, cert: X509.X509Certificate): Promise<boolean> {
  const challenge = randomBytes(32);
  const signature = await cryptoEngine.subtle.sign(EC_SIGNING_ALGORITHM, key, challenge);
  const publicKey = await cert.publicKey.export(EC_KEY_ALGORITHM, ['verify'], cryptoEngine);
  return cryptoEngine.subtle.verify(EC_SIGNING_ALGORITHM, publicKey, signature, challenge);
}

/** A positive, minimally DER-encoded 128-bit serial: the top byte is kept in 0x40..0x7f. */
export function randomSerialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] & 0x3f) | 0x40;
  return bytes.toString('hex');
}

export function isP256PublicKey(publicKey: X509.PublicKey): boolean {
  const algorithm = publicKey.algorithm as Partial<EcKeyAlgorithm>;
  return algorithm.name === 'ECDSA' && algorithm.namedCurve === 'P-256';
}
