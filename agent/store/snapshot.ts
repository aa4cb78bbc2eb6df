/**
 * Whole-store snapshots for Raft. Format (UTF-8 JSON):
 *
 *   {"v":1,"version":N,"tables":{"node":[...],"service":[...],...}}
 *
 * Kinds in KINDS order, objects in id order, each object as stored (key order included), so two
 * managers holding the same state produce byte-identical snapshots. Indexes are not stored: restore
 * rebuilds them, sorting keys and building balanced trees in O(n log n) rather than n inserts.
 */
import { ApiError } from '../api/errors';
import { type AnyObject, type Kind, KINDS } from '../api/objects';
import type { SnapshotSlice } from '../raft/state-machine';
import { deepFreeze, isPlainObject } from './json';
import { PMap } from './pmap';
import { indexesOf, nonUniqueEntryKey } from './schema';
import type { StoreState, TableState } from './state';

export const SNAPSHOT_FORMAT_VERSION = 1;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export function encodeSnapshot(state: StoreState): Uint8Array {
  const tables = KINDS.map((kind) => {
    const objects: string[] = [];
    for (const obj of state.tables[kind].byId.values()) objects.push(JSON.stringify(obj));
    return `${JSON.stringify(kind)}:[${objects.join(',')}]`;
  });
  return encoder.encode(`{"v":${SNAPSHOT_FORMAT_VERSION},"version":${state.version},"tables":{${tables.join(',')}}}`);
}

/** Objects encoded between two looks at the slice's clock. */
const OBJECTS_PER_CHECK = 64;

/**
 * The same bytes as encodeSnapshot, produced in slices: `state` is immutable, so it can be walked
 * across pauses while the store moves on. Each slice's text is turned into bytes at once, so the
 * pieces held meanwhile are bytes, not a string of the whole store.
 */
export async function encodeSnapshotInSlices(state: StoreState, slice: SnapshotSlice): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let parts: string[] = [`{"v":${SNAPSHOT_FORMAT_VERSION},"version":${state.version},"tables":{`];
  const endSlice = (): void => {
    chunks.push(encoder.encode(parts.join('')));
    parts = [];
  };
  for (const [k, kind] of KINDS.entries()) {
    parts.push(`${k > 0 ? ',' : ''}${JSON.stringify(kind)}:[`);
    let count = 0;
    for (const obj of state.tables[kind].byId.values()) {
      parts.push(count === 0 ? JSON.stringify(obj) : `,${JSON.stringify(obj)}`);
      count++;
      if (count % OBJECTS_PER_CHECK === 0 && slice.due()) {
        endSlice();
        await slice.pause();
      }
    }
    parts.push(']');
  }
  parts.push('}}');
  endSlice();
  const bytes = new Uint8Array(chunks.reduce((sum, chunk) => sum + chunk.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return bytes;
}

function corrupt(what: string): ApiError {
  return new ApiError('InvalidArgument', `corrupt store snapshot: ${what}`);
}

function buildTable(kind: Kind, raw: unknown): TableState {
  if (!Array.isArray(raw)) throw corrupt(`table ${kind} is not an array`);
  const objects: AnyObject[] = raw.map((o: unknown) => {
    if (!isPlainObject(o) || typeof o.id !== 'string' || o.id === '' || !isPlainObject(o.meta)) {
      throw corrupt(`malformed ${kind}`);
    }
    return deepFreeze(o) as unknown as AnyObject;
  });
  // Writers emit id order; sort anyway so a hand-made snapshot still restores, then fromSorted rejects duplicates.
  objects.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  let byId: PMap<AnyObject>;
  try {
    byId = PMap.fromSorted(
      objects.map((o) => o.id),
      objects,
    );
  } catch {
    throw corrupt(`duplicate ${kind} id`);
  }
  const indexes: Record<string, PMap<string>> = {};
  for (const ix of indexesOf(kind)) {
    const entries: [string, string][] = [];
    for (const obj of objects) {
      const key = ix.objectKey(obj);
      if (key !== undefined) entries.push([ix.unique ? key : nonUniqueEntryKey(key, obj.id), obj.id]);
    }
    entries.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    try {
      indexes[ix.name] = PMap.fromSorted(
        entries.map((e) => e[0]),
        entries.map((e) => e[1]),
      );
    } catch {
      throw corrupt(`two ${kind} objects share unique ${ix.name}`);
    }
  }
  return { byId, indexes };
}

/** Rebuilds a state from snapshot bytes; the state's version is the Raft index given with the snapshot. */
export function decodeSnapshot(data: Uint8Array, index: number): StoreState {
  let root: unknown;
  try {
    root = JSON.parse(decoder.decode(data));
  } catch {
    throw corrupt('not UTF-8 JSON');
  }
  if (!isPlainObject(root) || root.v !== SNAPSHOT_FORMAT_VERSION || !isPlainObject(root.tables)) {
    throw corrupt('unknown format');
  }
  if (typeof root.version !== 'number' || root.version > index) {
    throw corrupt(`snapshot is at version ${String(root.version)}, past the restore index ${index}`);
  }
  const rawTables = root.tables;
  const tables = {} as Record<Kind, TableState>;
  // Kinds missing from an older snapshot start empty, so adding a kind needs no migration.
  for (const kind of KINDS) tables[kind] = buildTable(kind, rawTables[kind] ?? []);
  // The store's version is the last entry that wrote to it; a raft snapshot may be taken at a later
  // index (a membership change, a leader's empty entry), which must not make restored stores differ.
  return { version: root.version, tables };
}
