/**
 * CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), table-driven, slicing-by-8.
 *
 * Why our own instead of `zlib.crc32`: zlib.crc32 exists in Node >= 20.15 / 22.2 (so it would be present on
 * our Node 20.19+ floor and in Electron's Node 22), but it computes CRC-32/IEEE and ties the on-disk format
 * to the host runtime. CRC-32C is what etcd's WAL and most storage engines use (better error detection on
 * long records than IEEE), and a pure function also runs unchanged in the deterministic simulator.
 * Slicing-by-8 keeps it in the several-hundred-MB/s range, well above what one fdatasync per batch allows.
 */

const POLY = 0x82f63b78;

/** TABLES[k][b]: CRC of byte b followed by k zero bytes. */
const TABLES: Uint32Array[] = buildTables();

function buildTables(): Uint32Array[] {
  const tables: Uint32Array[] = [];
  const t0 = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
    t0[i] = c >>> 0;
  }
  tables.push(t0);
  for (let t = 1; t < 8; t++) {
    const prev = tables[t - 1];
    const cur = new Uint32Array(256);
    for (let i = 0; i < 256; i++) cur[i] = (prev[i] >>> 8) ^ t0[prev[i] & 0xff];
    tables.push(cur);
  }
  return tables;
}

/**
 * Continue a CRC-32C over `data[start, end)`. Pass the previous result as `crc` to checksum data in pieces
 * (crc32c(b, crc32c(a)) === crc32c(a ++ b)); start from 0.
 */
export function crc32c(data: Uint8Array, crc = 0, start = 0, end = data.length): number {
  const [t0, t1, t2, t3, t4, t5, t6, t7] = TABLES;
  let c = ~crc >>> 0;
  let i = start;
  for (; i + 8 <= end; i += 8) {
    const lo = (c ^ (data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24))) >>> 0;
    c =
      t7[lo & 0xff] ^
      t6[(lo >>> 8) & 0xff] ^
      t5[(lo >>> 16) & 0xff] ^
      t4[lo >>> 24] ^
      t3[data[i + 4]] ^
      t2[data[i + 5]] ^
      t1[data[i + 6]] ^
      t0[data[i + 7]];
  }
  for (; i < end; i++) c = t0[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}
