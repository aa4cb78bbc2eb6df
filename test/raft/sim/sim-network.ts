/**
 * The simulated network: every message is encoded and decoded (so members never share objects), then
 * dropped, duplicated or delayed at random, and never crosses a partition. Random delays reorder.
 */
import { decodeMessage, encodeMessage } from '../../../agent/raft/codec';
import type { RaftTransport, TransportEvents } from '../../../agent/raft/transport/transport';
import type { Message, NodeId } from '../../../agent/raft/types';
import type { Prng } from './prng';
import type { VirtualScheduler } from './virtual-scheduler';

export interface NetworkFaults {
  dropRate: number;
  duplicateRate: number;
  minDelayMs: number;
  maxDelayMs: number;
}

export class SimNetwork {
  private readonly endpoints = new Map<NodeId, SimTransport>();
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

  transport(id: NodeId): SimTransport {
    const transport = new SimTransport(id, this);
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

  /** @internal */
  send(message: Message): boolean {
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

  /** @internal */
  detach(id: NodeId, transport: SimTransport): void {
    if (this.endpoints.get(id) === transport) this.endpoints.delete(id);
  }
}

export class SimTransport implements RaftTransport {
  private events: TransportEvents | undefined;

  constructor(
    readonly id: NodeId,
    private readonly network: SimNetwork,
  ) {}

  async start(events: TransportEvents): Promise<void> {
    this.events = events;
  }

  send(messages: Message[]): void {
    for (const message of messages) {
      const sent = this.network.send(message);
      if (message.snapshot) this.events?.onSnapshotStatus(message.to, sent);
      if (!sent) this.events?.onUnreachable(message.to);
    }
  }

  setPeer(): void {}

  removePeer(): void {}

  receive(message: Message): void {
    this.events?.onMessage(message);
  }

  async stop(): Promise<void> {
    this.events = undefined;
    this.network.detach(this.id, this);
  }
}
