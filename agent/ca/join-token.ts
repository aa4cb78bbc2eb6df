/**
 * Join tokens, in SwarmKit's format: SWMTKN-1-<CA digest>-<secret>.
 *
 * The digest pins the root CA: a joining node fetches the CA certificate before it trusts anything and
 * checks it against the token, so a man in the middle cannot hand it another CA. The secret is what
 * the CA checks before it signs; one secret per role, so the token also decides the role.
 *
 * Digest: the 32 bytes of SHA-256 over the root CA certificate's DER, read as one big-endian integer
 * and printed in base 36, zero-padded to 50 digits (36^50 > 2^256). SwarmKit hashes the PEM bytes; we
 * hash the DER so re-wrapping the PEM (line endings, trailing newline) cannot change the digest.
 * Secret: 128 random bits in base 36, zero-padded to 25 digits.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { JoinTokenError } from './errors';
import { bytesToBigInt } from './ids';
import { rootCaDigest } from './root-ca';

import type { NodeRole } from './roles';
export type { NodeRole };

export const JOIN_TOKEN_PREFIX = 'SWMTKN';
export const JOIN_TOKEN_VERSION = '1';
const DIGEST_DIGITS = 50;
const SECRET_DIGITS = 25;
const DIGEST_BYTES = 32;
const BASE36 = /^[0-9a-z]+$/;

export interface ParsedJoinToken {
  readonly version: 1;
  /** SHA-256 of the root CA certificate (DER), 32 bytes. */
  readonly caDigest: Uint8Array;
  readonly secret: string;
}

/** The cluster's current tokens, one per role (as stored in the cluster object). */
export interface ClusterJoinTokens {
  readonly worker: string;
  readonly manager: string;
}

function encodeDigest(digest: Uint8Array): string {
  return bytesToBigInt(digest).toString(36).padStart(DIGEST_DIGITS, '0');
}

function decodeBase36(text: string): bigint {
  let n = 0n;
  for (const ch of text) n = n * 36n + BigInt(parseInt(ch, 36));
  return n;
}

function decodeDigest(text: string): Uint8Array | undefined {
  if (text.length !== DIGEST_DIGITS || !BASE36.test(text)) return undefined;
  let n = decodeBase36(text);
  // 50 base-36 digits can exceed 256 bits; such a value is no SHA-256 digest.
  if (n >> BigInt(DIGEST_BYTES * 8) !== 0n) return undefined;
  const bytes = new Uint8Array(DIGEST_BYTES);
  for (let i = DIGEST_BYTES - 1; i >= 0; i--) {
    bytes[i] = Number(n & 0xffn);
    n >>= 8n;
  }
  return bytes;
}

function newSecret(): string {
  return bytesToBigInt(randomBytes(16)).toString(36).padStart(SECRET_DIGITS, '0');
}

/** A new token for the root CA whose DER certificate is given; call once per role. */
export function generateJoinToken(rootCaCertDer: Uint8Array): string {
  return `${JOIN_TOKEN_PREFIX}-${JOIN_TOKEN_VERSION}-${encodeDigest(rootCaDigest(rootCaCertDer))}-${newSecret()}`;
}

export function parseJoinToken(token: string): ParsedJoinToken {
  const parts = token.trim().split('-');
  if (parts[0] !== JOIN_TOKEN_PREFIX || parts.length < 2) {
    throw new JoinTokenError('not-a-token', 'not a swarm join token: it must start with "SWMTKN-"');
  }
  if (parts[1] !== JOIN_TOKEN_VERSION) {
    throw new JoinTokenError('unsupported-version', `unsupported version of join token: "${parts[1]}" (this node understands version 1)`);
  }
  if (parts.length > 4) {
    throw new JoinTokenError('malformed-secret', 'malformed secret in join token: the token has extra "-"-separated parts');
  }
  const caDigest = decodeDigest(parts[2] ?? '');
  if (caDigest === undefined) {
    throw new JoinTokenError('malformed-digest', `malformed CA digest in join token: expected ${DIGEST_DIGITS} base-36 digits`);
  }
  const secret = parts[3] ?? '';
  if (secret.length !== SECRET_DIGITS || !BASE36.test(secret)) {
    // The message never repeats the secret: tokens end up in logs.
    throw new JoinTokenError('malformed-secret', `malformed secret in join token: expected ${SECRET_DIGITS} base-36 digits`);
  }
  return { version: 1, caDigest, secret };
}

/** Equal-time comparison even for strings of different lengths: both sides are hashed to 32 bytes first. */
function secretsEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a, 'utf8').digest();
  const hb = createHash('sha256').update(b, 'utf8').digest();
  return timingSafeEqual(ha, hb);
}

/** Whether the token pins this root CA certificate (the joining node's check of what it fetched). */
export function tokenPinsRootCa(token: ParsedJoinToken, rootCaCertDer: Uint8Array): boolean {
  return timingSafeEqual(Buffer.from(token.caDigest), Buffer.from(rootCaDigest(rootCaCertDer)));
}

/**
 * Checks a presented token against the cluster's current tokens and returns the role it grants.
 * Throws JoinTokenError: 'other-cluster' when the digest is not ours (the node was given a token of a
 * different cluster), 'wrong-secret' when it is ours but the secret matches neither role (rotated or
 * mistyped), or a parse reason when it is not a token at all.
 */
export function verifyJoinToken(token: string, current: ClusterJoinTokens): NodeRole {
  const presented = parseJoinToken(token);
  const worker = parseJoinToken(current.worker);
  const manager = parseJoinToken(current.manager);

  const ours = Buffer.from(worker.caDigest);
  if (!timingSafeEqual(Buffer.from(presented.caDigest), ours)) {
    throw new JoinTokenError('other-cluster', 'the join token belongs to another cluster: its CA digest does not match this cluster\'s root CA');
  }
  // Both comparisons always run, so timing does not reveal which role's secret was close.
  const isWorker = secretsEqual(presented.secret, worker.secret);
  const isManager = secretsEqual(presented.secret, manager.secret);
  if (isManager) return 'manager';
  if (isWorker) return 'worker';
  throw new JoinTokenError('wrong-secret', 'the join token is not valid for this cluster: its secret is wrong or has been rotated');
}

/** Compares two secrets as verifyJoinToken does; exported for tests and for rotating services. */
export const constantTimeSecretEquals = secretsEqual;
