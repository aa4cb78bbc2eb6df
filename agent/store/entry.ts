/**
 * The Raft entry format of one store transaction. JSON text, UTF-8:
 *
 *   {"v":1,"ts":"2025-01-02T03:04:05.678Z","a":[
 *     ["c","task",{...object without meta...}],        create
 *     ["u","task",41,{...object without meta...}],     update, expected current version 41
 *     ["d","task","<id>"]                               delete
 *   ]}
 *
 * `ts` is the proposer's clock at proposal time; apply stamps createdAt/updatedAt from it, never from
 * its own clock, so every manager stores identical objects. Objects travel without `meta`: apply derives
 * it (version = entry index). Each object is stringified once when the transaction writes it, and the
 * entry is assembled by concatenation, so encoding a 1 MiB batch does not re-walk the objects.
 */
import { ApiError } from '../api/errors';
import { type AnyObject, type Kind, isKind } from '../api/objects';
import { isPlainObject, utf8Length } from './json';

export const ENTRY_FORMAT_VERSION = 1;

/** An action whose object is already JSON text. */
export type EncodedAction =
  | { op: 'create'; kind: Kind; json: string }
  | { op: 'update'; kind: Kind; expect: number; json: string }
  | { op: 'delete'; kind: Kind; id: string };

export type DecodedAction =
  | { op: 'create'; kind: Kind; object: Record<string, unknown> & { id: string } }
  | { op: 'update'; kind: Kind; expect: number; object: Record<string, unknown> & { id: string } }
  | { op: 'delete'; kind: Kind; id: string };

export interface DecodedEntry {
  ts: string;
  actions: DecodedAction[];
}

/** Stringifies an object for an entry, dropping `meta` (apply owns it). */
export function objectJson(obj: Omit<AnyObject, 'meta'> & { meta?: unknown }): string {
  const { meta: _meta, ...rest } = obj;
  let json: string | undefined;
  try {
    json = JSON.stringify(rest);
  } catch (err) {
    throw new ApiError('InvalidArgument', `object ${String(obj.id)} is not JSON-serializable`, { cause: err });
  }
  if (json === undefined) throw new ApiError('InvalidArgument', 'object is not JSON-serializable');
  return json;
}

export function actionJson(a: EncodedAction): string {
  switch (a.op) {
    case 'create':
      return `["c",${JSON.stringify(a.kind)},${a.json}]`;
    case 'update':
      return `["u",${JSON.stringify(a.kind)},${a.expect},${a.json}]`;
    case 'delete':
      return `["d",${JSON.stringify(a.kind)},${JSON.stringify(a.id)}]`;
  }
}

/** Upper bound of an entry's bytes besides its actions (braces, version, timestamp). */
export const ENTRY_OVERHEAD_BYTES = 96;

/**
 * Upper bound of the bytes an action adds to an entry: its object (or id) exactly, plus a bound for the
 * op, kind, expected version, brackets and separating comma.
 */
export function actionBytes(jsonOrId: string): number {
  return utf8Length(jsonOrId) + 48;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export function encodeEntry(ts: string, actions: readonly EncodedAction[]): Uint8Array {
  const parts = actions.map(actionJson);
  return encoder.encode(`{"v":${ENTRY_FORMAT_VERSION},"ts":${JSON.stringify(ts)},"a":[${parts.join(',')}]}`);
}

function bad(what: string): ApiError {
  return new ApiError('InvalidArgument', `malformed store entry: ${what}`);
}

function decodeObject(value: unknown, at: number): Record<string, unknown> & { id: string } {
  if (!isPlainObject(value)) throw bad(`action ${at}: object expected`);
  const id = value.id;
  if (typeof id !== 'string' || id === '' || id.includes('\u0000')) throw bad(`action ${at}: invalid id`);
  return value as Record<string, unknown> & { id: string };
}

export function decodeEntry(data: Uint8Array): DecodedEntry {
  let root: unknown;
  try {
    root = JSON.parse(decoder.decode(data));
  } catch {
    throw bad('not UTF-8 JSON');
  }
  if (!isPlainObject(root)) throw bad('not an object');
  if (root.v !== ENTRY_FORMAT_VERSION) throw bad(`unsupported format version ${String(root.v)}`);
  if (typeof root.ts !== 'string' || root.ts === '') throw bad('missing timestamp');
  if (!Array.isArray(root.a)) throw bad('missing actions');
  const actions = root.a.map((raw: unknown, i): DecodedAction => {
    if (!Array.isArray(raw) || raw.length < 3) throw bad(`action ${i}: not a tuple`);
    const [op, kind] = raw as unknown[];
    if (!isKind(kind)) throw bad(`action ${i}: unknown kind ${String(kind)}`);
    switch (op) {
      case 'c':
        return { op: 'create', kind, object: decodeObject(raw[2], i) };
      case 'u': {
        const expect: unknown = raw[2];
        if (typeof expect !== 'number' || !Number.isSafeInteger(expect) || expect < 0) {
          throw bad(`action ${i}: invalid expected version`);
        }
        return { op: 'update', kind, expect, object: decodeObject(raw[3], i) };
      }
      case 'd': {
        const id: unknown = raw[2];
        if (typeof id !== 'string' || id === '') throw bad(`action ${i}: invalid id`);
        return { op: 'delete', kind, id };
      }
      default:
        throw bad(`action ${i}: unknown op ${String(op)}`);
    }
  });
  return { ts: root.ts, actions };
}
