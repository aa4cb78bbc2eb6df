import { X509Certificate as NodeX509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  CERT_BACKDATE_MS,
  CertificateError,
  certificateValidity,
  createNodeCsr,
  createRootCa,
  DEFAULT_NODE_CERT_VALIDITY_MS,
  loadRootCa,
  newNodeId,
  parseNodeCertificate,
  signNodeCsr,
  verifyNodeCertificate,
} from '../../agent/ca';
import { EC_SIGNING_ALGORITHM, x509 } from '../../agent/ca/x509';
import { makeCluster } from './fixtures';

async function csrWithKey(algorithm: RsaHashedKeyGenParams | EcKeyGenParams, signing: Algorithm | EcdsaParams): Promise<string> {
  const keys = (await crypto.subtle.generateKey(algorithm, true, ['sign', 'verify'])) as CryptoKeyPair;
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: 'CN=intruder', keys, signingAlgorithm: signing });
  return csr.toString('pem');
}

async function reasonOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof CertificateError) return `${err.reason}: ${err.message}`;
    throw err;
  }
  throw new Error('expected a CertificateError');
}

describe('node certificates', async () => {
  const cluster = await makeCluster();

  it('carry CN = node ID, OU = role, O = cluster ID, role and ID SANs, both EKUs', async () => {
    const now = new Date();
    const nodeId = newNodeId();
    const { keyPem, csrPem } = await createNodeCsr();
    expect(keyPem).toContain('-----BEGIN PRIVATE KEY-----');
    expect(csrPem).toContain('-----BEGIN CERTIFICATE REQUEST-----');
    const certPem = await signNodeCsr(cluster.rootCa, csrPem, {
      nodeId,
      role: 'manager',
      clusterId: cluster.clusterId,
      ipAddresses: ['10.0.0.7', '::1'],
      now,
    });

    const cert = new NodeX509Certificate(certPem);
    expect(cert.subject.split('\n').sort()).toEqual([`CN=${nodeId}`, `O=${cluster.clusterId}`, 'OU=swarm-manager'].sort());
    expect(cert.issuer).toBe('CN=swarm-ca');
    expect(cert.subjectAltName).toBe(`DNS:swarm-manager, DNS:${nodeId}, IP Address:10.0.0.7, IP Address:0:0:0:0:0:0:0:1`);
    expect(cert.keyUsage?.sort()).toEqual(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
    expect(cert.ca).toBe(false);
    expect(cert.checkIssued(new NodeX509Certificate(cluster.rootCa.certPem))).toBe(true);
    expect(cert.verify(new NodeX509Certificate(cluster.rootCa.certPem).publicKey)).toBe(true);
    expect(cert.checkPrivateKey((await import('node:crypto')).createPrivateKey(keyPem))).toBe(true);

    const validFrom = new Date(cert.validFrom).getTime();
    const validTo = new Date(cert.validTo).getTime();
    // X.509 times have one-second resolution.
    expect(Math.abs(validFrom - (now.getTime() - CERT_BACKDATE_MS))).toBeLessThan(1000);
    expect(Math.abs(validTo - (now.getTime() + DEFAULT_NODE_CERT_VALIDITY_MS))).toBeLessThan(1000);
    expect(DEFAULT_NODE_CERT_VALIDITY_MS).toBe(2160 * 3600 * 1000);

    const info = parseNodeCertificate(certPem);
    expect(info).toMatchObject({ nodeId, role: 'manager', clusterId: cluster.clusterId });
    expect(info.notBefore.getTime()).toBe(validFrom);
    expect(info.notAfter.getTime()).toBe(validTo);
  });

  it('make worker certificates with the worker role name', async () => {
    const worker = await cluster.issue('worker', { validityMs: 60 * 60 * 1000 });
    const cert = new NodeX509Certificate(worker.certPem);
    expect(cert.subject).toContain('OU=swarm-worker');
    expect(cert.subjectAltName).toBe(`DNS:swarm-worker, DNS:${worker.nodeId}`);
    const info = parseNodeCertificate(worker.certPem);
    expect(info.role).toBe('worker');
    expect(info.notAfter.getTime() - info.notBefore.getTime()).toBeCloseTo(60 * 60 * 1000 + CERT_BACKDATE_MS, -4);
  });

  it('ignore the subject the CSR asks for', async () => {
    const csrPem = await csrWithKey({ name: 'ECDSA', namedCurve: 'P-256' }, EC_SIGNING_ALGORITHM);
    const nodeId = newNodeId();
    const certPem = await signNodeCsr(cluster.rootCa, csrPem, { nodeId, role: 'worker', clusterId: cluster.clusterId });
    expect(new NodeX509Certificate(certPem).subject).not.toContain('intruder');
    expect(parseNodeCertificate(certPem).nodeId).toBe(nodeId);
  });

  it('reject a CSR with an RSA or P-384 key, garbage, or a broken signature', async () => {
    const request = { nodeId: newNodeId(), role: 'worker' as const, clusterId: cluster.clusterId };
    const rsa = await csrWithKey(
      { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
      { name: 'RSASSA-PKCS1-v1_5' },
    );
    expect(await reasonOf(signNodeCsr(cluster.rootCa, rsa, request))).toMatch(/^unsupported-key: .*ECDSA P-256/);
    const p384 = await csrWithKey({ name: 'ECDSA', namedCurve: 'P-384' }, { name: 'ECDSA', hash: 'SHA-384' } as EcdsaParams);
    expect(await reasonOf(signNodeCsr(cluster.rootCa, p384, request))).toMatch(/^unsupported-key/);
    expect(await reasonOf(signNodeCsr(cluster.rootCa, 'garbage', request))).toMatch(/^malformed-csr: the certificate signing request is malformed/);
    expect(await reasonOf(signNodeCsr(cluster.rootCa, '-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----', request))).toMatch(
      /^malformed-csr/,
    );

    // Put another key's public key into a signed CSR: the signature no longer matches.
    const { csrPem } = await createNodeCsr();
    const { csrPem: otherPem } = await createNodeCsr();
    const der = Buffer.from(new x509.Pkcs10CertificateRequest(csrPem).rawData);
    const otherKey = Buffer.from(new x509.Pkcs10CertificateRequest(otherPem).publicKey.rawData);
    const ownKey = Buffer.from(new x509.Pkcs10CertificateRequest(csrPem).publicKey.rawData);
    const at = der.indexOf(ownKey);
    expect(at).toBeGreaterThan(0);
    otherKey.copy(der, at);
    expect(await reasonOf(signNodeCsr(cluster.rootCa, x509.PemConverter.encode(der, 'CERTIFICATE REQUEST'), request))).toMatch(/^bad-signature/);
  });

  it('refuse bad IDs and IPs, and a CA without its key', async () => {
    const { csrPem } = await createNodeCsr();
    const ok = { nodeId: newNodeId(), role: 'worker' as const, clusterId: cluster.clusterId };
    expect(await reasonOf(signNodeCsr(cluster.rootCa, csrPem, { ...ok, nodeId: 'CN=evil,OU=swarm-manager' }))).toMatch(/node ID/);
    expect(await reasonOf(signNodeCsr(cluster.rootCa, csrPem, { ...ok, ipAddresses: ['example.com'] }))).toMatch(/not an IP/);
    const certOnly = await loadRootCa(cluster.rootCa.certPem);
    expect(await reasonOf(signNodeCsr(certOnly, csrPem, ok))).toMatch(/cannot sign/);
  });

  it('never outlive the root CA', async () => {
    const shortRoot = await createRootCa({ validityMs: 24 * 60 * 60 * 1000 });
    const { csrPem } = await createNodeCsr();
    const certPem = await signNodeCsr(shortRoot, csrPem, { nodeId: newNodeId(), role: 'worker', clusterId: cluster.clusterId });
    expect(parseNodeCertificate(certPem).notAfter.getTime()).toBe(shortRoot.cert.notAfter.getTime());
  });

  it('detect expired and not-yet-valid certificates', async () => {
    const issuedAt = new Date('2031-06-01T00:00:00Z');
    const node = await cluster.issue('worker', { now: issuedAt, validityMs: 60 * 60 * 1000 });
    const info = parseNodeCertificate(node.certPem);
    expect(certificateValidity(info, issuedAt)).toBe('valid');
    expect(certificateValidity(info, new Date(issuedAt.getTime() - CERT_BACKDATE_MS - 1000))).toBe('not-yet-valid');
    expect(certificateValidity(info, new Date(issuedAt.getTime() + 60 * 60 * 1000 + 1000))).toBe('expired');

    expect((await verifyNodeCertificate(node.certPem, cluster.rootCa, issuedAt)).nodeId).toBe(node.nodeId);
    expect(await reasonOf(verifyNodeCertificate(node.certPem, cluster.rootCa, new Date('2031-06-02T00:00:00Z')))).toMatch(/^expired/);
    expect(await reasonOf(verifyNodeCertificate(node.certPem, cluster.rootCa, new Date('2031-05-01T00:00:00Z')))).toMatch(/^not-yet-valid/);
  });

  it('are not trusted under another root', async () => {
    const other = await makeCluster();
    const node = await other.issue('manager');
    expect(await reasonOf(verifyNodeCertificate(node.certPem, cluster.rootCa))).toMatch(/^untrusted/);
  });

  it('parse only node certificates', () => {
    expect(() => parseNodeCertificate(cluster.rootCa.certPem)).toThrow(/exactly one OU/);
    expect(() => parseNodeCertificate('junk')).toThrow(CertificateError);
  });
});
