import fsCallback from 'node:fs';
import { mkdtemp, open, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { NodeFs } from '../../../agent/raft/storage/fs';
import { DurableRaftStorage } from '../../../agent/raft/storage/raft-storage';
import { entries, hs } from './helpers';

const STORAGE_SRC = join(dirname(fileURLToPath(import.meta.url)), '../../../agent/raft/storage');
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  while (cleanups.length > 0) await cleanups.pop()?.();
});

async function tempDir(): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'swarmdesk-nodefs-'));
  cleanups.push(() => rm(root, { recursive: true, force: true }));
  return root;
}

/** FileHandle is not exported; take its prototype from a live handle. */
async function fileHandlePrototype(dir: string): Promise<{ datasync: () => Promise<void>; sync: () => Promise<void> }> {
  const h = await open(join(dir, 'probe'), 'w');
  const proto = Object.getPrototypeOf(h) as { datasync: () => Promise<void>; sync: () => Promise<void> };
  await h.close();
  return proto;
}

describe('NodeFs', () => {
  it('writes the WAL with O_DSYNC, fdatasyncs snapshot files, and fsyncs directories', async () => {
    const root = await tempDir();
    const proto = await fileHandlePrototype(root);
    const datasync = vi.spyOn(proto, 'datasync');
    const sync = vi.spyOn(proto, 'sync');
    const probe = await new NodeFs().openAppend(join(root, 'dsync-probe'), { durableWrites: true });
    // Every platform Node runs the agent on, but Windows, has O_DSYNC.
    expect(probe.durableWrites).toBe(process.platform !== 'win32');
    await probe.close();
    const plain = await new NodeFs().openAppend(join(root, 'plain-probe'));
    expect(plain.durableWrites).toBe(false);
    await plain.datasync();
    expect(datasync).toHaveBeenCalledTimes(1);
    await plain.close();

    const { storage } = await DurableRaftStorage.open(join(root, 'raft'), new NodeFs());
    expect(sync.mock.calls.length).toBeGreaterThan(0); // the WAL directory, after creating a segment
    const before = datasync.mock.calls.length;
    await Promise.all([
      storage.save({ hardState: hs(1, 0), entries: entries(1, 3, 1), mustSync: true }),
      storage.save({ entries: entries(4, 5, 1), mustSync: true }),
    ]);
    // The WAL's writes are durable by themselves: no separate fdatasync.
    expect(datasync.mock.calls.length).toBe(before);
    await storage.saveSnapshot({ metadata: { index: 3, term: 1, confState: { voters: [1], learners: [], removed: [] } }, data: new Uint8Array(8) });
    expect(datasync.mock.calls.length).toBe(before + 1); // the snapshot file, before its rename
    await storage.close();

    const again = await DurableRaftStorage.open(join(root, 'raft'), new NodeFs());
    expect(again.state.entries.map((e) => e.index)).toEqual([4, 5]);
    expect(again.state.snapshot?.metadata.index).toBe(3);
    await again.storage.close();
    expect((await readdir(join(root, 'raft', 'snap'))).length).toBe(1);
  });

  it('never calls a synchronous fs function while opening, saving and snapshotting', async () => {
    const root = await tempDir();
    const names = Object.keys(fsCallback).filter(
      (k) => k.endsWith('Sync') && typeof (fsCallback as unknown as Record<string, unknown>)[k] === 'function',
    );
    expect(names).toContain('fsyncSync');
    const spies = names.map((k) => vi.spyOn(fsCallback as unknown as Record<string, () => unknown>, k));
    const { storage } = await DurableRaftStorage.open(join(root, 'raft'), new NodeFs(), { wal: { segmentBytes: 128 } });
    for (let i = 1; i <= 20; i += 2) await storage.save({ hardState: hs(1, i), entries: entries(i, i + 1, 1, 30), mustSync: true });
    await storage.saveSnapshot({ metadata: { index: 10, term: 1, confState: { voters: [1], learners: [], removed: [] } }, data: new Uint8Array(4) });
    await storage.close();
    const { storage: s2 } = await DurableRaftStorage.open(join(root, 'raft'), new NodeFs(), { wal: { segmentBytes: 128 } });
    await s2.close();
    const called = spies.flatMap((s, i) => (s.mock.calls.length > 0 ? [names[i]] : []));
    expect(called).toEqual([]);
  });

  it('has no *Sync call anywhere in the storage sources', async () => {
    const files = (await readdir(STORAGE_SRC)).filter((f) => f.endsWith('.ts'));
    expect(files).toContain('node-fs.ts');
    for (const f of files) {
      const src = await readFile(join(STORAGE_SRC, f), 'utf8');
      expect(src, f).not.toMatch(/\b\w+Sync\s*\(/);
      expect(src, f).not.toMatch(/from ['"](node:)?fs['"]/);
    }
  });
});
