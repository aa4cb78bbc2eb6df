/**
 * The only door between Raft storage and the disk. The WAL and the snapshot store do all their I/O through
 * `StorageFs`, so the same code runs on real files (`NodeFs`) and on a crash-modelling in-memory disk
 * (`MemoryFs`) in tests and the deterministic simulator.
 *
 * Everything is asynchronous: the Raft node lives in Electron's main process, where a blocking syscall
 * freezes the UI. Durability is explicit: `append` alone promises nothing after a crash; `datasync` makes a
 * file's bytes durable; `syncDir` makes a directory's entries (creates, renames, unlinks) durable.
 */

/**
 * A file opened for appending. Appends land at `size`, the end of what was written through this handle
 * (the file's length at open plus every append), which is the end of the file unless space was reserved.
 */
export interface AppendFile {
  readonly path: string;
  /** Where the next append lands: the length at open plus everything appended through this handle. */
  readonly size: number;
  /** The file's length: at least `size`; more once `reserve` has added zero bytes past it. */
  readonly reserved: number;
  /**
   * True when every append is durable once it resolves (opened with `durableWrites`, O_DSYNC): one
   * system call instead of a write and an fdatasync. `datasync` then has nothing left to do.
   */
  readonly durableWrites: boolean;
  /** Write all of `data` at `size`. Not durable until `datasync`. */
  append(data: Uint8Array): Promise<void>;
  /**
   * Preallocate: grow the file to `length` bytes of zeros past `size` (no-op if it is that long), and
   * make the growth durable before resolving. Later appends into the reserved bytes then overwrite
   * allocated blocks without changing the file's length, so making them durable needs no metadata
   * update (on ext4, no journal commit per fdatasync or O_DSYNC write). Readers of such a file see the
   * zeros after the written records.
   */
  reserve(length: number): Promise<void>;
  /** fdatasync: the file's content (and size) are durable when this resolves. */
  datasync(): Promise<void>;
  close(): Promise<void>;
}

export interface OpenAppendOptions {
  /** Ask for appends that are durable when they resolve; the file says whether it got them. */
  durableWrites?: boolean;
}

export interface StorageFs {
  /** Open `path` for appending, creating it (empty) if missing. A new name is durable only after `syncDir`. */
  openAppend(path: string, options?: OpenAppendOptions): Promise<AppendFile>;
  /** fsync a directory so creates, renames and unlinks inside it survive a crash. */
  syncDir(dir: string): Promise<void>;
  readFile(path: string): Promise<Uint8Array>;
  /** Names (not paths) of the entries in `dir`. */
  readdir(dir: string): Promise<string[]>;
  /** Atomically replace `to` with `from`. Durable after `syncDir` of the directory. */
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
  /** Cut a file to `size` bytes. Durable after a `datasync` of a handle on the same file. */
  truncate(path: string, size: number): Promise<void>;
  /** mkdir -p. */
  mkdirp(dir: string): Promise<void>;
  /** Size in bytes; rejects with code ENOENT when missing. */
  size(path: string): Promise<number>;
}

/** An Error carrying a Node-style `code` (ENOENT, ENOSPC, ...), as NodeFs's errors do. */
export class FsError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(`${code}: ${message}`);
    this.name = 'FsError';
  }
}

export function errorCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err) {
    const code = (err as { code: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

/** Join path parts with '/'. Node's fs accepts '/' on every platform, and MemoryFs keys on it. */
export function joinPath(...parts: string[]): string {
  // Only '/' is collapsed: backslashes belong to Windows paths (C:\\x, UNC) and Node accepts a mix.
  return parts
    .filter((p) => p.length > 0)
    .join('/')
    .replace(/\/{2,}/g, '/');
}

