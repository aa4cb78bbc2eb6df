import type { Message, NodeId } from '../types';
import type { RaftTransport, TransportEvents } from './transport';

/** Where an in-process transport hands its messages: a network that may delay, drop or cut them. */
export interface InProcessNetwork {
  /** Takes a message for delivery; false when it is certainly lost (a cut link, no such member). */
  deliver(message: Message): boolean;
  /** The member's transport stopped. */
  forget(id: NodeId, transport: MemoryRaftTransport): void;
}

/**
 * An in-process network for tests: each member gets a transport, delivery is asynchronous (a macrotask
 * later, like a socket), and links can be cut to model partitions.
 */
export class MemoryRaftNetwork implements InProcessNetwork {
  private readonly members = new Map<NodeId, MemoryRaftTransport>();
  private readonly cut = new Set<string>();

  transport(id: NodeId): MemoryRaftTransport {
    const transport = new MemoryRaftTransport(id, this);
    this.members.set(id, transport);
    return transport;
  }

  /** Cut both directions between a and b. */
  disconnect(a: NodeId, b: NodeId): void {
    this.cut.add(`${a}-${b}`).add(`${b}-${a}`);
  }

  /** Cut every link between `id` and everyone else. */
  isolate(id: NodeId): void {
    for (const other of this.members.keys()) if (other !== id) this.disconnect(id, other);
  }

  heal(): void {
    this.cut.clear();
  }

  /** @internal */
  deliver(message: Message): boolean {
    if (this.cut.has(`${message.from}-${message.to}`)) return false;
    const target = this.members.get(message.to);
    if (!target) return false;
    setImmediate(() => target.receive(message));
    return true;
  }

  /** @internal */
  forget(id: NodeId, transport: MemoryRaftTransport): void {
    if (this.members.get(id) === transport) this.members.delete(id);
  }
}

export class MemoryRaftTransport implements RaftTransport {
  private events: TransportEvents | undefined;

  constructor(
    readonly id: NodeId,
    private readonly network: InProcessNetwork,
  ) {}

  async start(events: TransportEvents): Promise<void> {
    this.events = events;
  }

  send(messages: Message[]): void {
    for (const message of messages) {
      const delivered = this.network.deliver(message);
      if (message.snapshot) this.events?.onSnapshotStatus(message.to, delivered);
      if (!delivered) this.events?.onUnreachable(message.to);
    }
  }

  setPeer(): void {}

  removePeer(): void {}

  /** Hands a message that arrived over the network to the raft member. */
  receive(message: Message): void {
    this.events?.onMessage(message);
  }

  async stop(): Promise<void> {
    this.events = undefined;
    this.network.forget(this.id, this);
  }
}
