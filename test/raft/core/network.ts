/**
 * An in-memory, synchronous test network in the style of etcd's newNetwork: every node runs the full
 * Ready loop (persist to its MemoryStorage, send, apply, advance) and messages are delivered at once,
 * breadth first, until the cluster is quiet. Links can be cut, nodes isolated, message types ignored.
 */
import { decodeConfChange } from '../../../agent/raft/codec';
import { MemoryStorage, RawNode } from '../../../agent/raft/core';
import {
  type ConfState,
  type Entry,
  type Message,
  type NodeId,
  type RaftConfig,
  type ReadState,
  type Ready,
  type Snapshot,
  EntryType,
  MessageType,
  Role,
} from '../../../agent/raft/types';

export interface NodeOptions {
  electionTick?: number;
  heartbeatTick?: number;
  preVote?: boolean;
  checkQuorum?: boolean;
  maxSizePerMsg?: number;
  maxInflightMsgs?: number;
  maxInflightBytes?: number;
  randomInt?: (n: number) => number;
  applied?: number;
  lazyCommitNotice?: boolean;
}

export function makeConfig(id: NodeId, storage: MemoryStorage, opts: NodeOptions = {}): RaftConfig {
  return {
    id,
    electionTick: opts.electionTick ?? 10,
    heartbeatTick: opts.heartbeatTick ?? 1,
    storage,
    applied: opts.applied ?? 0,
    maxSizePerMsg: opts.maxSizePerMsg ?? Infinity,
    maxInflightMsgs: opts.maxInflightMsgs ?? 256,
    maxInflightBytes: opts.maxInflightBytes ?? 0,
    checkQuorum: opts.checkQuorum ?? false,
    preVote: opts.preVote ?? false,
    randomInt: opts.randomInt ?? (() => 0),
    lazyCommitNotice: opts.lazyCommitNotice,
  };
}

export { seededRandom } from '../../support/prng';

export function entriesOf(terms: number[], startIndex = 1): Entry[] {
  return terms.map((term, i) => ({ term, index: startIndex + i, type: EntryType.Normal, data: new Uint8Array(0) }));
}

/**
 * Storage bootstrapped like the runner does it: a snapshot at index 1 (term 1) naming the voters, so
 * members added later learn the initial membership from that snapshot.
 */
export function bootstrapStorage(voters: NodeId[]): MemoryStorage {
  const storage = new MemoryStorage();
  storage.applySnapshot({ metadata: { index: 1, term: 1, confState: { voters, learners: [], removed: [] } }, data: new Uint8Array(0) });
  storage.setHardState({ term: 1, vote: 0, commit: 1 });
  return storage;
}

export const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
export const text = (b: Uint8Array): string => new TextDecoder().decode(b);

/** One member: a RawNode, its durable storage, and what its state machine has applied. */
export class TestNode {
  node: RawNode;
  /** Every committed entry applied, in order (including empty and conf change entries). */
  readonly applied: Entry[] = [];
  readonly readStates: ReadState[] = [];
  readonly snapshotsApplied: Snapshot[] = [];
  /** Every Ready handed out, for ordering assertions. */
  readonly readies: Ready[] = [];
  confState: ConfState;
  /** When false, drain() leaves Readies alone (a node whose runner is stalled). */
  running = true;

  constructor(
    readonly id: NodeId,
    readonly storage: MemoryStorage,
    readonly opts: NodeOptions = {},
  ) {
    this.node = new RawNode(makeConfig(id, storage, opts));
    this.confState = storage.initialState().confState;
  }

  /** Runs the Ready loop until there is nothing left; returns the messages to send. */
  drain(): Message[] {
    const out: Message[] = [];
    while (this.running && this.node.hasReady()) {
      const rd = this.node.ready();
      this.readies.push(rd);
      if (rd.snapshot) this.storage.applySnapshot(rd.snapshot);
      if (rd.entries.length > 0) this.storage.append(rd.entries);
      if (rd.hardState) this.storage.setHardState(rd.hardState);
      for (const m of rd.messages) out.push(m);
      if (rd.snapshot) {
        this.snapshotsApplied.push(rd.snapshot);
        this.confState = rd.snapshot.metadata.confState;
      }
      for (const e of rd.committedEntries) {
        this.applied.push(e);
        if (e.type === EntryType.ConfChange) this.confState = this.node.applyConfChange(decodeConfChange(e.data));
      }
      for (const rs of rd.readStates) this.readStates.push(rs);
      this.node.advance(rd);
    }
    return out;
  }

  /** Index of the last entry applied (or of the last snapshot applied). */
  appliedIndex(): number {
    const lastEntry = this.applied.length > 0 ? this.applied[this.applied.length - 1].index : 0;
    const lastSnap = this.snapshotsApplied.length > 0 ? this.snapshotsApplied[this.snapshotsApplied.length - 1].metadata.index : 0;
    return Math.max(lastEntry, lastSnap, this.storage.firstIndex() - 1);
  }

  /** Simulates a crash and restart: a new RawNode over the same (durable) storage. */
  restart(opts: NodeOptions = this.opts): void {
    this.node = new RawNode(makeConfig(this.id, this.storage, { ...opts, applied: this.appliedIndex() }));
  }

  /** Normal (non-empty) payloads applied, as strings. */
  appliedData(): string[] {
    return this.applied.filter((e) => e.type === EntryType.Normal && e.data.length > 0).map((e) => text(e.data));
  }

  /** The full log (stable), as terms. */
  logTerms(): number[] {
    const terms: number[] = [];
    for (let i = this.storage.firstIndex(); i <= this.storage.lastIndex(); i++) terms.push(this.storage.term(i));
    return terms;
  }

  get status() {
    return this.node.status();
  }
}

export class Network {
  readonly nodes = new Map<NodeId, TestNode>();
  private readonly cuts = new Set<string>();
  private readonly isolated = new Set<NodeId>();
  private readonly ignored = new Set<MessageType>();
  /** Extra filter: return false to drop a message. */
  filter: ((m: Message) => boolean) | undefined;
  /** Every message handed to the network (delivered or not). */
  readonly sent: Message[] = [];
  readonly dropped: Message[] = [];

  /** A cluster of `ids` (all voters) sharing the same options. */
  static create(ids: NodeId[], opts: NodeOptions = {}, bootstrap = false): Network {
    const net = new Network();
    for (const id of ids) net.add(new TestNode(id, bootstrap ? bootstrapStorage(ids) : new MemoryStorage({ voters: ids }), opts));
    return net;
  }

  add(node: TestNode): TestNode {
    this.nodes.set(node.id, node);
    return node;
  }

  node(id: NodeId): TestNode {
    const n = this.nodes.get(id);
    if (!n) throw new Error(`no node ${id}`);
    return n;
  }

  private linkKey(from: NodeId, to: NodeId): string {
    return `${from}->${to}`;
  }

  cut(a: NodeId, b: NodeId): void {
    this.cuts.add(this.linkKey(a, b));
    this.cuts.add(this.linkKey(b, a));
  }

  isolate(id: NodeId): void {
    this.isolated.add(id);
  }

  ignore(type: MessageType): void {
    this.ignored.add(type);
  }

  recover(): void {
    this.cuts.clear();
    this.isolated.clear();
    this.ignored.clear();
    this.filter = undefined;
  }

  private blocked(m: Message): boolean {
    return (
      !this.nodes.has(m.to) ||
      this.isolated.has(m.from) ||
      this.isolated.has(m.to) ||
      this.cuts.has(this.linkKey(m.from, m.to)) ||
      this.ignored.has(m.type) ||
      (this.filter !== undefined && !this.filter(m))
    );
  }

  /** Delivers `msgs` and everything they cause, until the network is quiet. */
  send(msgs: Message[]): void {
    const queue = [...msgs];
    for (let i = 0; i < queue.length; i++) {
      const m = queue[i];
      this.sent.push(m);
      if (this.blocked(m)) {
        this.dropped.push(m);
        continue;
      }
      const target = this.node(m.to);
      target.node.step(m);
      for (const out of target.drain()) queue.push(out);
    }
  }

  /** Drains every node (or the given ones) and delivers what they send. */
  flush(...ids: NodeId[]): void {
    const which = ids.length > 0 ? ids : [...this.nodes.keys()];
    const msgs: Message[] = [];
    for (const id of which) for (const m of this.node(id).drain()) msgs.push(m);
    this.send(msgs);
  }

  tick(id: NodeId, times = 1): void {
    for (let i = 0; i < times; i++) {
      this.node(id).node.tick();
      this.flush(id);
    }
  }

  /** Ticks every node once per round. */
  tickAll(rounds = 1): void {
    for (let r = 0; r < rounds; r++) {
      for (const n of this.nodes.values()) n.node.tick();
      this.flush();
    }
  }

  campaign(id: NodeId): void {
    this.node(id).node.campaign();
    this.flush(id);
  }

  propose(id: NodeId, data: string | Uint8Array): void {
    this.node(id).node.propose(typeof data === 'string' ? bytes(data) : data);
    this.flush(id);
  }

  leader(): TestNode | undefined {
    for (const n of this.nodes.values()) if (n.node.status().role === Role.Leader) return n;
    return undefined;
  }

  /** Count of sent messages of a type (optionally only those from/to a node). */
  count(type: MessageType, filter: { from?: NodeId; to?: NodeId } = {}): number {
    return this.sent.filter((m) => m.type === type && (filter.from === undefined || m.from === filter.from) && (filter.to === undefined || m.to === filter.to)).length;
  }
}

/** A message with zero values except what's given. */
export function msg(fields: Partial<Message> & { type: MessageType }): Message {
  return {
    from: 0,
    to: 0,
    term: 0,
    logTerm: 0,
    index: 0,
    entries: [],
    commit: 0,
    reject: false,
    rejectHint: 0,
    context: new Uint8Array(0),
    ...fields,
  };
}
