/**
 * ReadIndex bookkeeping on the leader (etcd's readOnly, ReadOnlySafe mode, thesis §6.4): each request
 * records the commit index at arrival, then waits until a quorum answers a heartbeat that carries its
 * context. A quorum ack for a request also confirms every request queued before it.
 */
import type { Message, NodeId } from '../types';
import { bytesKey } from './util';

export interface ReadIndexStatus {
  request: Message;
  index: number;
  acks: Set<NodeId>;
}

export class ReadOnly {
  private readonly pending = new Map<string, ReadIndexStatus>();
  private queue: string[] = [];

  get size(): number {
    return this.queue.length;
  }

  /** Queues a request at commit index `index`. A duplicate context is ignored while the first is pending. */
  addRequest(index: number, request: Message): void {
    const key = bytesKey(request.context);
    if (this.pending.has(key)) return;
    this.pending.set(key, { request, index, acks: new Set() });
    this.queue.push(key);
  }

  /** Records a heartbeat ack for `context`; returns who has acked it so far, or undefined if unknown. */
  recvAck(from: NodeId, context: Uint8Array): Set<NodeId> | undefined {
    const status = this.pending.get(bytesKey(context));
    if (!status) return undefined;
    status.acks.add(from);
    return status.acks;
  }

  /** Removes and returns the request for `context` and all requests queued before it. */
  advance(context: Uint8Array): ReadIndexStatus[] {
    const key = bytesKey(context);
    const at = this.queue.indexOf(key);
    if (at < 0) return [];
    const done = this.queue.slice(0, at + 1);
    this.queue = this.queue.slice(at + 1);
    const out: ReadIndexStatus[] = [];
    for (const k of done) {
      const status = this.pending.get(k);
      if (status) out.push(status);
      this.pending.delete(k);
    }
    return out;
  }

  /** Context of the newest pending request: heartbeats carry it so one round confirms them all. */
  lastPendingContext(): Uint8Array | undefined {
    if (this.queue.length === 0) return undefined;
    return this.pending.get(this.queue[this.queue.length - 1])?.request.context;
  }
}
