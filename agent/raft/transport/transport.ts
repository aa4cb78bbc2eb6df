import type { Message, NodeId } from '../types';

/** What a transport reports back to the runner that owns it. */
export interface TransportEvents {
  onMessage(message: Message): void;
  /** A send to `peer` failed; raft slows down to probing that follower. */
  onUnreachable(peer: NodeId): void;
  /** A snapshot sent to `peer` was received whole (ok) or lost (not ok). */
  onSnapshotStatus(peer: NodeId, ok: boolean): void;
}

/**
 * Moves raft messages between members. Sending never blocks and never throws: raft tolerates lost
 * messages, so a transport drops what it cannot deliver and says so through onUnreachable.
 */
export interface RaftTransport {
  start(events: TransportEvents): Promise<void>;
  send(messages: Message[]): void;
  setPeer(id: NodeId, address: string): void;
  removePeer(id: NodeId): void;
  stop(): Promise<void>;
}
