import { X509Certificate as NodeX509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CertificateError, createRootCa, loadRootCa, rootCaDigest, rootCaKeyPem, ROOT_CA_VALIDITY_MS } from '../../agent/ca';

const DAY = 24 * 60 * 60 * 1000;

describe('root CA', () => {
  it('is a self-signed P-256 CA named swarm-ca, valid ~20 years, backdated a little', async () => {
    const now = new Date('2030-01-01T00:00:00Z');
    const ca = await createRootCa({ now });
    // Check with Node's own X.509 parser, independent of the library that made it.
    const cert = new NodeX509Certificate(ca.certPem);
    expect(cert.subject).toBe('CN=swarm-ca');
    expect(cert.issuer).toBe('CN=swarm-ca');
    expect(cert.ca).toBe(true);
    expect(cert.verify(cert.publicKey)).toBe(true);
    expect(cert.publicKey.asymmetricKeyType).toBe('ec');
    expect(cert.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');

    const notBefore = new Date(cert.validFrom).getTime();
    const notAfter = new Date(cert.validTo).getTime();
    expect(notBefore).toBeLessThan(now.getTime());
    expect(now.getTime() - notBefore).toBeLessThanOrEqual(60 * 60 * 1000);
    expect(notAfter - now.getTime()).toBe(ROOT_CA_VALIDITY_MS);
    expect(Math.round((notAfter - notBefore) / (365 * DAY))).toBe(20);
    // Basic constraints and key usage are critical, as RFC 5280 asks of a CA.
    expect(ca.cert.getExtension('2.5.29.19')?.critical).toBe(true);
    expect(ca.cert.getExtension('2.5.29.15')?.critical).toBe(true);
  });

  it('has key usage keyCertSign and cRLSign', async () => {
    const ca = await createRootCa();
    const { x509 } = await import('../../agent/ca/x509');
    const usage = ca.cert.getExtension(x509.KeyUsagesExtension);
    expect(usage?.usages).toBe(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign);
    const constraints = ca.cert.getExtension(x509.BasicConstraintsExtension);
    expect(constraints?.ca).toBe(true);
  });

  it('keeps the same digest across a PEM round trip, and the digest is SHA-256 of the DER', async () => {
    const ca = await createRootCa();
    const keyPem = await rootCaKeyPem(ca);
    expect(keyPem).toContain('-----BEGIN PRIVATE KEY-----');
    const reloaded = await loadRootCa(ca.certPem.replace(/\n/g, '\r\n') + '\n', keyPem);
    expect(Buffer.from(reloaded.digest).toString('hex')).toBe(Buffer.from(ca.digest).toString('hex'));
    expect(reloaded.digest).toHaveLength(32);
    expect(rootCaDigest(new NodeX509Certificate(ca.certPem).raw)).toEqual(ca.digest);
    expect(reloaded.signingKey).toBeDefined();
    const certOnly = await loadRootCa(ca.certPem);
    expect(certOnly.signingKey).toBeUndefined();
    await expect(rootCaKeyPem(certOnly)).rejects.toThrow(/without its key/);
  });

  it('refuses a key that is not the root\'s, and garbage', async () => {
    const a = await createRootCa();
    const b = await createRootCa();
    await expect(loadRootCa(a.certPem, await rootCaKeyPem(b))).rejects.toThrow(/does not belong/);
    await expect(loadRootCa('not a certificate')).rejects.toBeInstanceOf(CertificateError);
    await expect(loadRootCa(a.certPem, 'not a key')).rejects.toThrow(/PKCS#8/);
  });
});
