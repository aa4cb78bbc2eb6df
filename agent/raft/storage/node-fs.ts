/**
 * StorageFs on real files, using only node:fs/promises: the Raft node runs in Electron's main process, and
 * a synchronous syscall there would stall the UI for the length of an fsync.
 */
import { constants, mkdir, open, readFile, readdir, rename, stat, truncate, unlink, type FileHandle } from 'node:fs/promises';
import type { AppendFile, OpenAppendOptions, StorageFs } from './fs-types';
import { errorCode } from './fs-types';

/** Zeros written per call while reserving space (bounded so one reservation never holds a huge buffer). */
const ZERO_CHUNK = new Uint8Array(1024 * 1024);

class NodeAppendFile implements AppendFile {
  constructor(
    readonly path: string,
    private readonly handle: FileHandle,
    public size: number,
    public reserved: number,
    readonly durableWrites: boolean,
  ) {}

  async append(data: Uint8Array): Promise<void> {
    // Positional writes at `size`: into reserved (preallocated) space when there is some, else at the end.
    await this.writeAt(data, this.size);
    this.size += data.length;
    if (this.size > this.reserved) this.reserved = this.size;
  }

  async reserve(length: number): Promise<void> {
    if (length <= this.reserved) return;
    while (this.reserved < length) {
      const n = Math.min(ZERO_CHUNK.length, length - this.reserved);
      await this.writeAt(ZERO_CHUNK.subarray(0, n), this.reserved);
      this.reserved += n;
    }
    // With O_DSYNC each write above was durable (length included) when it returned.
    if (!this.durableWrites) await this.handle.datasync();
  }

  private async writeAt(data: Uint8Array, position: number): Promise<void> {
    // write() may write less than asked (signals, full pipes, some network file systems); loop until done.
    let done = 0;
    while (done < data.length) {
      const { bytesWritten } = await this.handle.write(data, done, data.length - done, position + done);
      if (bytesWritten <= 0) throw new Error(`short write to ${this.path}`);
      done += bytesWritten;
    }
  }

  async datasync(): Promise<void> {
    if (this.durableWrites) return; // O_DSYNC: every write was already durable when it returned
    await this.handle.datasync();
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}

export class NodeFs implements StorageFs {
  async openAppend(path: string, options: OpenAppendOptions = {}): Promise<AppendFile> {
    // Not O_APPEND: appends are positional writes at the handle's `size`, so they can land in space
    // reserved (preallocated) past it. O_DSYNC (where the platform has it) makes each write durable in
    // the same system call, saving the WAL a separate fdatasync round trip through the thread pool on
    // every batch.
    const dsync = options.durableWrites && constants.O_DSYNC !== undefined ? constants.O_DSYNC : 0;
    const handle = await open(path, constants.O_WRONLY | constants.O_CREAT | dsync);
    try {
      const { size } = await handle.stat();
      return new NodeAppendFile(path, handle, size, size, dsync !== 0);
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  async syncDir(dir: string): Promise<void> {
    let handle: FileHandle;
    try {
      handle = await open(dir, 'r');
    } catch (err) {
      // Windows cannot open a directory for fsync; NTFS journals its metadata, so there is nothing to do.
      if (process.platform === 'win32' && ['EISDIR', 'EPERM', 'EACCES'].includes(errorCode(err) ?? '')) return;
      throw err;
    }
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }

  async readFile(path: string): Promise<Uint8Array> {
    return readFile(path);
  }

  async readdir(dir: string): Promise<string[]> {
    return readdir(dir);
  }

  async rename(from: string, to: string): Promise<void> {
    await rename(from, to);
  }

  async unlink(path: string): Promise<void> {
    await unlink(path);
  }

  async truncate(path: string, size: number): Promise<void> {
    await truncate(path, size);
  }

  async mkdirp(dir: string): Promise<void> {
    await mkdir(dir, { recursive: true });
  }

  async size(path: string): Promise<number> {
    return (await stat(path)).size;
  }
}
