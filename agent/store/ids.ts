/**
 * Object ids like SwarmKit's identity.NewID: 128 random bits as 25 lower-case base-36 digits. Ids are
 * made by the proposing side (never in apply, which must be deterministic).
 */
const ID_LENGTH = 25;

export function newId(): string {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  let n = 0n;
  for (const b of bytes) n = (n << 8n) | BigInt(b);
  return n.toString(36).padStart(ID_LENGTH, '0');
}
