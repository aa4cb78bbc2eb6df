/**
 * Which secondary indexes each kind has, after SwarmKit's manager/state/store/*.go indexers. An index maps
 * an object to a tuple of key parts; parts are joined with NUL into one sort key, so composite keys such
 * as (serviceId, slot) and prefix scans fall out of one sorted map. Names are case-insensitive and unique
 * where SwarmKit makes them so (nodes may share a hostname).
 *
 * Adding an index: declare its query tuple in `IndexQueries` and its extractor in `SCHEMA`.
 */
import { ApiError } from '../api/errors';
import type { AnyObject, Kind, NodeRole, ObjectKinds, TaskState } from '../api/objects';

export type KeyPart = string | number;

/** Index name -> the key parts a query passes, per kind. */
export interface IndexQueries {
  node: { name: [name: string]; role: [role: NodeRole] };
  service: { name: [name: string] };
  task: {
    serviceId: [serviceId: string];
    /** '' finds unassigned tasks, as in SwarmKit. */
    nodeId: [nodeId: string];
    desiredState: [state: TaskState];
    slot: [serviceId: string, slot: number];
  };
  network: { name: [name: string] };
  secret: { name: [name: string] };
  cluster: { name: [name: string] };
}

export type IndexName<K extends Kind> = keyof IndexQueries[K] & string;
export type IndexKey<K extends Kind, I extends IndexName<K>> =
  IndexQueries[K][I] extends infer Q extends readonly KeyPart[] ? Q : never;

interface IndexDef<O, Q extends readonly KeyPart[]> {
  /** A second object with the same key is rejected with AlreadyExists. */
  unique: boolean;
  /** Key parts are lower-cased (names compare case-insensitively). */
  fold: boolean;
  /** The JS type of each part, checked on write so "42" and 42 can never share a key. */
  types: { [P in keyof Q]: Q[P] extends number ? 'number' : 'string' };
  /** The object's key parts, or undefined when the object is not in this index (an empty name). */
  parts(obj: O): Q | undefined;
}

type Schema = {
  [K in Kind]: { [I in IndexName<K>]: IndexDef<ObjectKinds[K], IndexKey<K, I>> };
};

function nameIndex<O extends { spec: { name: string } }>(): IndexDef<O, [string]> {
  return { unique: true, fold: true, types: ['string'], parts: (o) => (o.spec.name ? [o.spec.name] : undefined) };
}

export const SCHEMA: Schema = {
  node: {
    // A node without an operator-given name is known by its hostname; hostnames need not be unique.
    name: {
      unique: false,
      fold: true,
      types: ['string'],
      parts: (n) => {
        const name = n.spec.name || n.description?.hostname;
        return name ? [name] : undefined;
      },
    },
    role: { unique: false, fold: false, types: ['string'], parts: (n) => [n.role] },
  },
  service: { name: nameIndex() },
  task: {
    serviceId: { unique: false, fold: false, types: ['string'], parts: (t) => [t.serviceId] },
    nodeId: { unique: false, fold: false, types: ['string'], parts: (t) => [t.nodeId] },
    desiredState: { unique: false, fold: false, types: ['number'], parts: (t) => [t.desiredState] },
    slot: { unique: false, fold: false, types: ['string', 'number'], parts: (t) => [t.serviceId, t.slot] },
  },
  network: { name: nameIndex() },
  secret: { name: nameIndex() },
  cluster: { name: nameIndex() },
};

/** The untyped view of an index the table code works with. */
export interface RuntimeIndex {
  readonly kind: Kind;
  readonly name: string;
  readonly unique: boolean;
  /** The sort key of an object, or undefined if not indexed. Throws InvalidArgument on malformed fields. */
  objectKey(obj: AnyObject): string | undefined;
  /** The sort key for a query, or undefined if no object can match (e.g. a part containing NUL). */
  queryKey(parts: readonly KeyPart[]): string | undefined;
}

const SEP = '\u0000';

function joinParts(parts: readonly unknown[], types: readonly string[], fold: boolean): string | undefined {
  if (parts.length !== types.length) return undefined;
  const out: string[] = [];
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i];
    if (typeof p !== types[i]) return undefined;
    if (typeof p === 'number') {
      if (!Number.isFinite(p)) return undefined;
      out.push(String(p));
    } else if (typeof p === 'string') {
      if (p.includes(SEP)) return undefined;
      out.push(fold ? p.toLowerCase() : p);
    } else {
      return undefined;
    }
  }
  return out.join(SEP);
}

function runtimeIndex(kind: Kind, name: string, def: IndexDef<AnyObject, readonly KeyPart[]>): RuntimeIndex {
  return {
    kind,
    name,
    unique: def.unique,
    objectKey(obj) {
      let parts: readonly KeyPart[] | undefined;
      try {
        parts = def.parts(obj);
      } catch {
        // A missing nested field (e.g. no `spec`) must surface as a rejected write, not a crash in apply.
        throw new ApiError('InvalidArgument', `${kind} ${obj.id}: cannot compute index "${name}" (malformed object)`);
      }
      if (parts === undefined) return undefined;
      const key = joinParts(parts, def.types, def.fold);
      if (key === undefined) {
        throw new ApiError('InvalidArgument', `${kind} ${obj.id}: field for index "${name}" has the wrong type or contains NUL`);
      }
      return key;
    },
    queryKey: (parts) => joinParts(parts, def.types, def.fold),
  };
}

const RUNTIME = new Map<Kind, readonly RuntimeIndex[]>(
  (Object.keys(SCHEMA) as Kind[]).map((kind) => {
    const defs = SCHEMA[kind] as unknown as Record<string, IndexDef<AnyObject, readonly KeyPart[]>>;
    return [kind, Object.keys(defs).sort().map((name) => runtimeIndex(kind, name, defs[name]))];
  }),
);

export function indexesOf(kind: Kind): readonly RuntimeIndex[] {
  return RUNTIME.get(kind) ?? [];
}

export function indexOf(kind: Kind, name: string): RuntimeIndex | undefined {
  return indexesOf(kind).find((ix) => ix.name === name);
}

/** Where an object sits in a non-unique index: its key, then its id, so equal keys stay distinct. */
export function nonUniqueEntryKey(key: string, id: string): string {
  return key + SEP + id;
}

/** The scan prefix that finds every entry with exactly `key` in a non-unique index. */
export function nonUniqueScanPrefix(key: string): string {
  return key + SEP;
}
