/**
 * Node and cluster IDs in the style of SwarmKit's identity.NewID: 128 random bits printed in base 36,
 * zero-padded to 25 characters (36^25 > 2^128, so every value fits and all IDs have the same length).
 * They appear in certificate subjects, so their alphabet is deliberately plain: [0-9a-z] only.
 */
import { randomBytes } from 'node:crypto';

export const ID_LENGTH = 25;
const ID_PATTERN = /^[0-9a-z]{25}$/;

export function bytesToBigInt(bytes: Uint8Array): bigint {
  let n = 0n;
  for (const b of bytes) n = (n << 8n) | BigInt(b);
  return n;
}

export function newNodeId(): string {
  return bytesToBigInt(randomBytes(16)).toString(36).padStart(ID_LENGTH, '0');
}

/** Cluster IDs are made the same way; a separate name keeps call sites readable. */
export const newClusterId = newNodeId;

export function isValidId(value: string): boolean {
  return ID_PATTERN.test(value);
}
