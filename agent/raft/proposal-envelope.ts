/**
 * Every normal entry the runner proposes carries who proposed it, so the proposing member can hand the
 * state machine's result back to the caller that is waiting. `incarnation` is random per process start:
 * entries proposed before a restart are re-applied on start-up and must not match new proposals.
 */
import { ByteReader, ByteWriter } from './codec';

export interface ProposalTag {
  member: number;
  incarnation: number;
  sequence: number;
}

export function wrapProposal(tag: ProposalTag, payload: Uint8Array): Uint8Array {
  const w = new ByteWriter(payload.length + 24);
  w.uint(tag.member).uint(tag.incarnation).uint(tag.sequence).bytes(payload);
  return w.finish();
}

export function unwrapProposal(data: Uint8Array): { tag: ProposalTag; payload: Uint8Array } {
  const r = new ByteReader(data);
  const tag = { member: r.uint(), incarnation: r.uint(), sequence: r.uint() };
  const payload = r.bytes();
  r.expectEnd();
  return { tag, payload };
}
