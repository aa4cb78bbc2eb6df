/**
 * A StorageFs whose WAL appends are blocking system calls on the event loop's own thread, for
 * bench:raft only: it measures what handing each write to libuv's thread pool costs a member (the
 * product never blocks its loop: the desktop's main process hosts the raft member, see node-fs.ts).
 * Everything but appending (and reserving space) is NodeFs's.
 */
import { closeSync, constants, fdatasyncSync, fstatSync, openSync, writeSync } from 'node:fs';
import { NodeFs } from '../../agent/raft/storage/fs';
import type { AppendFile, OpenAppendOptions } from '../../agent/raft/storage/fs-types';

const ZERO_CHUNK = new Uint8Array(1024 * 1024);

class BlockingAppendFile implements AppendFile {
  constructor(
    readonly path: string,
    private readonly fd: number,
    public size: number,
    public reserved: number,
    readonly durableWrites: boolean,
  ) {}

  async append(data: Uint8Array): Promise<void> {
    // One turn of the loop first, as a raft thread of its own would let its sender run: a leader's
    // appends to its followers, queued in HTTP/2 this turn, leave before the loop blocks on the disk.
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.writeAt(data, this.size);
    this.size += data.length;
    if (this.size > this.reserved) this.reserved = this.size;
  }

  async reserve(length: number): Promise<void> {
    while (this.reserved < length) {
      const n = Math.min(ZERO_CHUNK.length, length - this.reserved);
      this.writeAt(ZERO_CHUNK.subarray(0, n), this.reserved);
      this.reserved += n;
    }
    if (!this.durableWrites) fdatasyncSync(this.fd);
  }

  private writeAt(data: Uint8Array, position: number): void {
    let done = 0;
    while (done < data.length) {
      const written = writeSync(this.fd, data, done, data.length - done, position + done);
      if (written <= 0) throw new Error(`short write to ${this.path}`);
      done += written;
    }
  }

  async datasync(): Promise<void> {
    if (!this.durableWrites) fdatasyncSync(this.fd);
  }

  async close(): Promise<void> {
    closeSync(this.fd);
  }
}

export class BlockingAppendFs extends NodeFs {
  override async openAppend(path: string, options: OpenAppendOptions = {}): Promise<AppendFile> {
    const dsync = options.durableWrites && constants.O_DSYNC !== undefined ? constants.O_DSYNC : 0;
    const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | dsync);
    const { size } = fstatSync(fd);
    return new BlockingAppendFile(path, fd, size, size, dsync !== 0);
  }
}
