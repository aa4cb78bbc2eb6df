/**
 * Object ids like SwarmKit's identity.NewID: 128 random bits as 25 lower-case base-36 digits. Ids are
 * made by the proposing side (never in apply, which must be deterministic).
 */
const ID_LENGTH = 25;
/**
 * Random bytes are drawn 4 KiB at a time: one getRandomValues call per id cost about 10-30 µs (a
 * 30,000-replica service spent a second of the leader's time there), a slice of a pool well under 1.
 * The bytes are the same CSPRNG's, each used once.
 */
const POOL_BYTES = 4096;
const pool = new Uint8Array(POOL_BYTES);
const poolView = new DataView(pool.buffer);
let poolOffset = POOL_BYTES;

export function newId(): string {
  if (poolOffset + 16 > POOL_BYTES) {
    crypto.getRandomValues(pool);
    poolOffset = 0;
  }
  const n = (poolView.getBigUint64(poolOffset) << 64n) | poolView.getBigUint64(poolOffset + 8);
  poolOffset += 16;
  return n.toString(36).padStart(ID_LENGTH, '0');
}
