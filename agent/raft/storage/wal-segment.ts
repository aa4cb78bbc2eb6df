/** Segment file naming: `<seq>-<firstIndex>.wal`, both zero-padded to 16 decimal digits so names sort in order. */

export interface SegmentName {
  seq: number;
  /** Index the next entry had when the segment was created; advisory (overwrites can write lower indexes). */
  firstIndex: number;
  name: string;
}

const PATTERN = /^(\d{16})-(\d{16})\.wal$/;

export function segmentFileName(seq: number, firstIndex: number): string {
  return `${String(seq).padStart(16, '0')}-${String(firstIndex).padStart(16, '0')}.wal`;
}

/** undefined for names that are not .wal files at all; throws for a .wal file whose name is malformed. */
export function parseSegmentName(name: string): SegmentName | undefined {
  if (!name.endsWith('.wal')) return undefined;
  const m = PATTERN.exec(name);
  if (m === null) throw new Error(`malformed WAL segment name ${JSON.stringify(name)}`);
  const seq = Number(m[1]);
  const firstIndex = Number(m[2]);
  if (!Number.isSafeInteger(seq) || !Number.isSafeInteger(firstIndex) || seq < 1) {
    throw new Error(`WAL segment name out of range: ${name}`);
  }
  return { seq, firstIndex, name };
}
