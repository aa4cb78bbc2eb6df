/**
 * Snapshot files: `<root>/snap/<term>-<index>.snap`, each written atomically
 * (write `.snap.tmp`, fdatasync, rename to `.snap`, fsync the directory), so a crash leaves either the whole
 * new file or none of it, never a half-written `.snap`.
 *
 * File format (little-endian): "SDSN" magic, u8 version, u32 body length, u32 CRC-32C of the body,
 * body = encodeSnapshot(snapshot) from ../codec. The CRC catches bit rot and torn renames on file systems
 * that reorder data and metadata.
 */
import { decodeSnapshot, encodeSnapshot } from '../codec';
import type { Snapshot } from '../types';
import { crc32c } from './crc32c';
import type { StorageFs } from './fs-types';
import { errorCode, joinPath } from './fs-types';

const MAGIC = [0x53, 0x44, 0x53, 0x4e]; // "SDSN"
const VERSION = 1;
const HEADER_BYTES = 13;
const NAME = /^(\d{16})-(\d{16})\.snap$/;
export const DEFAULT_SNAPSHOTS_KEPT = 2;

export interface SnapshotFile {
  name: string;
  term: number;
  index: number;
}

export interface SnapshotProblem {
  file: string;
  reason: string;
}

export interface LoadedSnapshot {
  snapshot: Snapshot;
  /** Path of the file it came from. */
  file: string;
  /** Newer files that were passed over because they are corrupt. */
  skipped: SnapshotProblem[];
}

export interface SnapshotStoreOptions {
  /** How many snapshots prune() keeps. Default 2, so a corrupt newest one still has a fallback. */
  keep?: number;
  /** Told about every corrupt file loadNewest() passes over. */
  onCorrupt?: (problem: SnapshotProblem) => void;
}

export function snapshotFileName(term: number, index: number): string {
  return `${String(term).padStart(16, '0')}-${String(index).padStart(16, '0')}.snap`;
}

export function encodeSnapshotFile(snapshot: Snapshot): Uint8Array {
  const body = encodeSnapshot(snapshot);
  const out = new Uint8Array(HEADER_BYTES + body.length);
  out.set(fileHeader(body.length, crc32c(body)), 0);
  out.set(body, HEADER_BYTES);
  return out;
}

function fileHeader(bodyLength: number, crc: number): Uint8Array {
  const header = new Uint8Array(HEADER_BYTES);
  header.set(MAGIC, 0);
  header[4] = VERSION;
  const view = new DataView(header.buffer);
  view.setUint32(5, bodyLength, true);
  view.setUint32(9, crc, true);
  return header;
}

/** Checksummed per CRC_SLICE_BYTES between two turns of the event loop (see crc32cInSlices). */
const CRC_SLICE_BYTES = 1024 * 1024;

/**
 * crc32c of `data`, handing the event loop back after every CRC_SLICE_BYTES: a store of 30,000 tasks
 * snapshots to ~15 MB, whose CRC in one piece held the loop (heartbeats, and the desktop app's node
 * worker) for ~40 ms. Small snapshots, the simulator's among them, take one slice and no extra turn.
 */
async function crc32cInSlices(data: Uint8Array): Promise<number> {
  let crc = 0;
  for (let start = 0; start < data.length; start += CRC_SLICE_BYTES) {
    if (start > 0) await new Promise<void>((resolve) => setImmediate(resolve));
    crc = crc32c(data, crc, start, Math.min(data.length, start + CRC_SLICE_BYTES));
  }
  return crc;
}

/** Decode a snapshot file, or throw an Error saying what is wrong with it. */
export function decodeSnapshotFile(buf: Uint8Array): Snapshot {
  if (buf.length < HEADER_BYTES) throw new Error(`file too short (${buf.length} bytes)`);
  if (MAGIC.some((b, i) => buf[i] !== b)) throw new Error('bad magic');
  if (buf[4] !== VERSION) throw new Error(`unsupported version ${buf[4]}`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const length = view.getUint32(5, true);
  if (HEADER_BYTES + length !== buf.length) {
    throw new Error(`length field says ${length} body bytes, file has ${buf.length - HEADER_BYTES}`);
  }
  const body = buf.subarray(HEADER_BYTES);
  if (crc32c(body) !== view.getUint32(9, true)) throw new Error('crc mismatch');
  return decodeSnapshot(body);
}

export class SnapshotStore {
  readonly snapDir: string;
  private readonly keep: number;

  private constructor(
    root: string,
    private readonly fs: StorageFs,
    private readonly options: SnapshotStoreOptions,
  ) {
    this.snapDir = joinPath(root, 'snap');
    this.keep = Math.max(1, options.keep ?? DEFAULT_SNAPSHOTS_KEPT);
  }

  /** Open (creating `<root>/snap`) and delete `.snap.tmp` files a crash left behind. */
  static async open(root: string, fs: StorageFs, options: SnapshotStoreOptions = {}): Promise<SnapshotStore> {
    const store = new SnapshotStore(root, fs, options);
    await fs.mkdirp(store.snapDir);
    let removed = false;
    for (const name of await fs.readdir(store.snapDir)) {
      if (name.endsWith('.snap.tmp')) {
        await fs.unlink(joinPath(store.snapDir, name));
        removed = true;
      }
    }
    if (removed) await fs.syncDir(store.snapDir);
    return store;
  }

  /**
   * Write `snapshot` durably and return its path. With `prune` (default true) older snapshots beyond `keep`
   * are deleted afterwards; pass false when something else (the WAL marker) must become durable first.
   */
  async save(snapshot: Snapshot, options: { prune?: boolean } = {}): Promise<string> {
    const { index, term } = snapshot.metadata;
    const path = joinPath(this.snapDir, snapshotFileName(term, index));
    const tmp = `${path}.tmp`;
    await this.unlinkIfPresent(tmp); // appending to a stale tmp would corrupt the new file
    // The same bytes as encodeSnapshotFile, without holding the event loop for the whole CRC or copying
    // the body a second time behind the header.
    const body = encodeSnapshot(snapshot);
    const header = fileHeader(body.length, await crc32cInSlices(body));
    const file = await this.fs.openAppend(tmp);
    try {
      await file.append(header);
      await file.append(body);
      await file.datasync();
    } finally {
      await file.close();
    }
    await this.fs.rename(tmp, path);
    await this.fs.syncDir(this.snapDir);
    if (options.prune ?? true) await this.prune();
    return path;
  }

  /** Snapshot files, newest (highest index, then term) first. Corrupt ones included: their names parse. */
  async list(): Promise<SnapshotFile[]> {
    const files: SnapshotFile[] = [];
    for (const name of await this.fs.readdir(this.snapDir)) {
      const m = NAME.exec(name);
      if (m !== null) files.push({ name, term: Number(m[1]), index: Number(m[2]) });
    }
    return files.sort((a, b) => b.index - a.index || b.term - a.term);
  }

  /**
   * The newest valid snapshot (among those `accept` allows), or undefined. Corrupt files are reported
   * (onCorrupt and `skipped`) and the next older one is tried.
   */
  async loadNewest(accept: (file: SnapshotFile) => boolean = () => true): Promise<LoadedSnapshot | undefined> {
    const skipped: SnapshotProblem[] = [];
    for (const f of await this.list()) {
      if (!accept(f)) continue;
      const path = joinPath(this.snapDir, f.name);
      try {
        const snapshot = decodeSnapshotFile(await this.fs.readFile(path));
        if (snapshot.metadata.index !== f.index || snapshot.metadata.term !== f.term) {
          throw new Error(`holds snapshot ${snapshot.metadata.term}-${snapshot.metadata.index}, name disagrees`);
        }
        return { snapshot, file: path, skipped };
      } catch (err) {
        const problem = { file: path, reason: err instanceof Error ? err.message : String(err) };
        skipped.push(problem);
        this.options.onCorrupt?.(problem);
      }
    }
    return undefined;
  }

  /** Delete all but the newest `keep` snapshots. Returns the deleted paths. */
  async prune(): Promise<string[]> {
    return this.removeAll((await this.list()).slice(this.keep));
  }

  /** Delete snapshots with an index above `index` (written but never recorded in the WAL). */
  async removeNewerThan(index: number): Promise<string[]> {
    return this.removeAll((await this.list()).filter((f) => f.index > index));
  }

  private async removeAll(files: SnapshotFile[]): Promise<string[]> {
    const removed: string[] = [];
    for (const f of files) {
      const path = joinPath(this.snapDir, f.name);
      await this.fs.unlink(path);
      removed.push(path);
    }
    if (removed.length > 0) await this.fs.syncDir(this.snapDir);
    return removed;
  }

  private async unlinkIfPresent(path: string): Promise<void> {
    try {
      await this.fs.unlink(path);
    } catch (err) {
      if (errorCode(err) !== 'ENOENT') throw err;
    }
  }
}
