/**
 * The store's state as immutable data: per kind, a persistent map id -> object plus one persistent map
 * per secondary index. A StoreState value never changes, so a reader holding one sees a consistent
 * snapshot for as long as it likes while applies build and publish newer states.
 *
 * Writes go through a Draft: it starts from a state, applies checked primitive operations (each a few
 * O(log n) path copies), and produces a new state; dropping a Draft discards its work, which is how a
 * rejected entry or a failed transaction leaves nothing behind.
 */
import { ApiError } from '../api/errors';
import { type AnyObject, type Kind, KINDS } from '../api/objects';
import { type Edit, PMap, newEdit } from './pmap';
import { indexesOf, nonUniqueEntryKey } from './schema';

export interface TableState {
  readonly byId: PMap<AnyObject>;
  /** Index name -> sort key -> id. Unique indexes are keyed by the key itself, others by key+NUL+id. */
  readonly indexes: Readonly<Record<string, PMap<string>>>;
}

export interface StoreState {
  /** Raft index of the last applied entry. */
  readonly version: number;
  readonly tables: Readonly<Record<Kind, TableState>>;
}

function emptyTable(kind: Kind): TableState {
  const indexes: Record<string, PMap<string>> = {};
  for (const ix of indexesOf(kind)) indexes[ix.name] = PMap.empty();
  return { byId: PMap.empty(), indexes };
}

export function emptyState(version = 0): StoreState {
  const tables = {} as Record<Kind, TableState>;
  for (const kind of KINDS) tables[kind] = emptyTable(kind);
  return { version, tables };
}

interface MutableTable {
  byId: PMap<AnyObject>;
  indexes: Record<string, PMap<string>>;
}

export class Draft {
  private readonly tables = new Map<Kind, MutableTable>();
  /** Lets the many writes of one draft (an entry of thousands of actions) reuse the tree nodes they made. */
  private readonly edit: Edit = newEdit();
  private finished = false;

  constructor(private readonly base: StoreState) {}

  private table(kind: Kind): MutableTable {
    // After finish() the trees are published; writing through the edit again would mutate them.
    if (this.finished) throw new Error('Draft used after finish()');
    let t = this.tables.get(kind);
    if (t === undefined) {
      const src = this.base.tables[kind];
      t = { byId: src.byId, indexes: { ...src.indexes } };
      this.tables.set(kind, t);
    }
    return t;
  }

  get(kind: Kind, id: string): AnyObject | undefined {
    return (this.tables.get(kind) ?? this.base.tables[kind]).byId.get(id);
  }

  /** Takes `obj` out of every secondary index (its keys are recomputed from the object itself). */
  unindex(kind: Kind, obj: AnyObject): void {
    const t = this.table(kind);
    for (const ix of indexesOf(kind)) {
      const key = ix.objectKey(obj);
      if (key === undefined) continue;
      const tree = t.indexes[ix.name];
      if (ix.unique) {
        if (tree.get(key) === obj.id) t.indexes[ix.name] = tree.delete(key, this.edit);
      } else {
        t.indexes[ix.name] = tree.delete(nonUniqueEntryKey(key, obj.id), this.edit);
      }
    }
  }

  /** Adds `obj` to every secondary index; AlreadyExists if a unique key belongs to another object. */
  index(kind: Kind, obj: AnyObject): void {
    const t = this.table(kind);
    // Compute every key first so a malformed object or a clash leaves the draft unchanged.
    const keys = indexesOf(kind).map((ix) => ix.objectKey(obj));
    indexesOf(kind).forEach((ix, i) => {
      const key = keys[i];
      if (key === undefined || !ix.unique) return;
      const owner = t.indexes[ix.name].get(key);
      if (owner !== undefined && owner !== obj.id) {
        throw new ApiError('AlreadyExists', `${kind} ${ix.name} "${key}" is already in use by ${kind} ${owner}`, {
          details: { kind, index: ix.name, ownerId: owner },
        });
      }
    });
    indexesOf(kind).forEach((ix, i) => {
      const key = keys[i];
      if (key === undefined) return;
      const tree = t.indexes[ix.name];
      t.indexes[ix.name] = ix.unique
        ? tree.set(key, obj.id, this.edit)
        : tree.set(nonUniqueEntryKey(key, obj.id), obj.id, this.edit);
    });
  }

  put(kind: Kind, obj: AnyObject): void {
    const t = this.table(kind);
    t.byId = t.byId.set(obj.id, obj, this.edit);
  }

  remove(kind: Kind, id: string): void {
    const t = this.table(kind);
    t.byId = t.byId.delete(id, this.edit);
  }

  /** Checked single-object operations, used where each write is validated as it happens. */
  insertObject(kind: Kind, obj: AnyObject): void {
    if (this.get(kind, obj.id) !== undefined) {
      throw new ApiError('AlreadyExists', `${kind} ${obj.id} already exists`, { details: { kind, id: obj.id } });
    }
    this.index(kind, obj);
    this.put(kind, obj);
  }

  replaceObject(kind: Kind, old: AnyObject, obj: AnyObject): void {
    this.unindex(kind, old);
    try {
      this.index(kind, obj);
    } catch (err) {
      this.index(kind, old);
      throw err;
    }
    this.put(kind, obj);
  }

  deleteObject(kind: Kind, old: AnyObject): void {
    this.unindex(kind, old);
    this.remove(kind, old.id);
  }

  finish(version: number): StoreState {
    this.finished = true;
    if (this.tables.size === 0 && version === this.base.version) return this.base;
    const tables = { ...this.base.tables };
    for (const [kind, t] of this.tables) tables[kind] = { byId: t.byId, indexes: t.indexes };
    return { version, tables };
  }
}
