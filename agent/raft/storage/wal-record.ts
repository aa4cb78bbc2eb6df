/**
 * WAL record framing and payloads.
 *
 * Frame (little-endian): [u32 payload length][u32 CRC-32C of (type byte ++ payload)][u8 type][payload]
 *
 * Payloads use the project codec (unsigned LEB128 varints, see ../codec.ts):
 * - SegmentHeader: magic, version, sequence number, first index. Always the first record of a segment.
 * - Entry:         encodeEntry(entry).
 * - HardState:     encodeHardState(hs).
 * - SnapshotMarker: index, term, carried flag. "carried" marks the copy a new segment repeats from its
 *   predecessor so the WAL stays self-describing after older segments are released.
 *
 * Type 0 is never used and an empty payload is never valid, so a zero-filled tail (what a crash on many
 * file systems leaves where data was promised but not written) can never parse as a record.
 */
import { ByteReader, ByteWriter, decodeEntry, decodeHardState, encodeEntry, encodeHardState } from '../codec';
import type { Entry, HardState } from '../types';
import { crc32c } from './crc32c';

export const FRAME_HEADER_BYTES = 9;
export const WAL_MAGIC = 0x5357_414c; // "SWAL"
export const WAL_VERSION = 1;

export enum RecordType {
  SegmentHeader = 1,
  Entry = 2,
  HardState = 3,
  SnapshotMarker = 4,
}

export interface SnapshotMarker {
  index: number;
  term: number;
}

export interface SegmentHeader {
  seq: number;
  firstIndex: number;
}

export type WalRecord =
  | { type: RecordType.SegmentHeader; header: SegmentHeader }
  | { type: RecordType.Entry; entry: Entry }
  | { type: RecordType.HardState; hardState: HardState }
  | { type: RecordType.SnapshotMarker; marker: SnapshotMarker; carried: boolean };

export function encodeFrame(type: RecordType, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(FRAME_HEADER_BYTES + payload.length);
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  out[8] = type;
  out.set(payload, FRAME_HEADER_BYTES);
  view.setUint32(0, payload.length, true);
  view.setUint32(4, crc32c(out, 0, 8), true);
  return out;
}

export function encodeRecord(record: WalRecord): Uint8Array {
  switch (record.type) {
    case RecordType.SegmentHeader: {
      const w = new ByteWriter(32);
      w.uint(WAL_MAGIC).uint(WAL_VERSION).uint(record.header.seq).uint(record.header.firstIndex);
      return encodeFrame(record.type, w.finish());
    }
    case RecordType.Entry:
      return encodeFrame(record.type, encodeEntry(record.entry));
    case RecordType.HardState:
      return encodeFrame(record.type, encodeHardState(record.hardState));
    case RecordType.SnapshotMarker: {
      const w = new ByteWriter(24);
      w.uint(record.marker.index).uint(record.marker.term).bool(record.carried);
      return encodeFrame(record.type, w.finish());
    }
  }
}

/** Why a frame at some offset is not a valid record. */
export type FrameProblem = 'short header' | 'zero length' | 'length past end of file' | 'unknown type' | 'crc mismatch';

export type FrameResult =
  | { ok: true; type: RecordType; payload: Uint8Array; next: number }
  | { ok: false; problem: FrameProblem };

/** Check the frame at `offset` without decoding its payload. */
export function readFrame(buf: Uint8Array, offset: number): FrameResult {
  if (offset + FRAME_HEADER_BYTES > buf.length) return { ok: false, problem: 'short header' };
  const view = new DataView(buf.buffer, buf.byteOffset + offset, FRAME_HEADER_BYTES);
  const length = view.getUint32(0, true);
  if (length === 0) return { ok: false, problem: 'zero length' };
  const end = offset + FRAME_HEADER_BYTES + length;
  if (end > buf.length) return { ok: false, problem: 'length past end of file' };
  const type = buf[offset + 8];
  if (type < RecordType.SegmentHeader || type > RecordType.SnapshotMarker) return { ok: false, problem: 'unknown type' };
  const crc = crc32c(buf, 0, offset + 8, end);
  if (crc !== view.getUint32(4, true)) return { ok: false, problem: 'crc mismatch' };
  return { ok: true, type, payload: buf.subarray(offset + FRAME_HEADER_BYTES, end), next: end };
}

/**
 * Is there any valid frame starting after `from`? Used to tell a torn tail (nothing valid follows: the
 * crash cut the last write) from corruption (a bad record with good ones after it). Byte-by-byte, but cheap
 * in practice: most offsets fail the length or type check before any CRC is computed.
 */
export function findValidFrameAfter(buf: Uint8Array, from: number): number | undefined {
  for (let p = from + 1; p + FRAME_HEADER_BYTES < buf.length; p++) {
    // A zero length never frames a record: pass over preallocated zeros without building a view.
    if (buf[p] === 0 && buf[p + 1] === 0 && buf[p + 2] === 0 && buf[p + 3] === 0) continue;
    if (readFrame(buf, p).ok) return p;
  }
  return undefined;
}

/** Decode a payload whose frame checked out. Throws DecodeError on a payload the CRC vouches for but we cannot read. */
export function decodePayload(type: RecordType, payload: Uint8Array): WalRecord {
  switch (type) {
    case RecordType.SegmentHeader: {
      const r = new ByteReader(payload);
      const magic = r.uint();
      const version = r.uint();
      if (magic !== WAL_MAGIC) throw new Error(`bad segment magic 0x${magic.toString(16)}`);
      if (version !== WAL_VERSION) throw new Error(`unsupported WAL version ${version}`);
      const header = { seq: r.uint(), firstIndex: r.uint() };
      r.expectEnd();
      return { type, header };
    }
    case RecordType.Entry:
      return { type, entry: decodeEntry(payload) };
    case RecordType.HardState:
      return { type, hardState: decodeHardState(payload) };
    case RecordType.SnapshotMarker: {
      const r = new ByteReader(payload);
      const marker = { index: r.uint(), term: r.uint() };
      const carried = r.bool();
      r.expectEnd();
      return { type, marker, carried };
    }
  }
}
