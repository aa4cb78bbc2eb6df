/**
 * Applying one committed entry to a StoreState: a pure function of (state, entry bytes, index). It reads
 * no clock and no randomness, and it either applies every action or none, so all managers that apply the
 * same log hold identical states.
 *
 * Checks run in three phases so that constraints hold for the transaction's final state rather than for
 * the arbitrary order its actions are listed in (a transaction may rename A away from "x" and give "x"
 * to B): (1) existence and versions against the state before the entry, (2) every touched object leaves
 * the indexes, (3) every new version enters them, with unique keys checked.
 */
import { type ErrorCode, ApiError } from '../api/errors';
import type { AnyObject, Kind, Meta, ObjectKinds } from '../api/objects';
import { type DecodedAction, decodeEntry } from './entry';
import { deepFreeze } from './json';
import { Draft, type StoreState } from './state';

export type ChangeAction = 'create' | 'update' | 'delete';

interface ChangeOf<K extends Kind> {
  kind: K;
  action: ChangeAction;
  /** The new object; for a delete, the object as it was when deleted. */
  object: ObjectKinds[K];
  /** The previous object, for updates only. */
  oldObject?: ObjectKinds[K];
}

/** One object's change in a committed entry. Narrow on `kind` to get typed objects. */
export type Change = { [K in Kind]: ChangeOf<K> }[Kind];

/** What apply() returns; the Proposer hands it back to the proposing caller. */
export type ApplyOutcome =
  | { ok: true; version: number; changes: readonly Change[] }
  | { ok: false; version: number; error: { code: ErrorCode; message: string } };

export interface ApplyResult {
  state: StoreState;
  outcome: ApplyOutcome;
}

function withMeta(object: Record<string, unknown>, meta: Meta): AnyObject {
  return deepFreeze({ ...object, meta: Object.freeze(meta) }) as unknown as AnyObject;
}

function keyOf(kind: Kind, id: string): string {
  return `${kind}/${id}`;
}

function actionId(a: DecodedAction): string {
  return a.op === 'delete' ? a.id : a.object.id;
}

function validateShape(kind: Kind, obj: Record<string, unknown>): void {
  if (typeof obj.spec !== 'object' || obj.spec === null) {
    throw new ApiError('InvalidArgument', `${kind} ${String(obj.id)}: missing spec`);
  }
}

function applyActions(state: StoreState, ts: string, actions: readonly DecodedAction[], index: number): ApplyResult {
  const draft = new Draft(state);
  const seen = new Set<string>();
  const olds: (AnyObject | undefined)[] = [];

  // Phase 1: existence and optimistic-concurrency checks against the state before this entry.
  for (const a of actions) {
    const id = actionId(a);
    const key = keyOf(a.kind, id);
    if (seen.has(key)) throw new ApiError('InvalidArgument', `${a.kind} ${id} appears twice in one entry`);
    seen.add(key);
    const current = state.tables[a.kind].byId.get(id);
    if (a.op === 'create') {
      if (current !== undefined) {
        throw new ApiError('AlreadyExists', `${a.kind} ${id} already exists`, { details: { kind: a.kind, id } });
      }
      validateShape(a.kind, a.object);
    } else {
      if (current === undefined) {
        throw new ApiError('NotFound', `${a.kind} ${id} not found`, { details: { kind: a.kind, id } });
      }
      if (a.op === 'update') {
        validateShape(a.kind, a.object);
        if (current.meta.version !== a.expect) {
          throw new ApiError(
            'Conflict',
            `${a.kind} ${id} was changed concurrently (version ${current.meta.version}, expected ${a.expect})`,
            { details: { kind: a.kind, id, currentVersion: current.meta.version, expectedVersion: a.expect } },
          );
        }
      }
    }
    olds.push(current);
  }

  // Phase 2: every replaced or deleted object leaves the indexes.
  actions.forEach((a, i) => {
    const old = olds[i];
    if (old !== undefined) draft.unindex(a.kind, old);
  });

  // Phase 3: new versions enter the indexes (unique keys checked) and the id tables.
  const changes: Change[] = [];
  actions.forEach((a, i) => {
    const old = olds[i];
    if (a.op === 'delete') {
      draft.remove(a.kind, a.id);
      changes.push({ kind: a.kind, action: 'delete', object: old } as Change);
      return;
    }
    const createdAt = old === undefined ? ts : old.meta.createdAt;
    const obj = withMeta(a.object, { version: index, createdAt, updatedAt: ts });
    draft.index(a.kind, obj);
    draft.put(a.kind, obj);
    changes.push(
      (old === undefined
        ? { kind: a.kind, action: 'create', object: obj }
        : { kind: a.kind, action: 'update', object: obj, oldObject: old }) as Change,
    );
  });

  return { state: draft.finish(index), outcome: { ok: true, version: index, changes } };
}

/**
 * Applies entry `data` at Raft index `index`. A rejected entry still advances the state's version (the
 * entry is committed; it just changes nothing), and the rejection is reported in the outcome.
 */
export function applyEntry(state: StoreState, data: Uint8Array, index: number): ApplyResult {
  if (!Number.isSafeInteger(index) || index <= state.version) {
    return {
      state,
      outcome: {
        ok: false,
        version: state.version,
        error: { code: 'FailedPrecondition', message: `entry ${index} is not after applied index ${state.version}` },
      },
    };
  }
  try {
    if (data.length === 0) return { state: { ...state, version: index }, outcome: { ok: true, version: index, changes: [] } };
    const entry = decodeEntry(data);
    return applyActions(state, entry.ts, entry.actions, index);
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    return {
      state: { ...state, version: index },
      outcome: { ok: false, version: index, error: { code: err.code, message: err.message } },
    };
  }
}

export function isApplyOutcome(value: unknown): value is ApplyOutcome {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as { ok?: unknown; version?: unknown; changes?: unknown; error?: unknown };
  if (typeof v.version !== 'number') return false;
  if (v.ok === true) return Array.isArray(v.changes);
  return v.ok === false && typeof v.error === 'object' && v.error !== null;
}
