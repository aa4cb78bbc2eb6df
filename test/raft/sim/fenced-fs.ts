/**
 * One incarnation's view of a member's disk. After a simulated crash the old incarnation's promise
 * chains may still be running; fencing its view makes every later operation fail, so nothing the dead
 * process "does" reaches the disk the restarted member reads.
 */
import { type AppendFile, FsError, type OpenAppendOptions, type StorageFs } from '../../../agent/raft/storage/fs';

export class FencedFs implements StorageFs {
  private dead = false;

  /** `syncLatency` makes every fsync take (virtual) time, so crashes can land while one is in flight. */
  constructor(
    private readonly inner: StorageFs,
    private readonly syncLatency: () => Promise<void> = () => Promise.resolve(),
  ) {}

  kill(): void {
    this.dead = true;
  }

  private check(): void {
    if (this.dead) throw new FsError('EIO', 'the process that owned this file system view has crashed');
  }

  private async guard<T>(op: () => Promise<T>): Promise<T> {
    this.check();
    const result = await op();
    this.check();
    return result;
  }

  async openAppend(path: string, options: OpenAppendOptions = {}): Promise<AppendFile> {
    // A durable append is modelled as write, then (after the latency) sync, so a crash can tear it.
    const durableWrites = options.durableWrites === true;
    const file = await this.guard(() => this.inner.openAppend(path));
    const sync = async () => {
      await this.syncLatency();
      this.check();
      await file.datasync();
    };
    return {
      path: file.path,
      durableWrites,
      get size() {
        return file.size;
      },
      get reserved() {
        return file.reserved;
      },
      append: (data) =>
        this.guard(async () => {
          await file.append(data);
          if (durableWrites) await sync();
        }),
      // Durable when it resolves, so it takes the fsync latency too (before the zeros land at once).
      reserve: (length) =>
        this.guard(async () => {
          await this.syncLatency();
          this.check();
          await file.reserve(length);
        }),
      datasync: () => this.guard(async () => {
        if (!durableWrites) await sync();
      }),
      close: () => this.guard(() => file.close()),
    };
  }

  syncDir(dir: string): Promise<void> {
    return this.guard(async () => {
      await this.syncLatency();
      this.check();
      await this.inner.syncDir(dir);
    });
  }

  readFile(path: string): Promise<Uint8Array> {
    return this.guard(() => this.inner.readFile(path));
  }

  readdir(dir: string): Promise<string[]> {
    return this.guard(() => this.inner.readdir(dir));
  }

  rename(from: string, to: string): Promise<void> {
    return this.guard(() => this.inner.rename(from, to));
  }

  unlink(path: string): Promise<void> {
    return this.guard(() => this.inner.unlink(path));
  }

  truncate(path: string, size: number): Promise<void> {
    return this.guard(() => this.inner.truncate(path, size));
  }

  mkdirp(dir: string): Promise<void> {
    return this.guard(() => this.inner.mkdirp(dir));
  }

  size(path: string): Promise<number> {
    return this.guard(() => this.inner.size(path));
  }
}
