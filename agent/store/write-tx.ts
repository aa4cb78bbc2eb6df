/**
 * Building transactions. A WriteSession runs caller callbacks against a private overlay (a StoreState
 * the callbacks' writes are applied to, checked, as they happen), so reads inside a transaction see its
 * own writes, indexes included, and a failing callback is rolled back by dropping the overlay.
 *
 * Alongside the overlay the session records, per touched object, the net action to replicate: several
 * writes to one object in one entry collapse into one (create+update = create, update+update = update
 * expecting the first-seen version, create+delete = nothing). Actions are grouped into entries of
 * bounded size; a batch may span several entries, proposed in order, and an update of an object written
 * by an earlier entry of the same batch expects the version that entry commits at, filled in when the
 * later entry is encoded.
 */
import { ApiError } from '../api/errors';
import { type Kind, type Meta, type ObjectKinds, isKind } from '../api/objects';
import {
  ENTRY_OVERHEAD_BYTES,
  type EncodedAction,
  actionBytes,
  encodeEntry,
  objectJson,
} from './entry';
import { deepFreeze, isPlainObject } from './json';
import { ReadTx, ReadTxImpl } from './read-tx';
import { Draft, type StoreState } from './state';

/** An object as handed to create(): the store assigns `meta`. */
export type NewObject<K extends Kind> = Omit<ObjectKinds[K], 'meta'> & { meta?: Meta };

export interface WriteTx extends ReadTx {
  /** Creates an object (caller supplies the id, see newId()). Returns the provisional object (version 0). */
  create<K extends Kind>(kind: K, obj: NewObject<K>): ObjectKinds[K];
  /**
   * Replaces an object. `obj.meta.version` must equal the stored version, else Conflict: read, modify,
   * write. Returns the provisional object (its meta unchanged until commit).
   */
  update<K extends Kind>(kind: K, obj: ObjectKinds[K]): ObjectKinds[K];
  /** Deletes an object; NotFound if it does not exist. */
  delete(kind: Kind, id: string): void;
  /** Objects this transaction has written so far (net: a create then delete of one object is none). */
  readonly writes: number;
}

type Expect = { version: number } | { entry: number };

interface Pending {
  op: 'create' | 'update' | 'delete';
  kind: Kind;
  id: string;
  json?: string;
  /** For updates: the version the object had when first touched; resolved into `expect` on merge. */
  observed?: number;
  expect?: Expect;
  bytes: number;
}

interface EntryDraft {
  actions: Map<string, Pending>;
  bytes: number;
}

function newEntryDraft(): EntryDraft {
  return { actions: new Map(), bytes: ENTRY_OVERHEAD_BYTES };
}

function objectKey(kind: Kind, id: string): string {
  return `${kind}/${id}`;
}

/**
 * The net effect of `prev` followed by `next` on one object; null when they cancel out; 'incompatible'
 * for delete-then-create, which one entry cannot express (it holds one action per object).
 */
function combine(prev: Pending | undefined, next: Pending): Pending | null | 'incompatible' {
  if (prev === undefined) return next;
  if (prev.op === 'delete') return 'incompatible';
  if (next.op === 'delete') return prev.op === 'create' ? null : { ...next };
  if (next.op === 'update') return { ...prev, json: next.json, bytes: next.bytes };
  throw new ApiError('FailedPrecondition', `internal: ${prev.op} followed by ${next.op}`);
}

class SubTx extends ReadTxImpl implements WriteTx {
  readonly actions = new Map<string, Pending>();
  private open = true;

  constructor(private readonly session: WriteSession) {
    super(session.overlay);
  }

  close(): void {
    this.open = false;
  }

  get writes(): number {
    return this.actions.size;
  }

  private ensureOpen(kind: unknown): asserts kind is Kind {
    if (!this.open) throw new ApiError('FailedPrecondition', 'transaction used after its callback returned');
    if (!isKind(kind)) throw new ApiError('InvalidArgument', `unknown kind ${String(kind)}`);
  }

  private write(mutate: (d: Draft) => void): void {
    const draft = new Draft(this.session.overlay);
    mutate(draft);
    this.session.overlay = draft.finish(this.session.overlay.version);
    this.state = this.session.overlay;
  }

  private record(next: Pending): void {
    const key = objectKey(next.kind, next.id);
    const merged = combine(this.actions.get(key), next);
    if (merged === 'incompatible') {
      throw new ApiError('InvalidArgument', `${next.kind} ${next.id} cannot be re-created in the transaction that deleted it`);
    }
    if (merged === null) this.actions.delete(key);
    else this.actions.set(key, merged);
  }

  private serialize(kind: Kind, obj: unknown): { json: string; parsed: Record<string, unknown> & { id: string } } {
    if (!isPlainObject(obj)) throw new ApiError('InvalidArgument', `${kind}: object expected`);
    const id = obj.id;
    if (typeof id !== 'string' || id === '' || id.includes('\u0000')) {
      throw new ApiError('InvalidArgument', `${kind}: id must be a non-empty string without NUL`);
    }
    if (typeof obj.spec !== 'object' || obj.spec === null) throw new ApiError('InvalidArgument', `${kind} ${id}: missing spec`);
    const json = objectJson(obj as unknown as NewObject<Kind>);
    // Re-parse so the overlay holds exactly what apply will build, and the caller's object stays theirs.
    return { json, parsed: JSON.parse(json) as Record<string, unknown> & { id: string } };
  }

  create<K extends Kind>(kind: K, obj: NewObject<K>): ObjectKinds[K] {
    this.ensureOpen(kind);
    const { json, parsed } = this.serialize(kind, obj);
    const ts = this.session.ts;
    const created = deepFreeze({ ...parsed, meta: { version: 0, createdAt: ts, updatedAt: ts } }) as unknown as ObjectKinds[K];
    if (this.actions.get(objectKey(kind, parsed.id))?.op === 'delete') {
      throw new ApiError('InvalidArgument', `${kind} ${parsed.id} cannot be re-created in the transaction that deleted it`);
    }
    this.write((d) => d.insertObject(kind, created));
    this.record({ op: 'create', kind, id: parsed.id, json, bytes: actionBytes(json) });
    return created;
  }

  update<K extends Kind>(kind: K, obj: ObjectKinds[K]): ObjectKinds[K] {
    this.ensureOpen(kind);
    const { json, parsed } = this.serialize(kind, obj);
    const current = this.session.overlay.tables[kind].byId.get(parsed.id);
    if (current === undefined) {
      throw new ApiError('NotFound', `${kind} ${parsed.id} not found`, { details: { kind, id: parsed.id } });
    }
    const given: unknown = (obj as { meta?: { version?: unknown } }).meta?.version;
    if (given !== current.meta.version) {
      throw new ApiError('Conflict', `${kind} ${parsed.id}: update of version ${String(given)} but current is ${current.meta.version}`, {
        details: { kind, id: parsed.id, currentVersion: current.meta.version },
      });
    }
    const updated = deepFreeze({ ...parsed, meta: current.meta }) as unknown as ObjectKinds[K];
    this.write((d) => d.replaceObject(kind, current, updated));
    this.record({ op: 'update', kind, id: parsed.id, json, observed: current.meta.version, bytes: actionBytes(json) });
    return updated;
  }

  delete(kind: Kind, id: string): void {
    this.ensureOpen(kind);
    const current = this.session.overlay.tables[kind].byId.get(id);
    if (current === undefined) throw new ApiError('NotFound', `${kind} ${id} not found`, { details: { kind, id } });
    this.write((d) => d.deleteObject(kind, current));
    this.record({ op: 'delete', kind, id, bytes: actionBytes(JSON.stringify(id)) });
  }
}

function isThenable(value: unknown): boolean {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

export class WriteSession {
  overlay: StoreState;
  private readonly sealed: EntryDraft[] = [];
  private current = newEntryDraft();
  /** Objects written by sealed entries of this session -> that entry's ordinal. */
  private readonly writtenIn = new Map<string, number>();

  /**
   * @param ts provisional createdAt/updatedAt shown inside the transaction
   * @param split whether actions may be spread over several entries (batches) or must fit one (update)
   */
  constructor(
    base: StoreState,
    readonly ts: string,
    private readonly maxEntryBytes: number,
    private readonly split: boolean,
  ) {
    this.overlay = base;
  }

  /** Runs one transaction callback; on throw its writes are rolled back and the error rethrown. */
  run<T>(fn: (tx: WriteTx) => T): T {
    const before = this.overlay;
    const tx = new SubTx(this);
    try {
      const value = fn(tx);
      if (isThenable(value)) {
        throw new ApiError('InvalidArgument', 'transaction callbacks must be synchronous (do I/O before or after)');
      }
      this.merge(tx.actions);
      return value;
    } catch (err) {
      this.overlay = before;
      throw err;
    } finally {
      tx.close();
    }
  }

  private merge(actions: Map<string, Pending>): void {
    let bytes = 0;
    for (const a of actions.values()) bytes += a.bytes;
    if (bytes + ENTRY_OVERHEAD_BYTES > this.maxEntryBytes) {
      throw new ApiError('InvalidArgument', `transaction too large: about ${bytes} bytes, limit ${this.maxEntryBytes}`);
    }
    let mustSeal = this.current.bytes + bytes > this.maxEntryBytes;
    for (const key of actions.keys()) {
      if (this.current.actions.get(key)?.op === 'delete') mustSeal = true;
    }
    if (mustSeal && this.current.actions.size > 0) {
      if (!this.split) throw new ApiError('InvalidArgument', 'transaction does not fit in one entry');
      this.seal();
    }
    const entry = this.current;
    for (const [key, next] of actions) {
      const prev = entry.actions.get(key);
      let resolved = next;
      if (prev === undefined && next.op === 'update') {
        const ordinal = this.writtenIn.get(key);
        resolved = { ...next, expect: ordinal === undefined ? { version: next.observed ?? 0 } : { entry: ordinal } };
      }
      const merged = combine(prev, resolved);
      if (merged === 'incompatible') throw new ApiError('FailedPrecondition', 'internal: incompatible merge after seal');
      entry.bytes += (merged?.bytes ?? 0) - (prev?.bytes ?? 0);
      if (merged === null) entry.actions.delete(key);
      else entry.actions.set(key, merged);
    }
  }

  private seal(): void {
    if (this.current.actions.size === 0) return;
    const ordinal = this.sealed.length;
    this.sealed.push(this.current);
    for (const key of this.current.actions.keys()) this.writtenIn.set(key, ordinal);
    this.current = newEntryDraft();
  }

  /** The entries to propose, in order. Empty when the callbacks wrote nothing (or everything cancelled). */
  finish(): readonly PreparedEntry[] {
    this.seal();
    return this.sealed.map((e) => new PreparedEntry(e));
  }
}

/** One entry's actions, encoded once the versions of the entries before it are known. */
export class PreparedEntry {
  constructor(private readonly draft: EntryDraft) {}

  get actionCount(): number {
    return this.draft.actions.size;
  }

  /** @param committed Raft indexes at which this session's earlier entries committed, by ordinal. */
  encode(ts: string, committed: readonly number[]): Uint8Array {
    const out: EncodedAction[] = [];
    for (const a of this.draft.actions.values()) {
      if (a.op === 'delete') {
        out.push({ op: 'delete', kind: a.kind, id: a.id });
      } else if (a.op === 'create') {
        out.push({ op: 'create', kind: a.kind, json: a.json ?? '{}' });
      } else {
        const e = a.expect ?? { version: a.observed ?? 0 };
        const expect = 'version' in e ? e.version : committed[e.entry];
        if (expect === undefined) throw new ApiError('FailedPrecondition', 'internal: entry encoded before its predecessor committed');
        out.push({ op: 'update', kind: a.kind, expect, json: a.json ?? '{}' });
      }
    }
    return encodeEntry(ts, out);
  }
}
