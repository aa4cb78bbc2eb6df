import { describe, expect, it } from 'vitest';
import { isSealed, SealingError, SecretSealer } from '../../agent/ca/sealing';
import { makeCluster } from './fixtures';
import { rootCaKeyPem } from '../../agent/ca';

describe('sealing secrets for the replicated store', () => {
  it('round-trips, and never shows the secret in the sealed form', async () => {
    const cluster = await makeCluster();
    const sealer = new SecretSealer(await rootCaKeyPem(cluster.rootCa), cluster.clusterId);
    const token = 'SWMTKN-1-abc-secretsecretsecretsecret12345';
    const sealed = sealer.seal(token);
    expect(isSealed(sealed)).toBe(true);
    expect(sealed).not.toContain('secretsecret');
    expect(sealer.seal(token)).not.toBe(sealed);
    expect(sealer.unseal(sealed)).toBe(token);
  });

  it('refuses a tampered value, another cluster\'s key, and plain text', async () => {
    const cluster = await makeCluster();
    const keyPem = await rootCaKeyPem(cluster.rootCa);
    const sealer = new SecretSealer(keyPem, cluster.clusterId);
    const sealed = sealer.seal('payload');
    const bytes = Buffer.from(sealed.slice('sealed:v1:'.length), 'base64');
    bytes[14] = (bytes[14] ?? 0) ^ 1;
    expect(() => sealer.unseal(`sealed:v1:${bytes.toString('base64')}`)).toThrow(SealingError);
    const other = await makeCluster();
    const otherSealer = new SecretSealer(await rootCaKeyPem(other.rootCa), other.clusterId);
    expect(() => otherSealer.unseal(sealed)).toThrow(/another cluster/);
    expect(() => new SecretSealer(keyPem, 'another-cluster-id').unseal(sealed)).toThrow(SealingError);
    expect(() => sealer.unseal('payload')).toThrow('the value is not sealed');
  });
});
