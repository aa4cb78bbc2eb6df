/**
 * Reads against one immutable StoreState. Everything a ReadTx returns is frozen and belongs to that
 * snapshot: later applies never show through, however long the caller keeps iterating.
 */
import { ApiError } from '../api/errors';
import type { Kind, ObjectKinds } from '../api/objects';
import type { VisitCounter } from './pmap';
import { type IndexKey, type IndexName, indexOf, nonUniqueScanPrefix } from './schema';
import type { StoreState } from './state';

/** Kinds whose name is unique (so a name identifies at most one object). */
export type UniquelyNamedKind = Exclude<Kind, 'node' | 'task'>;

export interface ReadTx {
  /** Raft index of the last entry applied in this snapshot. */
  readonly version: number;
  /** Tree nodes visited by this transaction's reads; lets tests check a lookup is indexed. */
  readonly nodesVisited: number;
  get<K extends Kind>(kind: K, id: string): ObjectKinds[K] | undefined;
  /** All objects of a kind, ordered by id. */
  list<K extends Kind>(kind: K): ObjectKinds[K][];
  /** Like list() but lazy. */
  iterate<K extends Kind>(kind: K): IterableIterator<ObjectKinds[K]>;
  count(kind: Kind): number;
  /** Objects whose index key equals `key`, ordered by id (names compare case-insensitively). */
  find<K extends Kind, I extends IndexName<K>>(kind: K, index: I, ...key: IndexKey<K, I>): ObjectKinds[K][];
  getByName<K extends UniquelyNamedKind>(kind: K, name: string): ObjectKinds[K] | undefined;
  /** Objects whose (case-folded) name starts with `prefix`, ordered by name. */
  findByNamePrefix<K extends Kind>(kind: K, prefix: string): ObjectKinds[K][];
  /**
   * The one object whose id is `prefix` or starts with it (an exact id wins, as in the Docker CLI).
   * NotFound if none, InvalidArgument if the prefix is ambiguous or empty.
   */
  findByIdPrefix<K extends Kind>(kind: K, prefix: string): ObjectKinds[K];
}

export class ReadTxImpl implements ReadTx {
  protected readonly counter: VisitCounter = { visited: 0 };

  constructor(protected state: StoreState) {}

  get version(): number {
    return this.state.version;
  }

  get nodesVisited(): number {
    return this.counter.visited;
  }

  get<K extends Kind>(kind: K, id: string): ObjectKinds[K] | undefined {
    return this.state.tables[kind].byId.get(id, this.counter) as ObjectKinds[K] | undefined;
  }

  list<K extends Kind>(kind: K): ObjectKinds[K][] {
    return [...this.iterate(kind)];
  }

  *iterate<K extends Kind>(kind: K): IterableIterator<ObjectKinds[K]> {
    for (const [, obj] of this.state.tables[kind].byId.from('', this.counter)) yield obj as ObjectKinds[K];
  }

  count(kind: Kind): number {
    return this.state.tables[kind].byId.size;
  }

  find<K extends Kind, I extends IndexName<K>>(kind: K, index: I, ...key: IndexKey<K, I>): ObjectKinds[K][] {
    const ix = indexOf(kind, index);
    if (ix === undefined) throw new ApiError('InvalidArgument', `${kind} has no index "${index}"`);
    const k = ix.queryKey(key);
    if (k === undefined) return [];
    const tree = this.state.tables[kind].indexes[index];
    if (ix.unique) {
      const id = tree.get(k, this.counter);
      const obj = id === undefined ? undefined : this.get(kind, id);
      return obj === undefined ? [] : [obj];
    }
    const out: ObjectKinds[K][] = [];
    for (const [, id] of tree.prefix(nonUniqueScanPrefix(k), this.counter)) {
      const obj = this.get(kind, id);
      if (obj !== undefined) out.push(obj);
    }
    return out;
  }

  getByName<K extends UniquelyNamedKind>(kind: K, name: string): ObjectKinds[K] | undefined {
    return this.find(kind, 'name' as IndexName<K>, ...([name] as unknown as IndexKey<K, IndexName<K>>))[0];
  }

  findByNamePrefix<K extends Kind>(kind: K, prefix: string): ObjectKinds[K][] {
    const ix = indexOf(kind, 'name');
    if (ix === undefined) return [];
    const p = ix.queryKey([prefix]);
    if (p === undefined) return [];
    const out: ObjectKinds[K][] = [];
    for (const [, id] of this.state.tables[kind].indexes.name.prefix(p, this.counter)) {
      const obj = this.get(kind, id);
      if (obj !== undefined) out.push(obj);
    }
    return out;
  }

  findByIdPrefix<K extends Kind>(kind: K, prefix: string): ObjectKinds[K] {
    if (prefix === '') throw new ApiError('InvalidArgument', `empty ${kind} id prefix`);
    const exact = this.get(kind, prefix);
    if (exact !== undefined) return exact;
    const matches: ObjectKinds[K][] = [];
    // Two matches are enough to know it is ambiguous; stop there so a short prefix costs O(log n).
    for (const [, obj] of this.state.tables[kind].byId.prefix(prefix, this.counter)) {
      matches.push(obj as ObjectKinds[K]);
      if (matches.length > 1) break;
    }
    if (matches.length === 0) {
      throw new ApiError('NotFound', `no ${kind} with id or id prefix "${prefix}"`, { details: { kind } });
    }
    if (matches.length > 1) {
      throw new ApiError('InvalidArgument', `${kind} id prefix "${prefix}" is ambiguous`, {
        details: { kind, reason: 'ambiguous' },
      });
    }
    return matches[0];
  }
}
