/**
 * The simulated network: every message is encoded and decoded (so members never share objects), then
 * dropped, duplicated or delayed at random, and never crosses a partition. Random delays reorder.
 */
import { decodeMessage, encodeMessage } from '../../../agent/raft/codec';
import { type InProcessNetwork, MemoryRaftTransport } from '../../../agent/raft/transport/memory-transport';
import type { Message, NodeId } from '../../../agent/raft/types';
import type { Prng } from '../../support/prng';
import type { VirtualScheduler } from './virtual-scheduler';

export interface NetworkFaults {
  dropRate: number;
  duplicateRate: number;
  minDelayMs: number;
  maxDelayMs: number;
}

export class SimNetwork implements InProcessNetwork {
  private readonly endpoints = new Map<NodeId, MemoryRaftTransport>();
  /** Members in different groups cannot talk; an empty map means no partition. */
  private group = new Map<NodeId, number>();
  faults: NetworkFaults;
  delivered = 0;
  dropped = 0;

  constructor(
    private readonly scheduler: VirtualScheduler,
    private readonly random: Prng,
    faults: NetworkFaults,
  ) {
    this.faults = faults;
  }

  transport(id: NodeId): MemoryRaftTransport {
    const transport = new MemoryRaftTransport(id, this);
    this.endpoints.set(id, transport);
    return transport;
  }

  partition(groups: NodeId[][]): void {
    this.group = new Map();
    groups.forEach((members, g) => members.forEach((id) => this.group.set(id, g)));
  }

  heal(): void {
    this.group = new Map();
  }

  get partitioned(): boolean {
    return this.group.size > 0;
  }

  canTalk(a: NodeId, b: NodeId): boolean {
    if (this.group.size === 0) return true;
    return (this.group.get(a) ?? -1) === (this.group.get(b) ?? -1);
  }

  deliver(message: Message): boolean {
    if (!this.canTalk(message.from, message.to) || this.random.chance(this.faults.dropRate)) {
      this.dropped++;
      return false;
    }
    const bytes = encodeMessage(message);
    const copies = this.random.chance(this.faults.duplicateRate) ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      const delay = this.random.between(this.faults.minDelayMs, this.faults.maxDelayMs);
      this.scheduler.after(delay, () => {
        // A partition that starts while the message is in flight catches it too.
        if (!this.canTalk(message.from, message.to)) {
          this.dropped++;
          return;
        }
        const target = this.endpoints.get(message.to);
        if (!target) return;
        this.delivered++;
        target.receive(decodeMessage(bytes));
      });
    }
    return true;
  }

  forget(id: NodeId, transport: MemoryRaftTransport): void {
    if (this.endpoints.get(id) === transport) this.endpoints.delete(id);
  }
}
