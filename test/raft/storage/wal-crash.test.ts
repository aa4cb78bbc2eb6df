/**
 * Crash at every file-system operation of a scripted history, under every tear mode, then reopen:
 * - every save whose promise resolved (with mustSync) is fully there;
 * - what is there is the replay of a PREFIX of the records written: a record is whole or absent, and no
 *   later record survives without the earlier ones;
 * - reopening again gives the identical state and finds nothing more to repair.
 */
import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import { MemoryFs } from '../../../agent/raft/storage/fs';
import { Wal } from '../../../agent/raft/storage/wal';
import {
  CrashNow,
  entries,
  entry,
  hs,
  norm,
  refReplay,
  saveRecords,
  seededRandom,
  show,
  type RefRecord,
  type RefState,
} from './helpers';
import type { Entry, HardState } from '../../../agent/raft/types';
import type { SnapshotMarker } from '../../../agent/raft/storage/wal';

type Step =
  | { kind: 'save'; hardState?: HardState; entries: Entry[]; mustSync: boolean }
  | { kind: 'marker'; marker: SnapshotMarker; releaseTo: boolean };

/** Groups of steps; the steps of a group are issued in the same tick (so they share a group commit). */
const SCRIPT: Step[][] = [
  [{ kind: 'save', hardState: hs(1, 0), entries: entries(1, 3, 1, 8), mustSync: true }],
  [
    { kind: 'save', entries: entries(4, 5, 1, 8), mustSync: false },
    { kind: 'save', hardState: hs(1, 3), entries: entries(6, 7, 1, 8), mustSync: true },
    { kind: 'save', entries: [entry(8, 1)], mustSync: true },
  ],
  // New leader at term 2 overwrites 6.. (crossing into a new segment).
  [{ kind: 'save', hardState: hs(2, 5, 2), entries: entries(6, 9, 2, 8), mustSync: true }],
  [{ kind: 'marker', marker: { index: 5, term: 1 }, releaseTo: true }],
  // Unsynced saves on their own, then a synced one that has to roll over to a new segment first.
  [{ kind: 'save', entries: entries(10, 11, 2, 30), mustSync: false }],
  [{ kind: 'save', entries: entries(12, 12, 2, 30), mustSync: false }],
  [
    { kind: 'save', entries: entries(13, 13, 2, 60), mustSync: true },
    { kind: 'save', hardState: hs(2, 11, 2), entries: [], mustSync: true },
  ],
  [{ kind: 'save', hardState: hs(3, 11, 3), entries: [entry(12, 3, 'overwrite')], mustSync: true }],
  [{ kind: 'save', entries: entries(13, 14, 3, 70), mustSync: false }],
  [{ kind: 'marker', marker: { index: 11, term: 2 }, releaseTo: true }],
  // A snapshot received from a leader, not in our log: replaces it.
  [{ kind: 'marker', marker: { index: 30, term: 4 }, releaseTo: true }],
  [{ kind: 'save', hardState: hs(4, 30, 3), entries: entries(31, 34, 4, 20), mustSync: true }],
];

const DIR = '/node/wal';
const SEGMENT_BYTES = 200;

function stepRecords(step: Step): RefRecord[] {
  return step.kind === 'save' ? saveRecords(step.hardState, step.entries) : [{ kind: 'marker', marker: step.marker }];
}

/** Run the script until the first failure. Returns how many records are acknowledged as durable. */
async function runScript(fs: MemoryFs): Promise<number> {
  let acked = 0;
  let written = 0;
  let wal: Wal;
  try {
    wal = (await Wal.open(DIR, fs, { segmentBytes: SEGMENT_BYTES })).wal;
  } catch {
    return acked;
  }
  for (const group of SCRIPT) {
    const issued = group.map((step) => {
      written += stepRecords(step).length;
      const end = written;
      const durable = step.kind === 'save' ? step.mustSync : true;
      const p =
        step.kind === 'save' ? wal.save(step.hardState, step.entries, step.mustSync) : wal.saveSnapshotMarker(step.marker);
      return p.then(async () => {
        if (durable) acked = Math.max(acked, end);
        if (step.kind === 'marker' && step.releaseTo) await wal.releaseTo(step.marker.index);
      });
    });
    const results = await Promise.allSettled(issued);
    if (results.some((r) => r.status === 'rejected')) return acked;
  }
  await wal.close();
  return acked;
}

const ALL_RECORDS = SCRIPT.flat().flatMap(stepRecords);
const PREFIX_STATES: RefState[] = Array.from({ length: ALL_RECORDS.length + 1 }, (_, r) =>
  norm(refReplay(ALL_RECORDS.slice(0, r))),
);

async function countOps(): Promise<number> {
  const fs = new MemoryFs();
  let ops = 0;
  fs.hook = () => void ops++;
  await runScript(fs);
  return ops;
}

describe('Wal crash safety', () => {
  it('the script itself replays to the reference state and exercises rollover and release', async () => {
    const fs = new MemoryFs();
    expect(await runScript(fs)).toBe(ALL_RECORDS.length);
    const r = await Wal.open(DIR, fs);
    expect(norm({ hardState: r.hardState, snapshot: r.snapshot, entries: r.entries })).toEqual(PREFIX_STATES.at(-1));
    expect(r.entries.map((e) => e.index)).toEqual([31, 32, 33, 34]);
    expect(fs.stats.unlinks).toBeGreaterThan(0);
    expect(r.wal.segmentNames()[0]).not.toBe('0000000000000001-0000000000000001.wal');
  });

  it('survives a crash at every operation, with and without torn writes', async () => {
    const total = await countOps();
    expect(total).toBeGreaterThan(40);
    let checked = 0;
    for (let k = 1; k <= total; k++) {
      for (const tear of ['none', 'prefix', 'garbage'] as const) {
        for (const seed of tear === 'none' ? [0] : [k, k * 7919 + 1]) {
          const fs = new MemoryFs({ random: seededRandom(seed) });
          let ops = 0;
          fs.hook = () => {
            if (++ops >= k) throw new CrashNow(k);
          };
          const acked = await runScript(fs);
          fs.hook = undefined;
          fs.crash({ tear });

          const label = `crash at op ${k}/${total}, tear=${tear}, seed=${seed}`;
          const first = await Wal.open(DIR, fs, { segmentBytes: SEGMENT_BYTES }).catch((err: unknown) => {
            throw new Error(`${label}: reopen failed: ${String(err)}`);
          });
          const state = norm({ hardState: first.hardState, snapshot: first.snapshot, entries: first.entries });
          await first.wal.close();
          const matches = PREFIX_STATES.map((s, r) => ({ s, r })).filter(
            ({ s, r }) => r >= acked && isDeepStrictEqual(s, state),
          );
          expect(matches.length, `${label}: state ${show(state)} is not a record prefix >= ${acked}`).toBeGreaterThan(0);

          const second = await Wal.open(DIR, fs, { segmentBytes: SEGMENT_BYTES });
          expect(second.tornTail, label).toBeUndefined();
          expect(norm({ hardState: second.hardState, snapshot: second.snapshot, entries: second.entries }), label).toEqual(state);
          // The reopened log must also accept new writes that survive the next restart.
          const next = (state.entries.at(-1)?.index ?? state.snapshot?.index ?? 0) + 1;
          await second.wal.save(hs(9, 0), [entry(next, 9)], true);
          await second.wal.close();
          const third = await Wal.open(DIR, fs, { segmentBytes: SEGMENT_BYTES });
          expect(third.entries.at(-1)?.index, label).toBe(next);
          expect(third.hardState, label).toEqual(hs(9, 0));
          await third.wal.close();
          checked++;
        }
      }
    }
    expect(checked).toBe(total * 5);
  });
});
