/**
 * An in-memory StorageFs that models what survives a power cut, for crash tests and the deterministic
 * simulator.
 *
 * Model (deliberately pessimistic, close to POSIX guarantees rather than to any one file system):
 * - Each file (inode) has durable content and a current content. `datasync` makes the current content
 *   durable. Until then appended bytes are an unsynced tail, overwritten bytes (appends into space a
 *   `reserve` preallocated) keep their durable old content, and a truncate is undone by a crash.
 * - Each directory has durable entries and current entries; creates, renames and unlinks change only the
 *   current entries until `syncDir`. A crash reverts the directory to its durable entries, so a synced file
 *   whose name was never synced vanishes.
 * - `crash()` drops everything unsynced. With `tear`, a file's unsynced writes are not simply dropped: a
 *   random-length prefix of them (in file order, from the first changed byte) survives, cutting the last
 *   write short, optionally followed by garbage or zero bytes, as a disk that lost power mid-write leaves
 *   it. Garbage after an overwrite inside the file stays inside the overwritten range. A write that only
 *   overwrites (into space `reserve` made) has no file length to hold it back, so a disk may persist its
 *   512-byte sectors in any order: half of such tears keep a random subset of sectors instead of a prefix.
 * - Directories themselves are created durably by `mkdirp` (a simplification: the layouts under test create
 *   their directories once, before anything that matters).
 * - Every operation resolves as an already-settled promise (no timers, no I/O), so a simulator that drives
 *   it stays deterministic. Randomness comes only from the injected `random`.
 * - Fault injection: `hook` is called before every mutating operation; if it throws, the operation has no
 *   effect and its promise rejects with that error. Tests "crash at operation k" by throwing from the hook
 *   and then calling `crash()`.
 * - `enospcAfterBytes`: once files have grown by that many bytes (counted from when it is set), writes fail
 *   with code ENOSPC after writing the part that still fits, like a real short write on a full disk.
 *   Overwrites (appends into reserved space) need no new space.
 */
import type { AppendFile, OpenAppendOptions, StorageFs } from './fs-types';
import { FsError } from './fs-types';

export type FsOpKind = 'create' | 'write' | 'datasync' | 'syncDir' | 'rename' | 'unlink' | 'truncate' | 'mkdir';

export interface FsOp {
  kind: FsOpKind;
  path: string;
  /** Bytes for 'write'. */
  bytes?: number;
}

export interface MemoryFsOptions {
  /** An integer in [0, n); drives tearing on crash. Defaults to always 0 (no randomness). */
  random?: (n: number) => number;
}

/** The unit a disk writes atomically; an overwrite torn out of order keeps or loses whole sectors. */
const SECTOR_BYTES = 512;

export interface CrashOptions {
  /**
   * 'none' (default): drop every unsynced byte.
   * 'prefix': keep a random-length prefix of each file's unsynced tail.
   * 'garbage': like 'prefix', then append 1..32 random bytes (or zeros, chosen at random).
   * With either, unsynced writes that only overwrote bytes are, half of the time, torn out of order:
   * a random subset of their 512-byte sectors survives.
   */
  tear?: 'none' | 'prefix' | 'garbage';
}

export interface MemoryFsStats {
  writes: number;
  bytesWritten: number;
  datasyncs: number;
  dirSyncs: number;
  renames: number;
  unlinks: number;
  truncates: number;
  crashes: number;
}

class Inode {
  buf = new Uint8Array(64);
  len = 0;
  durableLen = 0;
  /** Set when a truncate cut into durable bytes: the content a crash restores. */
  durableCopy: Uint8Array | undefined;
  /** Durable bytes overwritten since the last sync (writes into reserved space), oldest first. */
  overwritten: { offset: number; old: Uint8Array }[] = [];

  content(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }

  private grow(size: number): void {
    if (size <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < size) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.content());
    this.buf = next;
  }

  append(data: Uint8Array): void {
    this.write(this.len, data);
  }

  /** Write at `offset` (<= len): overwrite, extend, or both. */
  write(offset: number, data: Uint8Array): void {
    if (offset > this.len) throw new RangeError(`write at ${offset} past the end (${this.len})`);
    const durableEnd = Math.min(offset + data.length, this.durableLen);
    if (offset < durableEnd && this.durableCopy === undefined) {
      this.overwritten.push({ offset, old: this.buf.slice(offset, durableEnd) });
    }
    this.grow(offset + data.length);
    this.buf.set(data, offset);
    this.len = Math.max(this.len, offset + data.length);
  }

  truncate(size: number): void {
    if (size < this.durableLen && this.durableCopy === undefined) {
      this.durableCopy = this.buf.slice(0, this.durableLen);
      // The copy holds the durable bytes as they were before any unsynced overwrite.
      for (let i = this.overwritten.length - 1; i >= 0; i--) this.durableCopy.set(this.overwritten[i].old, this.overwritten[i].offset);
    }
    if (size > this.len) this.append(new Uint8Array(size - this.len));
    else this.len = size;
  }

  sync(): void {
    this.durableLen = this.len;
    this.durableCopy = undefined;
    this.overwritten = [];
  }

  /**
   * Back to the durable content. The unsynced writes (overwrites of durable bytes, as into reserved
   * space, and the tail past the durable length) are taken as one run of new bytes from the first
   * changed offset, written in order; `tear` decides what of that run survives. A run that stays inside
   * the durable length cannot lengthen the file: its garbage, too, stays inside the run.
   */
  crash(tear: (unsynced: Uint8Array) => Uint8Array, scramble?: () => ((sector: number) => boolean) | undefined): void {
    if (this.durableCopy !== undefined) {
      // An unsynced truncate: the disk still has the old content (and nothing appended since).
      const durable = this.durableCopy;
      this.buf = new Uint8Array(Math.max(64, durable.length));
      this.buf.set(durable);
      this.len = durable.length;
    } else {
      const grew = this.len > this.durableLen;
      let from = grew ? this.durableLen : Infinity;
      let end = grew ? this.len : 0;
      for (const o of this.overwritten) {
        from = Math.min(from, o.offset);
        end = Math.max(end, o.offset + o.old.length);
      }
      const unsynced = from < end ? this.buf.slice(from, end) : new Uint8Array(0);
      for (let i = this.overwritten.length - 1; i >= 0; i--) this.buf.set(this.overwritten[i].old, this.overwritten[i].offset);
      this.overwritten = [];
      this.len = this.durableLen;
      const sectorSurvives = !grew && unsynced.length > 0 ? scramble?.() : undefined;
      if (sectorSurvives !== undefined) {
        // Out of order: each sector of the run holds either its new bytes or its old ones.
        for (let sector = Math.floor(from / SECTOR_BYTES) * SECTOR_BYTES; sector < end; sector += SECTOR_BYTES) {
          const a = Math.max(sector, from);
          const b = Math.min(sector + SECTOR_BYTES, end);
          if (sectorSurvives(sector)) this.buf.set(unsynced.subarray(a - from, b - from), a);
        }
      } else if (unsynced.length > 0) {
        let kept = tear(unsynced);
        if (!grew) kept = kept.subarray(0, unsynced.length);
        this.write(from, kept);
      }
    }
    this.sync();
  }
}

interface Dir {
  entries: Map<string, Inode>;
  durable: Map<string, Inode>;
}

function splitPath(path: string): { dir: string; name: string } {
  const cut = path.lastIndexOf('/');
  if (cut < 0) return { dir: '.', name: path };
  return { dir: cut === 0 ? '/' : path.slice(0, cut), name: path.slice(cut + 1) };
}

function normalizeDir(dir: string): string {
  return dir.length > 1 ? dir.replace(/\/+$/, '') : dir;
}

export class MemoryFs implements StorageFs {
  readonly stats: MemoryFsStats = {
    writes: 0,
    bytesWritten: 0,
    datasyncs: 0,
    dirSyncs: 0,
    renames: 0,
    unlinks: 0,
    truncates: 0,
    crashes: 0,
  };
  /** Called before each mutating operation; throw to make it fail (and leave no effect). */
  hook: ((op: FsOp) => void) | undefined;
  private readonly dirs = new Map<string, Dir>();
  private readonly random: (n: number) => number;
  /** Bumped by crash(): handles opened before it are dead, as after a process restart. */
  private generation = 0;
  private spaceLeft: number | undefined;

  constructor(options: MemoryFsOptions = {}) {
    this.random = options.random ?? (() => 0);
  }

  /** After `bytes` more appended bytes, writes fail with ENOSPC. `undefined` lifts the limit. */
  enospcAfterBytes(bytes: number | undefined): void {
    this.spaceLeft = bytes;
  }

  /** Simulate a power cut: everything not made durable is lost (or torn, see CrashOptions). */
  crash(options: CrashOptions = {}): void {
    const tear = options.tear ?? 'none';
    this.generation++;
    this.stats.crashes++;
    const inodes = new Set<Inode>();
    for (const dir of this.dirs.values()) {
      dir.entries = new Map(dir.durable);
      for (const inode of dir.durable.values()) inodes.add(inode);
    }
    // random(2) === 1 so the default (always 0) keeps the plain prefix tear.
    const scramble = () => (tear !== 'none' && this.random(2) === 1 ? () => this.random(2) === 1 : undefined);
    for (const inode of inodes) inode.crash((unsynced) => this.tearTail(unsynced, tear), scramble);
  }

  private tearTail(unsynced: Uint8Array, tear: 'none' | 'prefix' | 'garbage'): Uint8Array {
    if (tear === 'none' || unsynced.length === 0) return new Uint8Array(0);
    const keep = unsynced.subarray(0, this.random(unsynced.length + 1));
    if (tear === 'prefix') return keep;
    const garbage = new Uint8Array(1 + this.random(32));
    if (this.random(2) === 0) for (let i = 0; i < garbage.length; i++) garbage[i] = this.random(256);
    const out = new Uint8Array(keep.length + garbage.length);
    out.set(keep);
    out.set(garbage, keep.length);
    return out;
  }

  /** Test helper: the current bytes of a file (a copy). */
  peek(path: string): Uint8Array {
    return this.lookup(path).content().slice();
  }

  /** Test helper: overwrite bytes in place (as corruption would), durably. */
  corrupt(path: string, offset: number, bytes: Uint8Array): void {
    const inode = this.lookup(path);
    if (offset + bytes.length > inode.len) throw new RangeError(`corrupt past the end of ${path}`);
    inode.buf.set(bytes, offset);
  }

  /** Test helper: append bytes durably (as a torn write that reached the disk). */
  appendRaw(path: string, bytes: Uint8Array): void {
    const inode = this.lookup(path);
    inode.append(bytes);
    inode.sync();
  }

  private fire(op: FsOp): void {
    this.hook?.(op);
  }

  private dir(path: string): Dir {
    const dir = this.dirs.get(normalizeDir(path));
    if (dir === undefined) throw new FsError('ENOENT', `no such directory: ${path}`);
    return dir;
  }

  private lookup(path: string): Inode {
    const { dir, name } = splitPath(path);
    const inode = this.dir(dir).entries.get(name);
    if (inode === undefined) throw new FsError('ENOENT', `no such file: ${path}`);
    return inode;
  }

  async openAppend(path: string, options: OpenAppendOptions = {}): Promise<AppendFile> {
    const { dir, name } = splitPath(path);
    const d = this.dir(dir);
    let inode = d.entries.get(name);
    if (inode === undefined) {
      this.fire({ kind: 'create', path });
      inode = new Inode();
      d.entries.set(name, inode);
    }
    return this.handle(path, inode, options.durableWrites === true);
  }

  /**
   * With `durableWrites` an append is a write followed by a sync, each its own fault-injection point, so
   * a crash can still land between them and tear the write, as power loss during an O_DSYNC write can.
   * `reserve` is likewise a write of zeros followed by a sync (on any handle: it promises durability).
   * Appends land at the handle's own position, so after a reserve they overwrite the reserved zeros.
   */
  private handle(path: string, inode: Inode, durableWrites: boolean): AppendFile {
    const generation = this.generation;
    const alive = (): void => {
      if (generation !== this.generation) throw new FsError('EBADF', `handle on ${path} died in a crash`);
    };
    const sync = (): void => {
      alive();
      this.fire({ kind: 'datasync', path });
      this.stats.datasyncs++;
      inode.sync();
    };
    let size = inode.len;
    let reserved = inode.len;
    /** Write at `at`, charging the ENOSPC budget only for bytes that grow the file. */
    const write = (data: Uint8Array, at: number): void => {
      alive();
      this.fire({ kind: 'write', path, bytes: data.length });
      this.stats.writes++;
      const growth = Math.max(0, at + data.length - inode.len);
      if (this.spaceLeft !== undefined && growth > this.spaceLeft) {
        const fits = data.length - growth + this.spaceLeft;
        inode.write(at, data.subarray(0, fits));
        this.stats.bytesWritten += fits;
        this.spaceLeft = 0;
        throw new FsError('ENOSPC', `no space left on device writing ${path}`);
      }
      inode.write(at, data);
      this.stats.bytesWritten += data.length;
      if (this.spaceLeft !== undefined) this.spaceLeft -= growth;
    };
    return {
      path,
      durableWrites,
      get size() {
        return size;
      },
      get reserved() {
        return reserved;
      },
      append: async (data: Uint8Array) => {
        try {
          write(data, size);
        } finally {
          // What reached the file (all of it, or the part that fit) moves the handle on.
          const end = Math.min(inode.len, size + data.length);
          if (end > size) size = end;
          reserved = Math.max(reserved, size);
        }
        if (durableWrites) sync();
      },
      reserve: async (length: number) => {
        if (length <= reserved) return;
        try {
          write(new Uint8Array(length - reserved), reserved);
        } finally {
          reserved = Math.max(reserved, inode.len);
        }
        sync();
      },
      datasync: async () => {
        if (!durableWrites) sync();
      },
      close: async () => {},
    };
  }

  async syncDir(dir: string): Promise<void> {
    const d = this.dir(dir);
    this.fire({ kind: 'syncDir', path: dir });
    this.stats.dirSyncs++;
    d.durable = new Map(d.entries);
  }

  async readFile(path: string): Promise<Uint8Array> {
    return this.lookup(path).content().slice();
  }

  async readdir(dir: string): Promise<string[]> {
    return [...this.dir(dir).entries.keys()].sort();
  }

  async rename(from: string, to: string): Promise<void> {
    const src = splitPath(from);
    const dst = splitPath(to);
    const inode = this.lookup(from);
    const target = this.dir(dst.dir);
    this.fire({ kind: 'rename', path: from });
    this.stats.renames++;
    this.dir(src.dir).entries.delete(src.name);
    target.entries.set(dst.name, inode);
  }

  async unlink(path: string): Promise<void> {
    const { dir, name } = splitPath(path);
    this.lookup(path);
    this.fire({ kind: 'unlink', path });
    this.stats.unlinks++;
    this.dir(dir).entries.delete(name);
  }

  async truncate(path: string, size: number): Promise<void> {
    const inode = this.lookup(path);
    this.fire({ kind: 'truncate', path });
    this.stats.truncates++;
    inode.truncate(size);
  }

  async mkdirp(dir: string): Promise<void> {
    const norm = normalizeDir(dir);
    if (this.dirs.has(norm)) return;
    this.fire({ kind: 'mkdir', path: norm });
    let cur = norm;
    for (;;) {
      if (!this.dirs.has(cur)) this.dirs.set(cur, { entries: new Map(), durable: new Map() });
      const parent = splitPath(cur).dir;
      if (parent === cur || cur === '.' || cur === '/') break;
      cur = parent;
    }
  }

  async size(path: string): Promise<number> {
    return this.lookup(path).len;
  }
}
