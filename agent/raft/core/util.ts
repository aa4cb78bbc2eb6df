/** Small helpers shared by the core's modules. */
import type { Entry, Message, RaftLogger } from '../types';
import { MessageType } from '../types';

export const EMPTY_BYTES: Uint8Array = new Uint8Array(0);

/**
 * Fixed per-entry overhead counted against `maxSizePerMsg` (term, index, type, length prefix on the
 * wire). Without it a stream of empty entries would never hit the byte cap.
 */
export const ENTRY_OVERHEAD_BYTES = 16;

/** Size of an entry as counted against `maxSizePerMsg` and `LogStorage.entries(maxBytes)`. */
export function entrySize(e: Entry): number {
  return e.data.byteLength + ENTRY_OVERHEAD_BYTES;
}

/** Payload bytes of a batch, as counted by the inflight byte cap (etcd counts payloads only). */
export function payloadSize(entries: readonly Entry[]): number {
  let size = 0;
  for (let i = 0; i < entries.length; i++) size += entries[i].data.byteLength;
  return size;
}

/**
 * The prefix of `entries[lo, hi)` that fits in `maxBytes`, always at least one entry (etcd's limitSize),
 * so a single oversized entry still makes progress.
 */
export function limitSize(entries: readonly Entry[], lo: number, hi: number, maxBytes: number): Entry[] {
  if (lo >= hi) return [];
  let size = entrySize(entries[lo]);
  let end = lo + 1;
  while (end < hi) {
    size += entrySize(entries[end]);
    if (size > maxBytes) break;
    end++;
  }
  return entries.slice(lo, end);
}

/** A string key for a byte string (ReadIndex contexts), cheap for the short ids the runner uses. */
export function bytesKey(bytes: Uint8Array): string {
  let key = '';
  for (let i = 0; i < bytes.length; i++) key += String.fromCharCode(bytes[i]);
  return key;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A message with every field at its zero value; callers fill in what the type needs. */
export function newMessage(type: MessageType, to: number): Message {
  return {
    type,
    from: 0,
    to,
    term: 0,
    logTerm: 0,
    index: 0,
    entries: [],
    commit: 0,
    snapshot: undefined,
    reject: false,
    rejectHint: 0,
    context: EMPTY_BYTES,
  };
}

export function isLocalMessageType(type: MessageType): boolean {
  return type === MessageType.Hup || type === MessageType.Beat || type === MessageType.Unreachable || type === MessageType.SnapStatus;
}

export const silentLogger: RaftLogger = {
  debug() {},
  info() {},
  warn() {},
};
