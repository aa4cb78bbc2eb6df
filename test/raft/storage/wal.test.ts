import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryFs, NodeFs, type StorageFs } from '../../../agent/raft/storage/fs';
import { Wal, WalCorruptionError, WalFailedError } from '../../../agent/raft/storage/wal';
import { entries, entry, hs, norm, refReplay, saveRecords, type RefRecord } from './helpers';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

interface Env {
  fs: StorageFs;
  dir: string;
}

const envs: [string, () => Promise<Env>][] = [
  ['MemoryFs', async () => ({ fs: new MemoryFs(), dir: '/data/wal' })],
  [
    'NodeFs',
    async () => {
      const root = await mkdtemp(join(tmpdir(), 'swarmdesk-wal-'));
      cleanups.push(() => rm(root, { recursive: true, force: true }));
      return { fs: new NodeFs(), dir: join(root, 'wal') };
    },
  ],
];

describe.each(envs)('Wal on %s', (_name, makeEnv) => {
  it('round-trips hard state and entries across reopen', async () => {
    const { fs, dir } = await makeEnv();
    const first = await Wal.open(dir, fs);
    expect(first.entries).toEqual([]);
    expect(first.hardState).toBeUndefined();
    await first.wal.save(hs(1, 0), entries(1, 3, 1), true);
    await first.wal.save(hs(2, 3, 2), entries(4, 5, 2), true);
    await first.wal.save(undefined, [entry(6, 2, 'big'.repeat(1000))], true);
    await first.wal.close();

    const again = await Wal.open(dir, fs);
    expect(again.tornTail).toBeUndefined();
    expect(again.hardState).toEqual(hs(2, 3, 2));
    expect(norm({ hardState: undefined, snapshot: undefined, entries: again.entries }).entries).toEqual(
      [...entries(1, 3, 1), ...entries(4, 5, 2), entry(6, 2, 'big'.repeat(1000))].map((e) => ({ ...e })),
    );
    await again.wal.close();
  });

  it('rolls over to new segments and replays across them', async () => {
    const { fs, dir } = await makeEnv();
    const { wal } = await Wal.open(dir, fs, { segmentBytes: 256 });
    for (let i = 1; i <= 30; i++) await wal.save(hs(1, i - 1), [entry(i, 1, 'payload-'.repeat(4))], true);
    const names = wal.segmentNames();
    expect(names.length).toBeGreaterThan(3);
    expect(names[0]).toBe('0000000000000001-0000000000000001.wal');
    expect(names[1]).toMatch(/^0000000000000002-00000000000000\d\d\.wal$/);
    await wal.close();
    const again = await Wal.open(dir, fs, { segmentBytes: 256 });
    expect(again.entries.map((e) => e.index)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    expect(again.hardState).toEqual(hs(1, 29));
    for (const name of names) expect(await fs.size(join(dir, name))).toBeLessThanOrEqual(256);
    await again.wal.close();
  });
});

describe('Wal replay semantics (MemoryFs)', () => {
  const dir = '/n/wal';

  it('keeps the last version of an overwritten index and drops everything after it', async () => {
    const fs = new MemoryFs();
    const { wal } = await Wal.open(dir, fs, { segmentBytes: 200 });
    await wal.save(hs(1, 2), entries(1, 8, 1), true);
    // A new leader at term 2 overwrites 5.. with a shorter tail.
    await wal.save(hs(2, 4), entries(5, 6, 2), true);
    await wal.save(undefined, entries(7, 7, 2), true);
    // And another one at term 3 truncates back to 3, in a later segment.
    await wal.save(hs(3, 3), [entry(4, 3)], true);
    await wal.close();
    const r = await Wal.open(dir, fs);
    expect(r.entries.map((e) => `${e.index}/${e.term}`)).toEqual(['1/1', '2/1', '3/1', '4/3']);
    expect(r.hardState).toEqual(hs(3, 3));
  });

  it('a local snapshot marker keeps the tail; a received one (log lacks it) replaces the log', async () => {
    const fs = new MemoryFs();
    const { wal } = await Wal.open(dir, fs);
    await wal.save(hs(1, 5), entries(1, 8, 1), true);
    await wal.saveSnapshotMarker({ index: 5, term: 1 });
    await wal.close();
    let r = await Wal.open(dir, fs);
    expect(r.snapshot).toEqual({ index: 5, term: 1 });
    expect(r.entries.map((e) => e.index)).toEqual([6, 7, 8]);
    // Received snapshot at 20 (term 3): the conflicting log is gone; new entries follow it.
    await r.wal.saveBatch({ marker: { index: 20, term: 3 }, entries: entries(21, 22, 3), hardState: hs(3, 20), mustSync: true });
    await r.wal.close();
    r = await Wal.open(dir, fs);
    expect(r.snapshot).toEqual({ index: 20, term: 3 });
    expect(r.entries.map((e) => e.index)).toEqual([21, 22]);
    expect(r.hardState).toEqual(hs(3, 20));
    await r.wal.close();
  });

  it('agrees with the reference model on a long random history', async () => {
    const fs = new MemoryFs();
    const opened = await Wal.open(dir, fs, { segmentBytes: 300 });
    let wal = opened.wal;
    const records: RefRecord[] = [];
    let last = 0;
    let term = 1;
    let seed = 7;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    for (let step = 0; step < 300; step++) {
      const roll = rnd(10);
      if (roll < 6) {
        const n = 1 + rnd(4);
        const ents = entries(last + 1, last + n, term);
        const h = rnd(2) === 0 ? hs(term, last) : undefined;
        await wal.save(h, ents, true);
        records.push(...saveRecords(h, ents));
        last += n;
      } else if (roll < 8 && last > 3) {
        term++;
        const from = Math.max(1, last - rnd(4));
        const ents = entries(from, from + rnd(2), term);
        await wal.save(hs(term, 0), ents, true);
        records.push(...saveRecords(hs(term, 0), ents));
        last = from + ents.length - 1;
      } else if (last > 2) {
        const ref = refReplay(records);
        const at = ref.entries.find((e) => e.index === last - 1);
        if (at) {
          await wal.saveSnapshotMarker({ index: at.index, term: at.term });
          records.push({ kind: 'marker', marker: { index: at.index, term: at.term } });
          await wal.releaseTo(at.index);
        }
      }
      if (step % 50 === 49) {
        await wal.close();
        const r = await Wal.open(dir, fs, { segmentBytes: 300 });
        expect(norm({ hardState: r.hardState, snapshot: r.snapshot, entries: r.entries })).toEqual(norm(refReplay(records)));
        wal = r.wal;
      }
    }
    expect(wal.segmentNames().length).toBeLessThan(20);
    await wal.close();
  });

  it('rejects a save that would leave a gap in the log, and non-contiguous entries', async () => {
    const fs = new MemoryFs();
    const { wal } = await Wal.open(dir, fs);
    await wal.save(undefined, entries(1, 3, 1), true);
    await expect(wal.save(undefined, [entry(5, 1)], true)).rejects.toThrow(/gap after index 3/);
    await expect(wal.save(undefined, [entry(4, 1), entry(6, 1)], true)).rejects.toThrow(/not contiguous/);
    // After a snapshot marker the log may restart past the old end.
    await wal.saveBatch({ marker: { index: 10, term: 2 }, entries: [entry(11, 2)], mustSync: true });
    await wal.save(undefined, [entry(12, 2)], true);
    await wal.close();
    expect((await Wal.open(dir, fs)).entries.map((e) => e.index)).toEqual([11, 12]);
  });

  it('releaseTo deletes only segments wholly before the snapshot index', async () => {
    const fs = new MemoryFs();
    const { wal } = await Wal.open(dir, fs, { segmentBytes: 150 });
    for (let i = 1; i <= 20; i++) await wal.save(hs(1, i), [entry(i, 1, 'x'.repeat(40))], true);
    const before = wal.segmentNames();
    const firstIndexes = before.map((n) => Number(n.slice(17, 33)));
    const snapIndex = 12;
    await wal.saveSnapshotMarker({ index: snapIndex, term: 1 });
    await wal.releaseTo(snapIndex);
    const after = wal.segmentNames();
    const containing = firstIndexes.filter((f) => f <= snapIndex).length - 1;
    expect(after).toEqual(before.slice(containing).concat(after.slice(before.length - containing)));
    expect(Number(after[0].slice(17, 33))).toBeLessThanOrEqual(snapIndex);
    expect(await fs.readdir(dir)).toEqual(after);
    await wal.close();
    fs.crash(); // the deletions were made durable
    expect(await fs.readdir(dir)).toEqual(after);
    const r = await Wal.open(dir, fs);
    expect(r.snapshot).toEqual({ index: 12, term: 1 });
    expect(r.entries.map((e) => e.index)).toEqual([13, 14, 15, 16, 17, 18, 19, 20]);
    expect(r.hardState).toEqual(hs(1, 20));
    await r.wal.close();
  });

  it('keeps hard state and marker after releasing the segments that first held them', async () => {
    const fs = new MemoryFs();
    const { wal } = await Wal.open(dir, fs, { segmentBytes: 120 });
    await wal.save(hs(7, 3, 2), entries(1, 3, 7), true);
    await wal.saveSnapshotMarker({ index: 3, term: 7 });
    for (let i = 4; i <= 20; i++) await wal.save(undefined, [entry(i, 7, 'y'.repeat(30))], true);
    await wal.saveSnapshotMarker({ index: 18, term: 7 });
    await wal.releaseTo(18);
    await wal.close();
    const r = await Wal.open(dir, fs);
    expect(r.hardState).toEqual(hs(7, 3, 2));
    expect(r.snapshot).toEqual({ index: 18, term: 7 });
    expect(r.entries.map((e) => e.index)).toEqual([19, 20]);
    await r.wal.close();
  });
});

describe('Wal group commit', () => {
  it('batches concurrent saves into one write and one fdatasync; each resolves only after it', async () => {
    const fs = new MemoryFs();
    const { wal } = await Wal.open('/w', fs);
    await wal.save(hs(1, 0), [], true); // the first write also preallocates the segment
    const before = { ...fs.stats };
    let syncs = 0;
    fs.hook = (op) => {
      if (op.kind === 'datasync') syncs++;
    };
    const resolvedAtSync: number[] = [];
    const saves = Array.from({ length: 10 }, (_, i) =>
      wal.save(hs(1, i), [entry(i + 1, 1)], true).then(() => resolvedAtSync.push(syncs)),
    );
    await Promise.all(saves);
    expect(fs.stats.datasyncs - before.datasyncs).toBe(1);
    expect(fs.stats.writes - before.writes).toBe(1);
    expect(resolvedAtSync).toEqual(Array(10).fill(1));
    await wal.close();
    expect((await Wal.open('/w', fs)).entries.map((e) => e.index)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('holds a caller until the fsync that covers it, even when it arrives during a flush', async () => {
    const fs = new MemoryFs();
    const { wal } = await Wal.open('/w', fs);
    await wal.save(hs(1, 0), [], true); // the first write also preallocates the segment
    const events: string[] = [];
    let late: Promise<void> | undefined;
    fs.hook = (op) => {
      if (op.kind === 'datasync') events.push('sync');
      if (op.kind === 'write') {
        events.push('write');
        // A save issued while the first batch is on its way to disk joins the next batch.
        late ??= wal.save(undefined, [entry(2, 1)], true).then(() => void events.push('late resolved'));
      }
    };
    await wal.save(undefined, [entry(1, 1)], true).then(() => events.push('first resolved'));
    await late;
    expect(events).toEqual(['write', 'sync', 'first resolved', 'write', 'sync', 'late resolved']);
  });

  it('makes concurrent saves durable with one write, whether or not they asked for a sync', async () => {
    // WAL segments are opened with durable writes (O_DSYNC): one write is one durable batch.
    const fs = new MemoryFs();
    const { wal } = await Wal.open('/w', fs);
    await wal.save(hs(1, 0), [], true); // the first write also preallocates the segment
    const writes = fs.stats.writes;
    const syncs = fs.stats.datasyncs;
    await Promise.all([wal.save(undefined, [entry(1, 1)], false), wal.save(hs(1, 1), [entry(2, 1)], true)]);
    expect(fs.stats.writes).toBe(writes + 1);
    expect(fs.stats.datasyncs).toBe(syncs + 1);
  });
});

describe('Wal torn tails and corruption', () => {
  const dir = '/t/wal';
  const seg1 = `${dir}/0000000000000001-0000000000000001.wal`;

  // Without preallocation: segments end at their last record, as a torn write at the end leaves them
  // (and as WALs written before preallocation look). The preallocated layout has its own tests below.
  async function written(segmentBytes = 1 << 20): Promise<MemoryFs> {
    const fs = new MemoryFs();
    const { wal } = await Wal.open(dir, fs, { segmentBytes, preallocateBytes: 0 });
    for (let i = 1; i <= 9; i += 3) await wal.save(hs(1, i), entries(i, i + 2, 1, 20), true);
    await wal.close();
    return fs;
  }

  it.each([
    ['garbage', Uint8Array.from([0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11])],
    ['zeros then junk', Uint8Array.from([...new Uint8Array(64), 5])],
    ['a few bytes', Uint8Array.from([3, 0])],
    ['a length past EOF', Uint8Array.from([0xff, 0, 0, 0, 1, 2, 3, 4, 2, 9, 9])],
  ])('truncates a tail of %s, reports it, and appends cleanly afterwards', async (_what, junk) => {
    const fs = await written();
    const size = (await fs.readFile(seg1)).length;
    fs.appendRaw(seg1, junk);
    const r = await Wal.open(dir, fs);
    expect(r.tornTail).toEqual({ file: seg1, offset: size, droppedBytes: junk.length });
    expect(r.entries.map((e) => e.index)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect((await fs.readFile(seg1)).length).toBe(size);
    await r.wal.close();
    fs.crash(); // the truncation was made durable before open returned
    expect((await fs.readFile(seg1)).length).toBe(size);
    const reopened = await Wal.open(dir, fs);
    expect(reopened.tornTail).toBeUndefined();
    await reopened.wal.save(hs(2, 9), [entry(10, 2)], true);
    await reopened.wal.close();
    fs.crash(); // the truncation itself must have been made durable
    const again = await Wal.open(dir, fs);
    expect(again.tornTail).toBeUndefined();
    expect(again.entries.map((e) => e.index).at(-1)).toBe(10);
    expect(again.hardState).toEqual(hs(2, 9));
  });

  it('truncates a partially written last record', async () => {
    const fs = await written();
    const full = await fs.readFile(seg1);
    // Rebuild the file with the last record cut in half: what a torn write leaves.
    const fs2 = new MemoryFs();
    const { wal } = await Wal.open(dir, fs2, { preallocateBytes: 0 });
    await wal.save(hs(1, 1), entries(1, 3, 1, 20), true);
    await wal.save(hs(1, 4), entries(4, 6, 1, 20), true);
    await wal.close();
    const goodLen = (await fs2.readFile(seg1)).length;
    fs2.appendRaw(seg1, full.subarray(goodLen, goodLen + 30));
    const r = await Wal.open(dir, fs2);
    expect(r.tornTail).toEqual({ file: seg1, offset: goodLen, droppedBytes: 30 });
    expect(r.entries.map((e) => e.index)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('throws WalCorruptionError naming file and offset for a flipped byte mid-segment', async () => {
    const fs = await written();
    const buf = await fs.readFile(seg1);
    // Find the second entry record's payload: frames are [len u32][crc u32][type][payload].
    let off = 0;
    const offsets: number[] = [];
    while (off < buf.length) {
      offsets.push(off);
      off += 9 + new DataView(buf.buffer, buf.byteOffset + off).getUint32(0, true);
    }
    const victim = offsets[3];
    fs.corrupt(seg1, victim + 12, Uint8Array.from([buf[victim + 12] ^ 0x40]));
    const err = await Wal.open(dir, fs).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WalCorruptionError);
    expect((err as WalCorruptionError).file).toBe(seg1);
    expect((err as WalCorruptionError).offset).toBe(victim);
    expect((err as Error).message).toContain(seg1);
    expect((err as Error).message).toContain(`offset ${victim}`);
  });

  it('throws for a corrupted length field that hides later valid records', async () => {
    const fs = await written();
    fs.corrupt(seg1, 40, Uint8Array.from([0x77]));
    await expect(Wal.open(dir, fs)).rejects.toBeInstanceOf(WalCorruptionError);
  });

  it('throws for damage at the very end of a segment that is not the last', async () => {
    const fs = await written(200);
    const names = (await fs.readdir(dir)).filter((n) => n.endsWith('.wal'));
    expect(names.length).toBeGreaterThan(1);
    const first = `${dir}/${names[0]}`;
    const len = (await fs.readFile(first)).length;
    fs.corrupt(first, len - 1, Uint8Array.from([(await fs.readFile(first))[len - 1] ^ 1]));
    const err = await Wal.open(dir, fs).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WalCorruptionError);
    expect((err as Error).message).toContain(first);
    expect((err as Error).message).toMatch(/at byte offset \d+/);
  });

  it('throws when a segment is missing from the sequence', async () => {
    const fs = await written(150);
    const names = (await fs.readdir(dir)).filter((n) => n.endsWith('.wal'));
    expect(names.length).toBeGreaterThan(2);
    await fs.unlink(`${dir}/${names[1]}`);
    await expect(Wal.open(dir, fs)).rejects.toThrow(/sequence jumps from 1 .* to 3 .*missing/);
  });

  it('throws for a malformed segment name or a header that disagrees with its name', async () => {
    const fs = await written();
    await fs.rename(seg1, `${dir}/0000000000000001-0000000000000005.wal`);
    await expect(Wal.open(dir, fs)).rejects.toThrow(/header says segment 1 from index 1/);
    await fs.rename(`${dir}/0000000000000001-0000000000000005.wal`, `${dir}/1-1.wal`);
    await expect(Wal.open(dir, fs)).rejects.toThrow(/malformed WAL segment name/);
  });

  it.each([
    ['junk', Uint8Array.from([3, 0, 0, 7, 7]), true],
    ['zeros', new Uint8Array(5), false],
    ['nothing', new Uint8Array(0), false],
  ])('drops a last segment whose header never made it to disk (it holds %s)', async (_what, content, reported) => {
    const fs = await written(150);
    const names = (await fs.readdir(dir)).filter((n) => n.endsWith('.wal'));
    const lastSeq = names.length;
    const ghost = `${dir}/${String(lastSeq + 1).padStart(16, '0')}-0000000000000099.wal`;
    const h = await fs.openAppend(ghost);
    await h.append(content);
    const r = await Wal.open(dir, fs, { segmentBytes: 150 });
    // Zeros (or nothing) are space no acknowledged write ever reached: dropped without a report.
    expect(r.tornTail).toEqual(reported ? { file: ghost, offset: 0, droppedBytes: content.length } : undefined);
    expect(await fs.readdir(dir)).toEqual(names);
    expect(r.entries.length).toBe(9);
    await r.wal.save(undefined, [entry(10, 1)], true);
    await r.wal.close();
    expect((await Wal.open(dir, fs)).entries.length).toBe(10);
  });
});

/** Offset where a segment's records end: the first frame with a zero length field (or the end). */
function recordsEnd(buf: Uint8Array): number {
  let off = 0;
  while (off + 4 <= buf.length) {
    const len = new DataView(buf.buffer, buf.byteOffset + off).getUint32(0, true);
    if (len === 0) break;
    off += 9 + len;
  }
  return off;
}

describe.each(envs)('Wal preallocation on %s', (_name, makeEnv) => {
  it('grows the tail with zeros ahead of the records; reopening cuts them off without a torn-tail report', async () => {
    const { fs, dir } = await makeEnv();
    const { wal } = await Wal.open(dir, fs, { preallocateBytes: 64 * 1024 });
    await wal.save(hs(1, 0), entries(1, 3, 1, 20), true);
    const seg = `${dir}/${wal.segmentNames()[0]}`;
    expect(await fs.size(seg)).toBe(64 * 1024); // the header came first, then the reservation
    await wal.save(hs(1, 3), entries(4, 6, 1, 20), true);
    expect(await fs.size(seg)).toBe(64 * 1024); // written into the reserved space, not appended
    await wal.close();
    const buf = await fs.readFile(seg);
    const end = recordsEnd(buf);
    expect(buf.subarray(end).every((b) => b === 0)).toBe(true);

    const again = await Wal.open(dir, fs, { preallocateBytes: 64 * 1024 });
    expect(again.tornTail).toBeUndefined();
    expect(again.entries.map((e) => e.index)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(again.hardState).toEqual(hs(1, 3));
    expect(await fs.size(seg)).toBe(end);
    await again.wal.save(undefined, [entry(7, 1)], true);
    await again.wal.close();
    const third = await Wal.open(dir, fs);
    expect(third.tornTail).toBeUndefined();
    expect(third.entries.map((e) => e.index)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    await third.wal.close();
  });
});

describe('Wal preallocation: repairs and strictness', () => {
  const dir = '/p/wal';
  const seg1 = `${dir}/0000000000000001-0000000000000001.wal`;

  /** Nine entries written with preallocation: the segment ends in zeros. Returns where the records end. */
  async function written(options: { segmentBytes?: number } = {}): Promise<{ fs: MemoryFs; end: number }> {
    const fs = new MemoryFs();
    const { wal } = await Wal.open(dir, fs, { preallocateBytes: 4096, ...options });
    for (let i = 1; i <= 9; i += 3) await wal.save(hs(1, i), entries(i, i + 2, 1, 20), true);
    await wal.close();
    return { fs, end: recordsEnd(await fs.readFile(seg1)) };
  }

  it('treats a run of zeros after the last record as unused space, in a file written without preallocation too', async () => {
    const fs = new MemoryFs();
    const { wal } = await Wal.open(dir, fs, { preallocateBytes: 0 });
    await wal.save(hs(1, 2), entries(1, 2, 1), true);
    await wal.close();
    const size = (await fs.readFile(seg1)).length;
    fs.appendRaw(seg1, new Uint8Array(64));
    const r = await Wal.open(dir, fs);
    expect(r.tornTail).toBeUndefined();
    expect(r.entries.map((e) => e.index)).toEqual([1, 2]);
    expect((await fs.readFile(seg1)).length).toBe(size);
    await r.wal.close();
    fs.crash(); // the cut was durable before open returned
    expect((await fs.readFile(seg1)).length).toBe(size);
  });

  it('truncates a torn write inside the reserved space, reports it, and appends cleanly afterwards', async () => {
    const { fs, end } = await written();
    const length = (await fs.readFile(seg1)).length;
    expect(length).toBe(4096);
    // Half a record where the next batch would have gone: length and part of the payload, then zeros.
    fs.corrupt(seg1, end, Uint8Array.from([40, 0, 0, 0, 1, 2, 3, 4, 2, 9, 9]));
    const r = await Wal.open(dir, fs);
    expect(r.tornTail).toEqual({ file: seg1, offset: end, droppedBytes: length - end });
    expect(r.entries.map((e) => e.index)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect((await fs.readFile(seg1)).length).toBe(end);
    await r.wal.save(hs(2, 9), [entry(10, 2)], true);
    await r.wal.close();
    fs.crash();
    const again = await Wal.open(dir, fs);
    expect(again.tornTail).toBeUndefined();
    expect(again.entries.map((e) => e.index).at(-1)).toBe(10);
    expect(again.hardState).toEqual(hs(2, 9));
  });

  it('still names file and offset for a bad record followed by good ones in a preallocated segment', async () => {
    const { fs } = await written();
    const buf = await fs.readFile(seg1);
    const offsets: number[] = [];
    for (let off = 0; off < recordsEnd(buf); off += 9 + new DataView(buf.buffer, buf.byteOffset + off).getUint32(0, true)) {
      offsets.push(off);
    }
    const victim = offsets[3];
    fs.corrupt(seg1, victim + 12, Uint8Array.from([buf[victim + 12] ^ 0x40]));
    const err = await Wal.open(dir, fs).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WalCorruptionError);
    expect((err as WalCorruptionError).file).toBe(seg1);
    expect((err as WalCorruptionError).offset).toBe(victim);
  });

  /**
   * The next batch (40 entries, ~1.4 KB) is written into the reserved space but the crash comes before
   * its sync, and the disk persisted its sectors out of order: the one holding the batch's start was
   * lost (still zeros), later ones arrived. Returns the file after the crash.
   */
  async function tornOutOfOrder(): Promise<{ fs: MemoryFs; end: number }> {
    const { end } = await written();
    let calls = 0;
    // crash(): random(2) === 1 scrambles the overwrite; then one draw per sector: lose the first only.
    const fs = new MemoryFs({ random: () => (calls++ === 1 ? 0 : 1) });
    const { fs: source } = await written();
    for (const name of await source.readdir(dir)) {
      await fs.mkdirp(dir);
      const h = await fs.openAppend(`${dir}/${name}`);
      await h.append(await source.readFile(`${dir}/${name}`));
      await h.datasync();
      await h.close();
    }
    await fs.syncDir(dir);
    const { wal } = await Wal.open(dir, fs, { preallocateBytes: 4096 });
    // The reservation (zeros, then a sync) succeeds; the batch's write lands; its sync never happens.
    let batchWritten = false;
    fs.hook = (op) => {
      if (op.kind === 'write' && (op.bytes ?? 0) > 1000 && (op.bytes ?? 0) < 3000) batchWritten = true;
      else if (op.kind === 'datasync' && batchWritten) throw new Error('power cut');
    };
    await expect(wal.save(hs(1, 40), entries(10, 49, 1, 20), true)).rejects.toThrow();
    fs.hook = undefined;
    calls = 0;
    fs.crash({ tear: 'prefix' });
    return { fs, end };
  }

  it('takes a write into reserved space torn out of order (a zero sector, then valid records) for a torn tail', async () => {
    const { fs, end } = await tornOutOfOrder();
    const buf = await fs.readFile(seg1);
    expect(buf.subarray(end, Math.ceil((end + 1) / 512) * 512).every((b) => b === 0)).toBe(true);
    expect(buf.subarray(Math.ceil((end + 1) / 512) * 512, end + 1400).some((b) => b !== 0)).toBe(true);
    const r = await Wal.open(dir, fs);
    expect(r.tornTail?.offset).toBe(end);
    expect(r.entries.map((e) => e.index)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect((await fs.readFile(seg1)).length).toBe(end);
    await r.wal.close();
  });

  it('still calls zeros over a record header corruption when the rest of its sector holds data', async () => {
    const { fs } = await written();
    const buf = await fs.readFile(seg1);
    const second = 9 + new DataView(buf.buffer, buf.byteOffset).getUint32(0, true);
    const third = second + 9 + new DataView(buf.buffer, buf.byteOffset + second).getUint32(0, true);
    fs.corrupt(seg1, third, new Uint8Array(4)); // the length field of the third record: zeros
    const err = await Wal.open(dir, fs).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WalCorruptionError);
    expect((err as WalCorruptionError).offset).toBe(third);
  });

  it('cuts each segment back to its records before starting the next; zeros in an earlier one are corruption', async () => {
    const { fs } = await written({ segmentBytes: 200 });
    const names = (await fs.readdir(dir)).filter((n) => n.endsWith('.wal'));
    expect(names.length).toBeGreaterThan(2);
    for (const name of names.slice(0, -1)) {
      const buf = await fs.readFile(`${dir}/${name}`);
      expect(recordsEnd(buf), name).toBe(buf.length);
    }
    const last = await fs.readFile(`${dir}/${names.at(-1)}`);
    expect(recordsEnd(last)).toBeLessThan(last.length); // only the tail keeps its reservation
    expect((await Wal.open(dir, fs, { segmentBytes: 200 })).entries.length).toBe(9);

    fs.appendRaw(`${dir}/${names[0]}`, new Uint8Array(16));
    const err = await Wal.open(dir, fs, { segmentBytes: 200 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WalCorruptionError);
    expect((err as WalCorruptionError).file).toBe(`${dir}/${names[0]}`);
  });

  it('fails the save that cannot reserve space on a full disk, and reopens without losing anything acknowledged', async () => {
    const fs = new MemoryFs();
    const { wal } = await Wal.open(dir, fs, { preallocateBytes: 4096 });
    await wal.save(hs(1, 2), entries(1, 5, 1, 10), true);
    const reserved = (await fs.readFile(seg1)).length;
    // Fill the reservation, then the disk is full when the next one is needed.
    let next = 6;
    fs.enospcAfterBytes(100);
    let failure: unknown;
    while (failure === undefined && next < 500) {
      await wal.save(hs(1, next), [entry(next, 1, 'x'.repeat(50))], true).then(
        () => void next++,
        (err: unknown) => void (failure = err),
      );
    }
    expect(failure).toMatchObject({ code: 'ENOSPC' });
    expect(next - 1).toBeGreaterThan(5); // appends into the reserved space still went through
    await expect(wal.save(undefined, [entry(next, 1)], true)).rejects.toBeInstanceOf(WalFailedError);
    await wal.close();
    fs.enospcAfterBytes(undefined);
    expect((await fs.readFile(seg1)).length).toBe(reserved + 100); // the part of the reservation that fit
    const r = await Wal.open(dir, fs);
    expect(r.tornTail).toBeUndefined();
    expect(r.entries.map((e) => e.index)).toEqual(Array.from({ length: next - 1 }, (_, i) => i + 1));
    expect(r.hardState).toEqual(hs(1, next - 1));
    await r.wal.close();
  });
});

describe('Wal on a full disk', () => {
  it('rejects the save with ENOSPC, refuses further writes, and loses nothing acknowledged', async () => {
    const fs = new MemoryFs();
    // Without preallocation the records themselves hit the full disk (with it, see the next test).
    const { wal } = await Wal.open('/f/wal', fs, { preallocateBytes: 0 });
    await wal.save(hs(1, 2), entries(1, 5, 1, 10), true);
    fs.enospcAfterBytes(40);
    const full = wal.save(hs(1, 5), entries(6, 10, 1, 10), true);
    await expect(full).rejects.toMatchObject({ code: 'ENOSPC' });
    await expect(wal.save(undefined, [entry(11, 1)], true)).rejects.toBeInstanceOf(WalFailedError);
    await wal.close();
    fs.enospcAfterBytes(undefined);
    for (const crash of [false, true]) {
      if (crash) fs.crash({ tear: 'garbage' });
      const r = await Wal.open('/f/wal', fs);
      // The acknowledged save is whole; of the failed one at most some whole records (no hard state: it
      // comes last and did not fit) made it, never a partial one.
      const got = r.entries.map((e) => e.index);
      expect(got.slice(0, 5)).toEqual([1, 2, 3, 4, 5]);
      expect(got.length).toBeLessThan(10);
      expect(r.entries.slice(5).map((e) => new TextDecoder().decode(e.data))).toEqual(
        entries(6, got.length, 1, 10).map((e) => new TextDecoder().decode(e.data)),
      );
      expect(r.hardState).toEqual(hs(1, 2));
      await r.wal.close();
    }
  });
});
