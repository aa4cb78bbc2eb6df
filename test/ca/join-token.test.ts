import { describe, expect, it } from 'vitest';
import {
  constantTimeSecretEquals,
  createRootCa,
  generateJoinToken,
  JoinTokenError,
  parseJoinToken,
  tokenPinsRootCa,
  verifyJoinToken,
} from '../../agent/ca';

const TOKEN_FORMAT = /^SWMTKN-1-[0-9a-z]{50}-[0-9a-z]{25}$/;

function reasonOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof JoinTokenError) return `${err.reason}: ${err.message}`;
    throw err;
  }
  throw new Error('expected a JoinTokenError');
}

describe('join tokens', async () => {
  const ca = await createRootCa();
  const other = await createRootCa();
  const tokens = { worker: generateJoinToken(ca.certDer), manager: generateJoinToken(ca.certDer) };

  it('have the SwarmKit format and differ per call', () => {
    expect(tokens.worker).toMatch(TOKEN_FORMAT);
    expect(tokens.manager).toMatch(TOKEN_FORMAT);
    expect(tokens.worker).not.toBe(tokens.manager);
    // Same CA, so the digest part is the same; only the secret differs.
    expect(tokens.worker.slice(0, 59)).toBe(tokens.manager.slice(0, 59));
  });

  it('carry the SHA-256 digest of the root CA as a base-36 integer', () => {
    const parsed = parseJoinToken(tokens.worker);
    expect(parsed.version).toBe(1);
    expect(Buffer.from(parsed.caDigest).toString('hex')).toBe(Buffer.from(ca.digest).toString('hex'));
    const asInteger = BigInt('0x' + Buffer.from(ca.digest).toString('hex'));
    expect(tokens.worker.split('-')[2]).toBe(asInteger.toString(36).padStart(50, '0'));
    expect(parsed.secret).toBe(tokens.worker.split('-')[3]);
    expect(tokenPinsRootCa(parsed, ca.certDer)).toBe(true);
    expect(tokenPinsRootCa(parsed, other.certDer)).toBe(false);
  });

  it('round-trip digests with leading zero bytes', () => {
    const token = `SWMTKN-1-${'0'.repeat(49)}1-${'a'.repeat(25)}`;
    const parsed = parseJoinToken(token);
    expect(parsed.caDigest[31]).toBe(1);
    expect(parsed.caDigest.slice(0, 31).every((b) => b === 0)).toBe(true);
    expect(parseJoinToken(`  ${token}\n`).secret).toBe('a'.repeat(25));
  });

  it('explain each malformed case', () => {
    const [, , digest, secret] = tokens.worker.split('-');
    expect(reasonOf(() => parseJoinToken(''))).toMatch(/^not-a-token: not a swarm join token/);
    expect(reasonOf(() => parseJoinToken('hello'))).toMatch(/^not-a-token: not a swarm join token/);
    expect(reasonOf(() => parseJoinToken(`SWMTKX-1-${digest}-${secret}`))).toMatch(/^not-a-token/);
    expect(reasonOf(() => parseJoinToken(`SWMTKN-2-${digest}-${secret}`))).toMatch(/^unsupported-version: unsupported version/);
    expect(reasonOf(() => parseJoinToken(`SWMTKN-1-${digest.slice(1)}-${secret}`))).toMatch(/^malformed-digest: malformed CA digest/);
    expect(reasonOf(() => parseJoinToken(`SWMTKN-1-${digest.toUpperCase()}-${secret}`))).toMatch(/^malformed-digest/);
    // 50 base-36 digits can exceed 2^256: 'z' * 50 is no SHA-256 digest.
    expect(reasonOf(() => parseJoinToken(`SWMTKN-1-${'z'.repeat(50)}-${secret}`))).toMatch(/^malformed-digest/);
    expect(reasonOf(() => parseJoinToken(`SWMTKN-1`))).toMatch(/^malformed-digest/);
    expect(reasonOf(() => parseJoinToken(`SWMTKN-1-${digest}`))).toMatch(/^malformed-secret: malformed secret/);
    expect(reasonOf(() => parseJoinToken(`SWMTKN-1-${digest}-${secret}x`))).toMatch(/^malformed-secret/);
    expect(reasonOf(() => parseJoinToken(`SWMTKN-1-${digest}-${secret.slice(0, 24)}!`))).toMatch(/^malformed-secret/);
    expect(reasonOf(() => parseJoinToken(`SWMTKN-1-${digest}-${secret}-extra`))).toMatch(/^malformed-secret/);
  });

  it('never echo the secret in errors', () => {
    const secretLike = 'q'.repeat(26);
    const message = reasonOf(() => parseJoinToken(`SWMTKN-1-${tokens.worker.split('-')[2]}-${secretLike}`));
    expect(message).not.toContain(secretLike);
  });

  it('grant the role of the token that matches', () => {
    expect(verifyJoinToken(tokens.worker, tokens)).toBe('worker');
    expect(verifyJoinToken(tokens.manager, tokens)).toBe('manager');
  });

  it('tell another cluster\'s token from a wrong secret', () => {
    const foreign = generateJoinToken(other.certDer);
    expect(reasonOf(() => verifyJoinToken(foreign, tokens))).toMatch(/^other-cluster: the join token belongs to another cluster/);
    const rotated = generateJoinToken(ca.certDer);
    expect(reasonOf(() => verifyJoinToken(rotated, tokens))).toMatch(/^wrong-secret: .*secret is wrong/);
    expect(reasonOf(() => verifyJoinToken('SWMTKN-1-abc', tokens))).toMatch(/^malformed-digest/);
  });

  it('compare secrets in constant time, including secrets of different lengths', () => {
    expect(constantTimeSecretEquals('abc', 'abc')).toBe(true);
    expect(constantTimeSecretEquals('abc', 'abcd')).toBe(false);
    expect(constantTimeSecretEquals('', 'a'.repeat(1000))).toBe(false);
  });
});
