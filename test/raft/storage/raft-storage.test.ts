import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import { MemoryFs } from '../../../agent/raft/storage/fs';
import { DurableRaftStorage, SnapshotMissingError, type PersistBatch } from '../../../agent/raft/storage/raft-storage';
import { snapshotFileName } from '../../../agent/raft/storage/snapshot-store';
import type { Snapshot } from '../../../agent/raft/types';
import { CrashNow, entries, hs, norm, refReplay, saveRecords, seededRandom, show, type RefRecord } from './helpers';

const DIR = '/raft';
const WAL = { segmentBytes: 256 };

function snap(index: number, term: number): Snapshot {
  return {
    metadata: { index, term, confState: { voters: [1, 2, 3], learners: [], removed: [] } },
    data: new TextEncoder().encode(`fsm@${index}/${term}`),
  };
}

describe('DurableRaftStorage', () => {
  it('restores hard state, snapshot and the entries after it', async () => {
    const fs = new MemoryFs();
    const { storage, state } = await DurableRaftStorage.open(DIR, fs, { wal: WAL });
    expect(state).toMatchObject({ hardState: { term: 0, vote: 0, commit: 0 }, snapshot: undefined, entries: [] });
    await storage.save({ hardState: hs(1, 0), entries: entries(1, 10, 1, 20), mustSync: true });
    await storage.save({ hardState: hs(1, 8), entries: [], mustSync: true });
    await storage.saveSnapshot(snap(8, 1));
    await storage.close();
    fs.crash();
    const { state: r } = await DurableRaftStorage.open(DIR, fs, { wal: WAL });
    expect(r.hardState).toEqual(hs(1, 8));
    expect(r.snapshot?.metadata).toEqual(snap(8, 1).metadata);
    expect(new TextDecoder().decode(r.snapshot?.data)).toBe('fsm@8/1');
    expect(r.entries.map((e) => e.index)).toEqual([9, 10]);
  });

  it('persists a received snapshot before the entries that follow it, even when saves overlap', async () => {
    const fs = new MemoryFs();
    const { storage } = await DurableRaftStorage.open(DIR, fs, { wal: WAL });
    await storage.save({ hardState: hs(1, 2), entries: entries(1, 5, 1), mustSync: true });
    const a = storage.save({ hardState: hs(3, 50), entries: [], snapshot: snap(50, 3), mustSync: true });
    const b = storage.save({ entries: entries(51, 53, 3), mustSync: true });
    const c = storage.save({ hardState: hs(3, 52), entries: [], mustSync: true });
    await Promise.all([a, b, c]);
    await storage.close();
    const { state } = await DurableRaftStorage.open(DIR, fs, { wal: WAL });
    expect(state.snapshot?.metadata.index).toBe(50);
    expect(state.entries.map((e) => e.index)).toEqual([51, 52, 53]);
    expect(state.hardState).toEqual(hs(3, 52));
  });

  it('shares one fdatasync among concurrent saves', async () => {
    const fs = new MemoryFs();
    const { storage } = await DurableRaftStorage.open(DIR, fs);
    await storage.save({ hardState: hs(1, 0), entries: [], mustSync: true }); // also preallocates the WAL
    const before = fs.stats.datasyncs;
    await Promise.all(
      Array.from({ length: 8 }, (_, i) => storage.save({ hardState: hs(1, i), entries: entries(i + 1, i + 1, 1), mustSync: true })),
    );
    expect(fs.stats.datasyncs - before).toBe(1);
  });

  it('releases WAL segments and prunes snapshot files only after the marker is durable', async () => {
    const fs = new MemoryFs();
    const { storage } = await DurableRaftStorage.open(DIR, fs, { wal: WAL, snapshotsKept: 2 });
    for (let i = 1; i <= 40; i += 4) await storage.save({ hardState: hs(1, i), entries: entries(i, i + 3, 1, 20), mustSync: true });
    const segmentsBefore = (await fs.readdir(`${DIR}/wal`)).length;
    for (const i of [10, 20, 30]) await storage.saveSnapshot(snap(i, 1));
    const segmentsAfter = await fs.readdir(`${DIR}/wal`);
    expect(segmentsAfter.length).toBeLessThan(segmentsBefore);
    expect(await fs.readdir(`${DIR}/snap`)).toEqual([snapshotFileName(1, 20), snapshotFileName(1, 30)]);
    await storage.close();
    const { state } = await DurableRaftStorage.open(DIR, fs, { wal: WAL });
    expect(state.snapshot?.metadata.index).toBe(30);
    expect(state.entries.map((e) => e.index)).toEqual(entries(31, 40, 1).map((e) => e.index));
  });

  it('removes a snapshot file the WAL never recorded, and refuses to start without the one it did', async () => {
    const fs = new MemoryFs();
    const { storage } = await DurableRaftStorage.open(DIR, fs, { wal: WAL });
    await storage.save({ hardState: hs(1, 5), entries: entries(1, 6, 1), mustSync: true });
    await storage.saveSnapshot(snap(5, 1));
    await storage.close();
    // A snapshot written by a save that crashed before its WAL marker.
    const orphan = `${DIR}/snap/${snapshotFileName(2, 9)}`;
    const h = await fs.openAppend(orphan);
    await h.append(Uint8Array.from([1]));
    const first = await DurableRaftStorage.open(DIR, fs, { wal: WAL });
    expect(first.state.snapshot?.metadata.index).toBe(5);
    expect(await fs.readdir(`${DIR}/snap`)).toEqual([snapshotFileName(1, 5)]);
    await first.storage.close();

    const marked = `${DIR}/snap/${snapshotFileName(1, 5)}`;
    fs.corrupt(marked, 20, Uint8Array.from([(await fs.readFile(marked))[20] ^ 0xff]));
    const err = await DurableRaftStorage.open(DIR, fs, { wal: WAL }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SnapshotMissingError);
    expect((err as Error).message).toMatch(/term 1 index 5/);
  });

  it('survives a crash at every operation of a history with snapshots', async () => {
    type Step = PersistBatch | { compact: Snapshot };
    const script: Step[][] = [
      [{ hardState: hs(1, 0), entries: entries(1, 6, 1, 20), mustSync: true }],
      [{ hardState: hs(1, 4), entries: [], mustSync: true }, { entries: entries(7, 9, 1, 20), mustSync: false }],
      [{ compact: snap(4, 1) }],
      [{ hardState: hs(2, 8, 2), entries: entries(9, 12, 2, 20), mustSync: true }],
      [{ compact: snap(8, 1) }, { entries: entries(13, 14, 2, 20), mustSync: true }],
      // A received snapshot ahead of our log, overlapping with the next append.
      [
        { hardState: hs(3, 40, 3), entries: [], snapshot: snap(40, 3), mustSync: true },
        { hardState: hs(3, 42, 3), entries: entries(41, 42, 3, 20), mustSync: true },
      ],
    ];
    const stepRecords = (s: Step): RefRecord[] => {
      if ('compact' in s) return [{ kind: 'marker', marker: { index: s.compact.metadata.index, term: s.compact.metadata.term } }];
      const m = s.snapshot && { index: s.snapshot.metadata.index, term: s.snapshot.metadata.term };
      return saveRecords(s.hardState, s.entries, m);
    };
    const all = script.flat().flatMap(stepRecords);
    const prefixes = Array.from({ length: all.length + 1 }, (_, r) => norm(refReplay(all.slice(0, r))));

    const run = async (fs: MemoryFs): Promise<number> => {
      let acked = 0;
      let written = 0;
      let storage: DurableRaftStorage;
      try {
        // Keep only one snapshot file: pruning too early would then delete the one the WAL points at.
        storage = (await DurableRaftStorage.open(DIR, fs, { wal: WAL, snapshotsKept: 1 })).storage;
      } catch {
        return 0;
      }
      for (const group of script) {
        const results = await Promise.allSettled(
          group.map((s) => {
            written += stepRecords(s).length;
            const end = written;
            const durable = 'compact' in s || s.mustSync || s.snapshot !== undefined;
            const p = 'compact' in s ? storage.saveSnapshot(s.compact) : storage.save(s);
            return p.then(() => {
              if (durable) acked = Math.max(acked, end);
            });
          }),
        );
        if (results.some((r) => r.status === 'rejected')) return acked;
      }
      await storage.close();
      return acked;
    };

    let total = 0;
    {
      const fs = new MemoryFs();
      fs.hook = () => void total++;
      expect(await run(fs)).toBe(all.length);
    }
    for (let k = 1; k <= total; k++) {
      for (const tear of ['none', 'prefix', 'garbage'] as const) {
        const fs = new MemoryFs({ random: seededRandom(k * 3 + tear.length) });
        let ops = 0;
        fs.hook = () => {
          if (++ops >= k) throw new CrashNow(k);
        };
        const acked = await run(fs);
        fs.hook = undefined;
        fs.crash({ tear });
        const label = `crash at op ${k}/${total} tear=${tear}`;
        const opened = await DurableRaftStorage.open(DIR, fs, { wal: WAL }).catch((err: unknown) => {
          throw new Error(`${label}: ${String(err)}`);
        });
        const { state } = opened;
        await opened.storage.close();
        const marker = state.snapshot && { index: state.snapshot.metadata.index, term: state.snapshot.metadata.term };
        const got = norm({ hardState: state.hardState, snapshot: marker, entries: state.entries });
        const ok = prefixes.some((p, r) => {
          if (r < acked) return false;
          // An empty WAL restores the all-zero hard state.
          return isDeepStrictEqual({ ...p, hardState: p.hardState ?? { term: 0, vote: 0, commit: 0 } }, got);
        });
        expect(ok, `${label}: ${show(got)} is not a record prefix >= ${acked}`).toBe(true);
        if (marker) expect(new TextDecoder().decode(state.snapshot?.data), label).toBe(`fsm@${marker.index}/${marker.term}`);
        expect((await fs.readdir(`${DIR}/snap`)).filter((n) => n.endsWith('.tmp')), label).toEqual([]);
        const again = await DurableRaftStorage.open(DIR, fs, { wal: WAL });
        expect(again.state.tornTail, label).toBeUndefined();
        expect(
          norm({
            hardState: again.state.hardState,
            snapshot: marker,
            entries: again.state.entries,
          }),
          label,
        ).toEqual(got);
        expect(again.state.snapshot, label).toEqual(state.snapshot);
        await again.storage.close();
      }
    }
    expect(total).toBeGreaterThan(30);
  });
});
