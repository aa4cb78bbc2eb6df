import { describe, expect, it } from 'vitest';
import { MemoryFs } from '../../../agent/raft/storage/fs';
import { encodeSnapshotFile, SnapshotStore, snapshotFileName, type SnapshotProblem } from '../../../agent/raft/storage/snapshot-store';
import type { Snapshot } from '../../../agent/raft/types';
import { CrashNow } from './helpers';

const ROOT = '/node';
const SNAP = '/node/snap';

function snap(index: number, term: number, text = `state@${index}`): Snapshot {
  return {
    metadata: { index, term, confState: { voters: [1, 2, 3], learners: [4], removed: [9] } },
    data: new TextEncoder().encode(text),
  };
}

describe('SnapshotStore', () => {
  it('saves atomically and loads the newest', async () => {
    const fs = new MemoryFs();
    const store = await SnapshotStore.open(ROOT, fs);
    const path = await store.save(snap(10, 2));
    expect(path).toBe(`${SNAP}/${snapshotFileName(2, 10)}`);
    expect(path).toBe(`${SNAP}/0000000000000002-0000000000000010.snap`);
    await store.save(snap(20, 3));
    fs.crash(); // both were made durable, names included
    const loaded = await (await SnapshotStore.open(ROOT, fs)).loadNewest();
    expect(loaded?.snapshot.metadata).toEqual(snap(20, 3).metadata);
    expect(new TextDecoder().decode(loaded?.snapshot.data)).toBe('state@20');
    expect(loaded?.skipped).toEqual([]);
  });

  it('keeps the newest N and deletes older ones once a new one is durable', async () => {
    const fs = new MemoryFs();
    const store = await SnapshotStore.open(ROOT, fs, { keep: 2 });
    for (const i of [10, 20, 30, 40]) await store.save(snap(i, 1));
    fs.crash();
    expect(await fs.readdir(SNAP)).toEqual([snapshotFileName(1, 30), snapshotFileName(1, 40)]);
  });

  it('reports a corrupt newest snapshot and falls back to the next older valid one', async () => {
    const fs = new MemoryFs();
    const problems: SnapshotProblem[] = [];
    const store = await SnapshotStore.open(ROOT, fs, { keep: 3, onCorrupt: (p) => problems.push(p) });
    await store.save(snap(10, 1));
    await store.save(snap(20, 1));
    const newest = `${SNAP}/${snapshotFileName(1, 20)}`;
    const len = (await fs.readFile(newest)).length;
    fs.corrupt(newest, len - 2, Uint8Array.from([0xee]));
    const loaded = await store.loadNewest();
    expect(loaded?.snapshot.metadata.index).toBe(10);
    expect(loaded?.skipped).toEqual([{ file: newest, reason: 'crc mismatch' }]);
    expect(problems).toEqual(loaded?.skipped);
  });

  it('rejects a file whose content disagrees with its name, and a truncated one', async () => {
    const fs = new MemoryFs();
    const store = await SnapshotStore.open(ROOT, fs);
    await store.save(snap(10, 1));
    await fs.rename(`${SNAP}/${snapshotFileName(1, 10)}`, `${SNAP}/${snapshotFileName(1, 11)}`);
    expect(await store.loadNewest()).toBeUndefined();
    await store.save(snap(5, 1));
    await fs.truncate(`${SNAP}/${snapshotFileName(1, 5)}`, 20);
    const r = await store.loadNewest();
    expect(r).toBeUndefined();
  });

  it('crash at every step of a save: the old snapshot still loads, the new one is whole or absent, tmp files are cleaned', async () => {
    let total = 0;
    {
      const fs = new MemoryFs();
      const store = await SnapshotStore.open(ROOT, fs);
      await store.save(snap(10, 1, 'old'));
      fs.hook = () => void total++;
      await store.save(snap(20, 1, 'new'));
    }
    expect(total).toBeGreaterThanOrEqual(5); // create, write, datasync, rename, syncDir (+ prune)
    for (let k = 1; k <= total; k++) {
      for (const tear of ['none', 'garbage'] as const) {
        const fs = new MemoryFs({ random: (n) => (k * 31) % n });
        const store = await SnapshotStore.open(ROOT, fs);
        await store.save(snap(10, 1, 'old'));
        let ops = 0;
        fs.hook = () => {
          if (++ops >= k) throw new CrashNow(k);
        };
        const acked = await store.save(snap(20, 1, 'new')).then(
          () => true,
          () => false,
        );
        fs.hook = undefined;
        fs.crash({ tear });
        const reopened = await SnapshotStore.open(ROOT, fs);
        expect((await fs.readdir(SNAP)).filter((n) => n.endsWith('.tmp')), `k=${k}`).toEqual([]);
        const newest = await reopened.loadNewest();
        expect(newest?.skipped, `k=${k} ${tear}`).toEqual([]);
        const text = new TextDecoder().decode(newest?.snapshot.data);
        if (acked) expect(text).toBe('new');
        else expect(['old', 'new']).toContain(text);
        const old = await reopened.loadNewest((f) => f.index === 10);
        if (!acked) expect(new TextDecoder().decode(old?.snapshot.data), `k=${k}`).toBe('old');
      }
    }
  });

  it('a stale tmp file from an earlier crash does not corrupt the next save', async () => {
    const fs = new MemoryFs();
    const store = await SnapshotStore.open(ROOT, fs);
    const tmp = await fs.openAppend(`${SNAP}/${snapshotFileName(1, 10)}.tmp`);
    await tmp.append(Uint8Array.from([1, 2, 3]));
    await store.save(snap(10, 1));
    expect((await store.loadNewest())?.snapshot.metadata.index).toBe(10);
  });

  it('a large snapshot is checksummed between turns of the event loop, into the same file bytes', async () => {
    const fs = new MemoryFs(); // its operations settle as microtasks, so every turn of the loop during save is the CRC's
    const store = await SnapshotStore.open(ROOT, fs);
    const data = new Uint8Array(16 * 1024 * 1024);
    for (let i = 0; i < data.length; i += 4096) data[i] = i % 251;
    const big: Snapshot = { metadata: { index: 500, term: 4, confState: { voters: [1, 2, 3], learners: [], removed: [] } }, data };

    let turns = 0;
    let saving = true;
    const countTurn = (): void => {
      if (!saving) return;
      turns++;
      setImmediate(countTurn);
    };
    setImmediate(countTurn);
    const path = await store.save(big);
    saving = false;

    expect(turns).toBeGreaterThanOrEqual(8); // 16 slices of 1 MiB, the loop turning between two of them
    // Byte for byte what the one-piece encoder writes (compared as buffers: deep equality of 16 MiB is slow).
    expect(Buffer.compare(await fs.readFile(path), encodeSnapshotFile(big))).toBe(0);
    fs.crash();
    const loaded = await (await SnapshotStore.open(ROOT, fs)).loadNewest();
    expect(loaded?.snapshot.metadata).toEqual(big.metadata);
    expect(Buffer.compare(loaded?.snapshot.data ?? new Uint8Array(), data)).toBe(0);
  });
});
