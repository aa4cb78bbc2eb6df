import { describe, expect, it } from 'vitest';
import {
  ByteReader,
  ByteWriter,
  DecodeError,
  decodeConfChange,
  decodeEntry,
  decodeHardState,
  decodeMessage,
  decodeSnapshot,
  encodeConfChange,
  encodeEntry,
  encodeHardState,
  encodeMessage,
  encodeSnapshot,
} from '../../agent/raft/codec';
import { ConfChangeType, EntryType, type Message, MessageType } from '../../agent/raft/types';

const bytes = (...values: number[]) => Uint8Array.from(values);

describe('raft codec', () => {
  it('round-trips varints across the whole safe-integer range', () => {
    const values = [0, 1, 127, 128, 300, 2 ** 31 - 1, 2 ** 31, 2 ** 32 + 5, Number.MAX_SAFE_INTEGER];
    const w = new ByteWriter(1);
    for (const v of values) w.uint(v);
    const r = new ByteReader(w.finish());
    expect(values.map(() => r.uint())).toEqual(values);
    expect(r.done).toBe(true);
  });

  it('refuses negative or fractional integers', () => {
    expect(() => new ByteWriter().uint(-1)).toThrow(RangeError);
    expect(() => new ByteWriter().uint(1.5)).toThrow(RangeError);
  });

  it('round-trips entries, hard states, snapshots and conf changes', () => {
    const entry = { term: 7, index: 123456, type: EntryType.Normal, data: bytes(1, 2, 3) };
    expect(decodeEntry(encodeEntry(entry))).toEqual(entry);
    const hs = { term: 9, vote: 2 ** 40, commit: 77 };
    expect(decodeHardState(encodeHardState(hs))).toEqual(hs);
    const snap = { metadata: { index: 10, term: 3, confState: { voters: [1, 2], learners: [3], removed: [4] } }, data: bytes(9, 9) };
    expect(decodeSnapshot(encodeSnapshot(snap))).toEqual(snap);
    const cc = { type: ConfChangeType.AddLearner, nodeId: 5, context: new TextEncoder().encode('10.0.0.5:4242') };
    expect(decodeConfChange(encodeConfChange(cc))).toEqual(cc);
  });

  it('round-trips a message with entries and a snapshot', () => {
    const m: Message = {
      type: MessageType.App,
      from: 1,
      to: 2,
      term: 5,
      logTerm: 4,
      index: 99,
      commit: 98,
      reject: true,
      rejectHint: 50,
      context: bytes(42),
      entries: [
        { term: 5, index: 100, type: EntryType.Normal, data: bytes(1) },
        { term: 5, index: 101, type: EntryType.ConfChange, data: bytes() },
      ],
      snapshot: { metadata: { index: 1, term: 1, confState: { voters: [1], learners: [], removed: [] } }, data: bytes(5) },
    };
    expect(decodeMessage(encodeMessage(m))).toEqual(m);
  });

  it('rejects truncated, trailing and unknown data with a DecodeError', () => {
    const encoded = encodeEntry({ term: 1, index: 1, type: EntryType.Normal, data: bytes(1, 2, 3) });
    expect(() => decodeEntry(encoded.subarray(0, encoded.length - 1))).toThrow(DecodeError);
    expect(() => decodeEntry(Uint8Array.from([...encoded, 0]))).toThrow(DecodeError);
    expect(() => decodeEntry(bytes(1, 1, 9, 0))).toThrow(/entry type 9/);
    expect(() => decodeMessage(bytes(99))).toThrow(/message type 99/);
  });
});
