/**
 * StorageFs on real files, using only node:fs/promises: the Raft node runs in Electron's main process, and
 * a synchronous syscall there would stall the UI for the length of an fsync.
 */
import { mkdir, open, readFile, readdir, rename, stat, truncate, unlink, type FileHandle } from 'node:fs/promises';
import type { AppendFile, StorageFs } from './fs-types';
import { errorCode } from './fs-types';

class NodeAppendFile implements AppendFile {
  constructor(
    readonly path: string,
    private readonly handle: FileHandle,
    public size: number,
  ) {}

  async append(data: Uint8Array): Promise<void> {
    // write() may write less than asked (signals, full pipes, some network file systems); loop until done.
    let done = 0;
    while (done < data.length) {
      const { bytesWritten } = await this.handle.write(data, done, data.length - done);
      if (bytesWritten <= 0) throw new Error(`short write to ${this.path}`);
      done += bytesWritten;
      this.size += bytesWritten;
    }
  }

  async datasync(): Promise<void> {
    await this.handle.datasync();
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}

export class NodeFs implements StorageFs {
  async openAppend(path: string): Promise<AppendFile> {
    // 'a' = O_APPEND|O_CREAT: every write lands at the current end, whatever else touched the file.
    const handle = await open(path, 'a');
    try {
      const { size } = await handle.stat();
      return new NodeAppendFile(path, handle, size);
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
