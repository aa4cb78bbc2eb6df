/**
 * Segmented write-ahead log for Raft's hard state, entries and snapshot markers.
 *
 * Layout: `<dir>/<seq>-<firstIndex>.wal` segments (see wal-segment.ts), each a sequence of CRC-framed
 * records (see wal-record.ts) starting with a SegmentHeader. A new segment also repeats the latest snapshot
 * marker and hard state, so releasing the segments before a snapshot never loses them.
 *
 * Durability rules this file keeps:
 * - Group commit: every save() queued while the previous batch is being written joins the next batch:
 *   one append, at most one fdatasync. A caller's promise resolves only after the write (and, when any
 *   caller in the batch asked for it, the fdatasync) covering its records.
 * - Only the tail segment can hold unsynced bytes: a segment is fdatasync'ed before its successor is
 *   created, and a successor exists only once its header is durable and the directory is fsynced. So on
 *   open, damage in an earlier segment is corruption; damage at the end of the last one is a torn write.
 * - Preallocation: the tail is grown with zeros ahead of its records (WalOptions.preallocateBytes), so
 *   on open a run of zeros to the end of the last segment is unused space, not damage: it is cut off
 *   and not reported as a torn tail. Zeros can never parse as a record (see wal-record.ts). A segment
 *   is cut back to its records, durably, before its successor is created, so earlier segments never
 *   end in zeros and stay held to "any damage is corruption". A write into reserved space can reach the
 *   disk out of order (a later sector without an earlier one): in the last segment, a bad frame followed
 *   by valid ones is a torn tail, not corruption, when a sector between them still holds its zeros.
 * - After any I/O error the WAL stops accepting writes (WalFailedError); reopening repairs the tail.
 */
import type { Entry, HardState } from '../types';
import type { AppendFile, StorageFs } from './fs-types';
import { joinPath } from './fs-types';
import { WalClosedError, WalCorruptionError, WalFailedError } from './wal-errors';
import { LogReplay } from './wal-replay';
import {
  RecordType,
  type SnapshotMarker,
  decodePayload,
  encodeRecord,
  findValidFrameAfter,
  readFrame,
} from './wal-record';
import { type SegmentName, parseSegmentName, segmentFileName } from './wal-segment';

export type { SnapshotMarker } from './wal-record';
export { WalClosedError, WalCorruptionError, WalFailedError } from './wal-errors';

export const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024;
export const DEFAULT_PREALLOCATE_BYTES = 4 * 1024 * 1024;

export interface WalOptions {
  /** Roll over to a new segment once a batch would push the tail past this many bytes. Default 64 MiB. */
  segmentBytes?: number;
  /**
   * Grow the tail segment with zeros this many bytes at a time (never past segmentBytes, unless one
   * batch needs it), ahead of the records, so a durable append overwrites allocated space instead of
   * lengthening the file: no metadata to make durable with each batch. 0 turns it off. Default 4 MiB.
   */
  preallocateBytes?: number;
}

/** Records to append as one unit, in this order: marker, entries, hardState. */
export interface WalBatch {
  marker?: SnapshotMarker;
  entries: Entry[];
  hardState?: HardState;
  mustSync: boolean;
}

export interface TornTail {
  /** Path of the segment that was cut. */
  file: string;
  /** Byte offset the segment was truncated to (the end of its last valid record). */
  offset: number;
  /** Bytes cut off: the torn record and whatever followed it (in a preallocated tail, its zeros too). */
  droppedBytes: number;
}

export interface WalOpenResult {
  wal: Wal;
  hardState: HardState | undefined;
  /** The latest snapshot marker; `entries` start right after it. */
  snapshot: SnapshotMarker | undefined;
  entries: Entry[];
  tornTail?: TornTail;
}

interface Pending {
  bytes: Uint8Array;
  batch: WalBatch;
  resolve: () => void;
  reject: (err: unknown) => void;
}

interface Tail {
  seg: SegmentName;
  file: AppendFile;
  /** Bytes of header and carried records: a tail holding only these is never rolled over. */
  preambleBytes: number;
  /** Bytes appended since the last fdatasync. */
  dirty: boolean;
}

export class Wal {
  private readonly segmentBytes: number;
  private readonly preallocateBytes: number;
  private queue: Pending[] = [];
  private flushScheduled = false;
  /** Serialises flushes, segment cuts and releases: one I/O sequence at a time, in call order. */
  private lane: Promise<void> = Promise.resolve();
  private failure: unknown = undefined;
  private closed = false;
  /** Last entry index once everything queued is written; only used to reject gaps early. */
  private queuedLastIndex: number;

  private constructor(
    private readonly dir: string,
    private readonly fs: StorageFs,
    private readonly segments: SegmentName[],
    private tail: Tail,
    /** State as written, for the preamble of the next segment and its name. */
    private lastIndex: number,
    private hardState: HardState | undefined,
    private marker: SnapshotMarker | undefined,
    options: WalOptions,
  ) {
    this.segmentBytes = options.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
    this.preallocateBytes = options.preallocateBytes ?? DEFAULT_PREALLOCATE_BYTES;
    this.queuedLastIndex = lastIndex;
  }

  static async open(dir: string, fs: StorageFs, options: WalOptions = {}): Promise<WalOpenResult> {
    await fs.mkdirp(dir);
    const segments = await listSegments(dir, fs);
    const replay = new LogReplay();
    let tornTail: TornTail | undefined;
    let tailPreamble = 0;
    let tailValidEnd = 0;

    for (let i = 0; i < segments.length; i++) {
      const seg = segments[i];
      const path = joinPath(dir, seg.name);
      const buf = await fs.readFile(path);
      const last = i === segments.length - 1;
      const { validEnd, preambleEnd } = replaySegment(path, buf, seg, replay, i === 0, last);
      if (validEnd < buf.length) {
        // Only reachable for the last segment: earlier ones throw inside replaySegment. Zeros to the end
        // are preallocated space nothing was written to (or no write of which was acknowledged).
        if (!allZero(buf, validEnd)) tornTail = { file: path, offset: validEnd, droppedBytes: buf.length - validEnd };
        await fs.truncate(path, validEnd);
        const h = await fs.openAppend(path);
        await h.datasync();
        await h.close();
      }
      if (last) {
        tailPreamble = preambleEnd;
        tailValidEnd = validEnd;
      }
    }

    // A last segment whose header never became durable holds nothing; drop it and append to its predecessor.
    const lastSeg = segments.at(-1);
    if (lastSeg !== undefined && tailValidEnd === 0) {
      await fs.unlink(joinPath(dir, lastSeg.name));
      await fs.syncDir(dir);
      segments.pop();
    }

    const { entries, problem } = replay.result();
    if (problem !== undefined) throw new WalCorruptionError(dir, undefined, problem);

    let tail: Tail;
    const tailSeg = segments.at(-1);
    if (tailSeg === undefined) {
      const seq = lastSeg?.seq ?? 1;
      tail = await createSegment(dir, fs, seq, replay.lastIndex + 1, undefined, replay.hardState);
      segments.push(tail.seg);
    } else {
      const file = await fs.openAppend(joinPath(dir, tailSeg.name), { durableWrites: true });
      tail = { seg: tailSeg, file, preambleBytes: tailSeg === lastSeg ? tailPreamble : 0, dirty: false };
    }

    const wal = new Wal(dir, fs, segments, tail, replay.lastIndex, replay.hardState, replay.marker, options);
    return { wal, hardState: replay.hardState, snapshot: replay.marker, entries, tornTail };
  }

  /** Append hard state (if any) and entries. See WalBatch for ordering and the class doc for group commit. */
  save(hardState: HardState | undefined, entries: Entry[], mustSync: boolean): Promise<void> {
    return this.saveBatch({ hardState, entries, mustSync });
  }

  /** Record that a snapshot at (index, term) is durable; the log now starts after it. Always synced. */
  saveSnapshotMarker(meta: SnapshotMarker): Promise<void> {
    return this.saveBatch({ marker: { index: meta.index, term: meta.term }, entries: [], mustSync: true });
  }

  /** Append one batch (marker, entries, hard state) as a unit of group commit. */
  saveBatch(batch: WalBatch): Promise<void> {
    if (this.closed) return Promise.reject(new WalClosedError());
    if (this.failure !== undefined) return Promise.reject(new WalFailedError(this.failure));
    for (let i = 1; i < batch.entries.length; i++) {
      if (batch.entries[i].index !== batch.entries[i - 1].index + 1) {
        return Promise.reject(new RangeError(`entries not contiguous at index ${batch.entries[i].index}`));
      }
    }
    // Catch a gap now rather than as "corruption" at the next restart: raft only ever appends after the
    // last entry, overwrites at or below it, or starts after a snapshot saved in the same or an earlier batch.
    const base = Math.max(this.queuedLastIndex, batch.marker?.index ?? 0);
    const first = batch.entries[0];
    if (first !== undefined && first.index > base + 1) {
      return Promise.reject(new RangeError(`entry ${first.index} would leave a gap after index ${base}`));
    }
    this.queuedLastIndex = batch.entries.at(-1)?.index ?? base;
    const bytes = encodeBatch(batch);
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ bytes, batch, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        // Runs after the current synchronous code, so every save() issued together joins one batch.
        this.enqueue(() => this.flush());
      }
    });
  }

  /**
   * Delete segments that only hold what a durable snapshot at `index` covers: every segment before the last
   * one whose name's first index is <= `index`. The segment containing `index`, and all later ones, stay.
   */
  releaseTo(index: number): Promise<void> {
    return this.enqueue(async () => {
      if (this.failure !== undefined) throw new WalFailedError(this.failure);
      let keepFrom = 0;
      for (let i = 0; i < this.segments.length; i++) if (this.segments[i].firstIndex <= index) keepFrom = i;
      keepFrom = Math.min(keepFrom, this.segments.length - 1);
      // Oldest first, one directory fsync each: whatever a crash leaves is still a contiguous run.
      while (keepFrom > 0) {
        const seg = this.segments[0];
        await this.fs.unlink(joinPath(this.dir, seg.name));
        await this.fs.syncDir(this.dir);
        this.segments.shift();
        keepFrom--;
      }
    });
  }

  /** Wait for queued writes, then close the tail. Later calls reject with WalClosedError. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.enqueue(async () => {
      await this.tail.file.close();
    }).catch(() => undefined);
  }

  /** Segment file names currently on disk, oldest first (for tests and diagnostics). */
  segmentNames(): string[] {
    return this.segments.map((s) => s.name);
  }

  private enqueue(task: () => Promise<void>): Promise<void> {
    const run = this.lane.then(task);
    this.lane = run.catch(() => undefined);
    return run;
  }

  private async flush(): Promise<void> {
    this.flushScheduled = false;
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return;
    if (this.failure !== undefined) {
      for (const p of batch) p.reject(new WalFailedError(this.failure));
      return;
    }
    try {
      const bytes = concat(batch.map((p) => p.bytes));
      const t = this.tail;
      if (t.file.size > t.preambleBytes && t.file.size + bytes.length > this.segmentBytes) await this.cut();
      await this.preallocate(bytes.length);
      await this.tail.file.append(bytes);
      this.tail.dirty = !this.tail.file.durableWrites;
      for (const p of batch) this.noteWritten(p.batch);
      if (this.tail.dirty && batch.some((p) => p.batch.mustSync)) {
        await this.tail.file.datasync();
        this.tail.dirty = false;
      }
    } catch (err) {
      this.failure = err;
      for (const p of batch) p.reject(err);
      return;
    }
    for (const p of batch) p.resolve();
  }

  private noteWritten(b: WalBatch): void {
    if (b.marker !== undefined) {
      this.marker = b.marker;
      this.lastIndex = Math.max(this.lastIndex, b.marker.index);
    }
    const lastEntry = b.entries.at(-1);
    if (lastEntry !== undefined) this.lastIndex = lastEntry.index;
    if (b.hardState !== undefined) this.hardState = b.hardState;
  }

  /** Make sure the tail has room for `bytes` more without growing at append time (see WalOptions). */
  private async preallocate(bytes: number): Promise<void> {
    const file = this.tail.file;
    const needed = file.size + bytes;
    if (this.preallocateBytes <= 0 || needed <= file.reserved) return;
    // Whole chunks (file lengths stay multiples of the chunk), but no further than the segment's size.
    const chunk = this.preallocateBytes;
    const target = Math.max(needed, Math.min(Math.ceil(needed / chunk) * chunk, this.segmentBytes));
    await file.reserve(target);
  }

  private async cut(): Promise<void> {
    const old = this.tail;
    // The old segment must be complete on disk before a successor exists, or a crash could leave a torn
    // record in the middle of the log, which open() would rightly call corruption.
    if (old.dirty) await old.file.datasync();
    await old.file.close();
    if (old.file.reserved > old.file.size) {
      // Give back the unused preallocated zeros, durably, so only the last segment can end in zeros.
      const path = joinPath(this.dir, old.seg.name);
      await this.fs.truncate(path, old.file.size);
      const h = await this.fs.openAppend(path);
      await h.datasync();
      await h.close();
    }
    this.tail = await createSegment(this.dir, this.fs, old.seg.seq + 1, this.lastIndex + 1, this.marker, this.hardState);
    this.segments.push(this.tail.seg);
  }
}

/** Create a segment: header (+ carried marker and hard state), fdatasync, then fsync the directory. */
async function createSegment(
  dir: string,
  fs: StorageFs,
  seq: number,
  firstIndex: number,
  marker: SnapshotMarker | undefined,
  hardState: HardState | undefined,
): Promise<Tail> {
  const seg: SegmentName = { seq, firstIndex, name: segmentFileName(seq, firstIndex) };
  const parts = [encodeRecord({ type: RecordType.SegmentHeader, header: { seq, firstIndex } })];
  if (marker !== undefined) parts.push(encodeRecord({ type: RecordType.SnapshotMarker, marker, carried: true }));
  if (hardState !== undefined) parts.push(encodeRecord({ type: RecordType.HardState, hardState }));
  const preamble = concat(parts);
  const file = await fs.openAppend(joinPath(dir, seg.name), { durableWrites: true });
  await file.append(preamble);
  await file.datasync(); // a no-op when the appends were durable already
  await fs.syncDir(dir);
  return { seg, file, preambleBytes: preamble.length, dirty: false };
}

async function listSegments(dir: string, fs: StorageFs): Promise<SegmentName[]> {
  const segments: SegmentName[] = [];
  for (const name of await fs.readdir(dir)) {
    let seg: SegmentName | undefined;
    try {
      seg = parseSegmentName(name);
    } catch (err) {
      throw new WalCorruptionError(joinPath(dir, name), undefined, (err as Error).message);
    }
    if (seg !== undefined) segments.push(seg);
  }
  segments.sort((a, b) => a.seq - b.seq);
  for (let i = 1; i < segments.length; i++) {
    const prev = segments[i - 1];
    const cur = segments[i];
    if (cur.seq === prev.seq) {
      throw new WalCorruptionError(dir, undefined, `two segments with sequence ${cur.seq}: ${prev.name} and ${cur.name}`);
    }
    if (cur.seq !== prev.seq + 1) {
      throw new WalCorruptionError(
        dir,
        undefined,
        `segment sequence jumps from ${prev.seq} (${prev.name}) to ${cur.seq} (${cur.name}): segment(s) missing`,
      );
    }
  }
  return segments;
}

/**
 * Feed one segment's records to `replay`. Returns where the valid records end (less than the file length
 * only for a torn tail of the last segment) and where the preamble (header and carried records) ends.
 */
function replaySegment(
  path: string,
  buf: Uint8Array,
  seg: SegmentName,
  replay: LogReplay,
  firstSegment: boolean,
  lastSegment: boolean,
): { validEnd: number; preambleEnd: number } {
  let offset = 0;
  let preambleEnd = 0;
  let inPreamble = true;
  while (offset < buf.length) {
    const frame = readFrame(buf, offset);
    if (!frame.ok) {
      if (!lastSegment) throw new WalCorruptionError(path, offset, `${frame.problem} in a segment that is not the last`);
      const valid = findValidFrameAfter(buf, offset);
      if (valid !== undefined && !sectorNeverWritten(buf, offset, valid)) {
        throw new WalCorruptionError(path, offset, `${frame.problem}, followed by a valid record at offset ${valid}`);
      }
      return { validEnd: offset, preambleEnd };
    }
    let record;
    try {
      record = decodePayload(frame.type, frame.payload);
    } catch (err) {
      throw new WalCorruptionError(path, offset, `undecodable record with a valid CRC: ${(err as Error).message}`);
    }
    if (offset === 0) {
      if (record.type !== RecordType.SegmentHeader) {
        throw new WalCorruptionError(path, 0, 'segment does not start with a header');
      }
      if (record.header.seq !== seg.seq || record.header.firstIndex !== seg.firstIndex) {
        throw new WalCorruptionError(
          path,
          0,
          `header says segment ${record.header.seq} from index ${record.header.firstIndex}, name disagrees`,
        );
      }
    } else {
      switch (record.type) {
        case RecordType.SegmentHeader:
          throw new WalCorruptionError(path, offset, 'segment header in the middle of a segment');
        case RecordType.Entry:
          inPreamble = false;
          replay.applyEntry(record.entry);
          break;
        case RecordType.HardState:
          replay.applyHardState(record.hardState);
          break;
        case RecordType.SnapshotMarker:
          if (!record.carried) inPreamble = false;
          replay.applyMarker(record.marker, record.carried, firstSegment);
          break;
      }
    }
    offset = frame.next;
    if (inPreamble) preambleEnd = offset;
  }
  return { validEnd: offset, preambleEnd };
}

/**
 * Whether, between a bad frame at `from` and the next valid frame at `to`, a 512-byte sector still
 * holds the zeros it was preallocated with: the write there was torn out of order (an overwrite has no
 * file length to hold later sectors back), so what follows is the rest of that unacknowledged write, not
 * records after damage. Counts a whole zero sector, or zeros from `from` to its sector's end that cover
 * the frame's length field (a record never starts with a zero length). A sector of zeros inside
 * acknowledged records would be taken for a tear too; etcd's WAL makes the same call (isTornEntry).
 */
function sectorNeverWritten(buf: Uint8Array, from: number, to: number): boolean {
  const SECTOR = 512;
  for (let sector = Math.floor(from / SECTOR) * SECTOR; sector < to; sector += SECTOR) {
    const a = Math.max(sector, from);
    const b = Math.min(sector + SECTOR, to);
    const wholeSector = a === sector && b === sector + SECTOR;
    const atFrameStart = a === from && b - a >= 4;
    if ((wholeSector || atFrameStart) && allZero(buf, a, b)) return true;
  }
  return false;
}

/** Whether buf[from..] holds only zero bytes (unused preallocated space). */
function allZero(buf: Uint8Array, from: number, to = buf.length): boolean {
  for (let i = from; i < to; i++) if (buf[i] !== 0) return false;
  return true;
}

function encodeBatch(b: WalBatch): Uint8Array {
  const parts: Uint8Array[] = [];
  if (b.marker !== undefined) parts.push(encodeRecord({ type: RecordType.SnapshotMarker, marker: b.marker, carried: false }));
  // Entries before the hard state: a crash between them must never leave a commit index past the last
  // durable entry (raft refuses to start with commit > lastIndex).
  for (const entry of b.entries) parts.push(encodeRecord({ type: RecordType.Entry, entry }));
  if (b.hardState !== undefined) parts.push(encodeRecord({ type: RecordType.HardState, hardState: b.hardState }));
  return concat(parts);
}

function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0];
  let size = 0;
  for (const p of parts) size += p.length;
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
