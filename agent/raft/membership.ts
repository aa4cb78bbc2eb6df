/**
 * The member list the runner keeps beside raft's ConfState: raft knows ids, the transport needs
 * addresses. It travels inside every snapshot so a member restored from one can reach its peers.
 */
import { ByteReader, ByteWriter } from './codec';
import type { NodeId } from './types';

export type MemberAddresses = Map<NodeId, string>;

export function encodeSnapshotEnvelope(members: MemberAddresses, state: Uint8Array): Uint8Array {
  const w = new ByteWriter(state.length + 64 * members.size + 16);
  w.uint(members.size);
  const utf8 = new TextEncoder();
  for (const [id, address] of members) w.uint(id).bytes(utf8.encode(address));
  w.bytes(state);
  return w.finish();
}

export function decodeSnapshotEnvelope(data: Uint8Array): { members: MemberAddresses; state: Uint8Array } {
  const members: MemberAddresses = new Map();
  if (data.length === 0) return { members, state: data };
  const r = new ByteReader(data);
  const count = r.uint();
  const utf8 = new TextDecoder();
  for (let i = 0; i < count; i++) members.set(r.uint(), utf8.decode(r.bytes()));
  const state = r.bytes();
  r.expectEnd();
  return { members, state };
}
