/**
 * Binary encoding of Raft's data for the WAL and the network. One format for both, so a record read
 * back from disk is exactly what the core once handed out. Integers are unsigned LEB128 varints (ids,
 * terms and indexes are non-negative safe integers); byte strings are length-prefixed.
 */
import {
  type ConfChange,
  type ConfState,
  type Entry,
  type HardState,
  type Message,
  type Snapshot,
  type SnapshotMetadata,
  ConfChangeType,
  EntryType,
  MessageType,
} from './types';

export class DecodeError extends Error {
  constructor(what: string) {
    super(`cannot decode raft data: ${what}`);
    this.name = 'DecodeError';
  }
}

export class ByteWriter {
  private buf: Uint8Array;
  private pos = 0;

  constructor(initialSize = 256) {
    this.buf = new Uint8Array(initialSize);
  }

  private ensure(extra: number): void {
    if (this.pos + extra <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + extra) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  uint(value: number): this {
    if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`not a non-negative safe integer: ${value}`);
    this.ensure(8);
    // Above 2^31 bitwise operators would truncate, so split with arithmetic.
    while (value >= 0x80) {
      this.buf[this.pos++] = (value % 0x80) | 0x80;
      value = Math.floor(value / 0x80);
    }
    this.buf[this.pos++] = value;
    return this;
  }

  bool(value: boolean): this {
    this.ensure(1);
    this.buf[this.pos++] = value ? 1 : 0;
    return this;
  }

  bytes(value: Uint8Array): this {
    this.uint(value.length);
    this.ensure(value.length);
    this.buf.set(value, this.pos);
    this.pos += value.length;
    return this;
  }

  finish(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }
}

export class ByteReader {
  private pos = 0;

  constructor(private readonly buf: Uint8Array) {}

  uint(): number {
    let result = 0;
    let scale = 1;
    for (let shift = 0; shift < 8; shift++) {
      if (this.pos >= this.buf.length) throw new DecodeError('truncated varint');
      const byte = this.buf[this.pos++];
      result += (byte & 0x7f) * scale;
      if ((byte & 0x80) === 0) return result;
      scale *= 0x80;
    }
    throw new DecodeError('varint too long');
  }

  bool(): boolean {
    if (this.pos >= this.buf.length) throw new DecodeError('truncated bool');
    return this.buf[this.pos++] !== 0;
  }

  bytes(): Uint8Array {
    const length = this.uint();
    if (this.pos + length > this.buf.length) throw new DecodeError('truncated bytes');
    const out = this.buf.subarray(this.pos, this.pos + length);
    this.pos += length;
    return out;
  }

  get done(): boolean {
    return this.pos >= this.buf.length;
  }

  expectEnd(): void {
    if (!this.done) throw new DecodeError('trailing bytes');
  }
}

/** A plain, unshared Uint8Array (not a Buffer view that pins a large network or file buffer). */
function copyBytes(view: Uint8Array): Uint8Array {
  return new Uint8Array(view);
}

function writeIds(w: ByteWriter, ids: number[]): void {
  w.uint(ids.length);
  for (const id of ids) w.uint(id);
}

function readIds(r: ByteReader): number[] {
  const n = r.uint();
  const ids: number[] = [];
  for (let i = 0; i < n; i++) ids.push(r.uint());
  return ids;
}

export function writeEntry(w: ByteWriter, e: Entry): void {
  w.uint(e.term).uint(e.index).uint(e.type).bytes(e.data);
}

export function readEntry(r: ByteReader): Entry {
  const term = r.uint();
  const index = r.uint();
  const type = r.uint();
  if (type !== EntryType.Normal && type !== EntryType.ConfChange) throw new DecodeError(`entry type ${type}`);
  const data = copyBytes(r.bytes());
  return { term, index, type, data };
}

export function writeHardState(w: ByteWriter, hs: HardState): void {
  w.uint(hs.term).uint(hs.vote).uint(hs.commit);
}

export function readHardState(r: ByteReader): HardState {
  return { term: r.uint(), vote: r.uint(), commit: r.uint() };
}

export function writeConfState(w: ByteWriter, cs: ConfState): void {
  writeIds(w, cs.voters);
  writeIds(w, cs.learners);
  writeIds(w, cs.removed);
}

export function readConfState(r: ByteReader): ConfState {
  return { voters: readIds(r), learners: readIds(r), removed: readIds(r) };
}

export function writeSnapshotMetadata(w: ByteWriter, m: SnapshotMetadata): void {
  w.uint(m.index).uint(m.term);
  writeConfState(w, m.confState);
}

export function readSnapshotMetadata(r: ByteReader): SnapshotMetadata {
  const index = r.uint();
  const term = r.uint();
  return { index, term, confState: readConfState(r) };
}

export function writeSnapshot(w: ByteWriter, s: Snapshot): void {
  writeSnapshotMetadata(w, s.metadata);
  w.bytes(s.data);
}

export function readSnapshot(r: ByteReader): Snapshot {
  const metadata = readSnapshotMetadata(r);
  return { metadata, data: copyBytes(r.bytes()) };
}

export function encodeEntry(e: Entry): Uint8Array {
  const w = new ByteWriter(e.data.length + 16);
  writeEntry(w, e);
  return w.finish();
}

export function decodeEntry(buf: Uint8Array): Entry {
  const r = new ByteReader(buf);
  const e = readEntry(r);
  r.expectEnd();
  return e;
}

export function encodeHardState(hs: HardState): Uint8Array {
  const w = new ByteWriter(24);
  writeHardState(w, hs);
  return w.finish();
}

export function decodeHardState(buf: Uint8Array): HardState {
  const r = new ByteReader(buf);
  const hs = readHardState(r);
  r.expectEnd();
  return hs;
}

export function encodeSnapshot(s: Snapshot): Uint8Array {
  const w = new ByteWriter(s.data.length + 64);
  writeSnapshot(w, s);
  return w.finish();
}

export function decodeSnapshot(buf: Uint8Array): Snapshot {
  const r = new ByteReader(buf);
  const s = readSnapshot(r);
  r.expectEnd();
  return s;
}

export function encodeConfChange(cc: ConfChange): Uint8Array {
  const w = new ByteWriter(16 + cc.context.length);
  w.uint(cc.type).uint(cc.nodeId).bytes(cc.context);
  return w.finish();
}

export function decodeConfChange(buf: Uint8Array): ConfChange {
  const r = new ByteReader(buf);
  const type = r.uint();
  if (type !== ConfChangeType.AddLearner && type !== ConfChangeType.PromoteLearner && type !== ConfChangeType.RemoveNode) {
    throw new DecodeError(`conf change type ${type}`);
  }
  const nodeId = r.uint();
  const context = copyBytes(r.bytes());
  r.expectEnd();
  return { type, nodeId, context };
}

export function encodeMessage(m: Message): Uint8Array {
  let size = 64 + m.context.length;
  for (const e of m.entries) size += e.data.length + 16;
  if (m.snapshot) size += m.snapshot.data.length + 64;
  const w = new ByteWriter(size);
  w.uint(m.type).uint(m.from).uint(m.to).uint(m.term).uint(m.logTerm).uint(m.index).uint(m.commit);
  w.bool(m.reject).uint(m.rejectHint).bytes(m.context);
  w.uint(m.entries.length);
  for (const e of m.entries) writeEntry(w, e);
  w.bool(m.snapshot !== undefined);
  if (m.snapshot) writeSnapshot(w, m.snapshot);
  return w.finish();
}

export function decodeMessage(buf: Uint8Array): Message {
  const r = new ByteReader(buf);
  const type = r.uint();
  if (!(type in MessageType)) throw new DecodeError(`message type ${type}`);
  const from = r.uint();
  const to = r.uint();
  const term = r.uint();
  const logTerm = r.uint();
  const index = r.uint();
  const commit = r.uint();
  const reject = r.bool();
  const rejectHint = r.uint();
  const context = copyBytes(r.bytes());
  const count = r.uint();
  const entries: Entry[] = [];
  for (let i = 0; i < count; i++) entries.push(readEntry(r));
  const snapshot = r.bool() ? readSnapshot(r) : undefined;
  r.expectEnd();
  return { type, from, to, term, logTerm, index, commit, reject, rejectHint, context, entries, snapshot };
}
