/** Shared test helpers: deterministic randomness, entry builders, and a reference model of WAL replay. */
import { EntryType, type Entry, type HardState } from '../../../agent/raft/types';
import type { SnapshotMarker } from '../../../agent/raft/storage/wal';

export { seededRandom } from '../../support/prng';

export function entry(index: number, term: number, text = `e${index}t${term}`): Entry {
  return { index, term, type: EntryType.Normal, data: new TextEncoder().encode(text) };
}

export function entries(from: number, to: number, term: number, pad = 0): Entry[] {
  const out: Entry[] = [];
  for (let i = from; i <= to; i++) out.push(entry(i, term, `e${i}t${term}${'x'.repeat(pad)}`));
  return out;
}

export function hs(term: number, commit: number, vote = 1): HardState {
  return { term, vote, commit };
}

/** One WAL record as the reference model sees it. */
export type RefRecord =
  | { kind: 'entry'; entry: Entry }
  | { kind: 'hardState'; hardState: HardState }
  | { kind: 'marker'; marker: SnapshotMarker };

export interface RefState {
  hardState: HardState | undefined;
  snapshot: SnapshotMarker | undefined;
  entries: Entry[];
}

/** Records a save(hardState, entries) writes, in WAL order. */
export function saveRecords(hardState: HardState | undefined, ents: Entry[], marker?: SnapshotMarker): RefRecord[] {
  const out: RefRecord[] = [];
  if (marker) out.push({ kind: 'marker', marker });
  for (const e of ents) out.push({ kind: 'entry', entry: e });
  if (hardState) out.push({ kind: 'hardState', hardState });
  return out;
}

/**
 * Straightforward reference of the replay rules: last version of each index wins and cuts what follows;
 * a marker keeps the entries after it only if the log holds the marker's (index, term).
 */
export function refReplay(records: RefRecord[]): RefState {
  let hardState: HardState | undefined;
  let snapshot: SnapshotMarker | undefined;
  let log: Entry[] = [];
  for (const r of records) {
    if (r.kind === 'hardState') hardState = r.hardState;
    else if (r.kind === 'entry') {
      if (snapshot && r.entry.index <= snapshot.index) continue;
      log = log.filter((e) => e.index < r.entry.index);
      log.push(r.entry);
    } else {
      const m = r.marker;
      const at = log.find((e) => e.index === m.index);
      const same = snapshot?.index === m.index && snapshot.term === m.term;
      log = at?.term === m.term || same ? log.filter((e) => e.index > m.index) : [];
      snapshot = m;
    }
  }
  return { hardState, snapshot, entries: log };
}

export function show(s: RefState): string {
  const ents = s.entries.map((e) => `${e.index}/${e.term}`).join(',');
  return `hs=${JSON.stringify(s.hardState)} snap=${JSON.stringify(s.snapshot)} entries=[${ents}]`;
}

/** Normalise for deep comparison (Uint8Array vs Buffer, undefined fields). */
export function norm(s: RefState): RefState {
  return {
    hardState: s.hardState && { ...s.hardState },
    snapshot: s.snapshot && { index: s.snapshot.index, term: s.snapshot.term },
    entries: s.entries.map((e) => ({ ...e, data: Uint8Array.from(e.data) })),
  };
}

export class CrashNow extends Error {
  constructor(op: number) {
    super(`injected crash at fs operation ${op}`);
    this.name = 'CrashNow';
  }
}
