/**
 * Drives one raft member: owns the clock (ticks), the durable log, the transport and the state machine,
 * and feeds the pure core (RawNode) with what happens. One processing loop at a time: take a Ready,
 * make it durable, send its messages, apply its committed entries, advance.
 */
import { randomInt } from 'node:crypto';
import { decodeConfChange } from './codec';
import { MemoryStorage, RawNode } from './core';
import { RaftError } from './errors';
import { forceNewClusterState } from './force-new-cluster';
import { decodeSnapshotEnvelope, encodeSnapshotEnvelope, type MemberAddresses } from './membership';
import { unwrapProposal, wrapProposal } from './proposal-envelope';
import type { Proposer, SnapshotEncoder, SnapshotSlice, StateMachine } from './state-machine';
import { realScheduler, type Scheduler, type TimerHandle } from './scheduler';
import type { RaftTransport } from './transport/transport';
import {
  type ConfChange,
  ConfChangeType,
  type ConfState,
  DEFAULT_ELECTION_TICK,
  DEFAULT_HEARTBEAT_TICK,
  DEFAULT_TICK_MS,
  type Entry,
  EntryType,
  type HardState,
  type Message,
  MessageType,
  type NodeId,
  NONE,
  ProposalDroppedError,
  type RaftLogger,
  type Ready,
  Role,
  type Snapshot,
} from './types';

/** The durable side of a member, as the runner needs it (DurableRaftStorage implements it). */
export interface DurableLog {
  save(update: { hardState?: HardState; entries: Entry[]; snapshot?: Snapshot; mustSync: boolean }): Promise<void>;
  saveSnapshot(snapshot: Snapshot): Promise<void>;
  close(): Promise<void>;
}

/** What a member found on disk when it started (DurableRaftStorage.open's state). */
export interface RestoredState {
  /** All zero when nothing was ever saved. */
  hardState: HardState;
  snapshot: Snapshot | undefined;
  entries: Entry[];
}

export interface RaftRunnerOptions {
  id: NodeId;
  /** Where peers reach this member. */
  address: string;
  durable: DurableLog;
  restored: RestoredState;
  transport: RaftTransport;
  stateMachine: StateMachine;
  /**
   * Start a new cluster (ignored when state was restored): its voters are this member and `peers`,
   * and every founding member must be started with the same list.
   */
  bootstrap?: boolean;
  /** Peers to reach before any snapshot names them (a joining member knows who it joined through). */
  peers?: MemberAddresses;
  /**
   * Restart from this member's own state as the only voter of its cluster (recovery after losing
   * quorum); see force-new-cluster.ts. Ignored for a member with no state.
   */
  forceNewCluster?: boolean;
  /** Sees every committed entry as it is applied here (monitoring and the simulator's checks). */
  onEntryApplied?: (entry: Entry) => void;
  /** See RaftConfig.lazyCommitNotice; default true. */
  lazyCommitNotice?: boolean;
  tickMs?: number;
  electionTick?: number;
  heartbeatTick?: number;
  /** Applied entries between two snapshots. */
  snapshotEvery?: number;
  /** Applied entry bytes between two snapshots, whichever of the two comes first (default 256 MiB). */
  snapshotEveryBytes?: number;
  /** Entries kept behind a snapshot so slightly slow followers catch up without one. */
  entriesKeptAfterSnapshot?: number;
  /** ...but no more bytes of them than this (default 16 MiB): the log lives in memory. */
  keptBytesAfterSnapshot?: number;
  proposalTimeoutMs?: number;
  maxSizePerMsg?: number;
  maxInflightMsgs?: number;
  maxInflightBytes?: number;
  logger?: RaftLogger;
  random?: (n: number) => number;
  /** Timers and deferral; the simulator injects a virtual one. */
  scheduler?: Scheduler;
}

interface Waiter<T> {
  resolve(value: T): void;
  reject(error: Error): void;
  cleanup(): void;
}

export interface RunnerStatus {
  id: NodeId;
  leaderId: NodeId;
  role: Role;
  term: number;
  commit: number;
  applied: number;
  voters: NodeId[];
  learners: NodeId[];
  members: MemberAddresses;
  /** Index of the last snapshot, and the first entry still in the (in-memory) log behind it. */
  snapshotIndex: number;
  firstIndex: number;
  /** Replication progress of every member, on the leader only (match index, recently heard from). */
  progress?: ReadonlyMap<NodeId, { match: number; recentActive: boolean }>;
}

type LeaderListener = (leaderId: NodeId, term: number) => void;

const silentLogger: RaftLogger = { debug() {}, info() {}, warn() {} };

/** Milliseconds of applying committed entries after which the runner yields before the next one. */
const APPLY_SLICE_MS = 10;
/** Milliseconds of encoding a snapshot between two yields. */
const SNAPSHOT_SLICE_MS = 10;

/**
 * A snapshot captured at `index` and being encoded beside the pipeline; the pipeline saves it (and
 * compacts the log) once `data` is there. Members and conf state are those of the same index.
 */
interface SnapshotJob {
  index: number;
  bytesCovered: number;
  members: MemberAddresses;
  confState: ConfState;
  data?: Uint8Array;
  error?: Error;
}

export class RaftRunner implements Proposer {
  readonly id: NodeId;
  private readonly node: RawNode;
  private readonly log: MemoryStorage;
  private readonly members: MemberAddresses;
  private confState: ConfState;
  private applied: number;
  /** The hard state last written to disk (commit-only changes are not written). */
  private persistedHardState: HardState | undefined;
  private snapshotIndex: number;
  /** Bytes of entry data applied since the last snapshot (one of the two snapshot triggers). */
  private appliedBytesSinceSnapshot = 0;
  private snapshotJob: SnapshotJob | undefined;
  /** When a message from each peer last arrived (scheduler time): who is reachable, for status(). */
  private readonly lastHeard = new Map<NodeId, number>();
  private leaderId: NodeId = NONE;
  private role: Role = Role.Follower;
  private readonly incarnation: number;
  private sequence = 0;
  private readonly proposals = new Map<number, Waiter<unknown>>();
  private readonly confChanges = new Map<string, Waiter<ConfState>>();
  private readonly reads = new Map<string, Waiter<void>>();
  private readonly readyReads: { index: number; waiter: Waiter<void> }[] = [];
  private readonly leaderListeners = new Set<LeaderListener>();
  private readonly removedListeners = new Set<() => void>();
  private ticker: TimerHandle | undefined;
  private readonly scheduler: Scheduler;
  private scheduled = false;
  private processing: Promise<void> | undefined;
  private stopped = false;
  private fatal: Error | undefined;
  private readonly logger: RaftLogger;
  private readonly options: Required<
    Pick<
      RaftRunnerOptions,
      'tickMs' | 'snapshotEvery' | 'snapshotEveryBytes' | 'entriesKeptAfterSnapshot' | 'keptBytesAfterSnapshot' | 'proposalTimeoutMs' | 'electionTick'
    >
  >;

  private constructor(
    private readonly opts: RaftRunnerOptions,
    state: { log: MemoryStorage; members: MemberAddresses; confState: ConfState; snapshotIndex: number },
  ) {
    this.id = opts.id;
    this.log = state.log;
    this.members = state.members;
    this.confState = state.confState;
    this.snapshotIndex = state.snapshotIndex;
    this.applied = state.snapshotIndex;
    this.persistedHardState = state.log.initialState().hardState;
    this.logger = opts.logger ?? silentLogger;
    this.scheduler = opts.scheduler ?? realScheduler;
    const random = opts.random ?? ((n: number) => randomInt(n));
    this.incarnation = random(2 ** 31);
    this.options = {
      tickMs: opts.tickMs ?? DEFAULT_TICK_MS,
      electionTick: opts.electionTick ?? DEFAULT_ELECTION_TICK,
      snapshotEvery: opts.snapshotEvery ?? 10_000,
      // Counted in entries alone, the log could hold 10,000 entries of up to ~220 KB each in memory;
      // bytes bound it as well. Not lower: a store of 30,000 tasks takes ≈ 0.5 s of CPU to encode
      // (in slices, but still work every manager repeats) and is written whole.
      snapshotEveryBytes: opts.snapshotEveryBytes ?? 256 * 1024 * 1024,
      entriesKeptAfterSnapshot: opts.entriesKeptAfterSnapshot ?? 5_000,
      keptBytesAfterSnapshot: opts.keptBytesAfterSnapshot ?? 16 * 1024 * 1024,
      proposalTimeoutMs: opts.proposalTimeoutMs ?? 20_000,
    };
    this.node = new RawNode({
      id: opts.id,
      electionTick: this.options.electionTick,
      heartbeatTick: opts.heartbeatTick ?? DEFAULT_HEARTBEAT_TICK,
      storage: this.log,
      applied: state.snapshotIndex,
      maxSizePerMsg: opts.maxSizePerMsg ?? 1024 * 1024,
      maxInflightMsgs: opts.maxInflightMsgs ?? 256,
      // Well under the transport's 32 MiB queue, so raft's own flow control holds a slow follower back
      // before the transport has to drop anything (which made the leader re-send, and re-encode, all of it).
      maxInflightBytes: opts.maxInflightBytes ?? 8 * 1024 * 1024,
      checkQuorum: true,
      preVote: true,
      // Followers apply up to a heartbeat later, and each write costs half the messages (see RaftConfig).
      lazyCommitNotice: opts.lazyCommitNotice ?? true,
      randomInt: random,
      logger: opts.logger,
    });
  }

  /** Restores (or bootstraps) a member and starts its clock and transport. */
  static async start(opts: RaftRunnerOptions): Promise<RaftRunner> {
    const members: MemberAddresses = new Map(opts.peers ?? []);
    const restored = opts.restored;
    const fresh = !restored.snapshot && restored.hardState.term === 0 && restored.entries.length === 0;
    let snapshot = restored.snapshot;
    let hardState = restored.hardState;
    let entries = restored.entries;
    if (fresh && opts.bootstrap) {
      ({ snapshot, hardState } = bootstrapState(opts, members));
      await opts.durable.save({ hardState, entries: [], snapshot, mustSync: true });
    } else if (!fresh && opts.forceNewCluster) {
      ({ snapshot, hardState } = forceNewClusterState(opts.id, opts.address, restored, opts.stateMachine));
      await opts.durable.save({ hardState, entries: [], snapshot, mustSync: true });
      entries = [];
      members.clear();
    }
    const log = new MemoryStorage();
    let confState: ConfState = { voters: [], learners: [], removed: [] };
    let snapshotIndex = 0;
    if (snapshot) {
      log.applySnapshot(snapshot);
      const envelope = decodeSnapshotEnvelope(snapshot.data);
      for (const [id, address] of envelope.members) members.set(id, address);
      opts.stateMachine.restore(envelope.state, snapshot.metadata.index);
      confState = snapshot.metadata.confState;
      snapshotIndex = snapshot.metadata.index;
      // Commit-only changes are not written (see handleReady), so the stored commit may be older than
      // the snapshot; a snapshot only ever holds committed entries, so its index is a known commit.
      if (hardState.commit < snapshotIndex) hardState = { ...hardState, commit: snapshotIndex };
    } else {
      opts.stateMachine.restore(new Uint8Array(0), 0);
    }
    const unapplied = entries.filter((e) => e.index > snapshotIndex);
    if (unapplied.length > 0) log.append(unapplied);
    if (hardState.term > 0) log.setHardState(hardState);

    const runner = new RaftRunner(opts, { log, members, confState, snapshotIndex });
    await runner.startIo();
    return runner;
  }

  private async startIo(): Promise<void> {
    await this.opts.transport.start({
      onMessage: (message) => this.onMessage(message),
      onUnreachable: (peer) => {
        if (this.stopped) return;
        this.node.reportUnreachable(peer);
      },
      onSnapshotStatus: (peer, ok) => {
        if (this.stopped) return;
        this.node.reportSnapshot(peer, ok);
        this.schedule();
      },
    });
    this.syncPeers();
    this.ticker = this.scheduler.every(this.options.tickMs, () => {
      this.node.tick();
      this.schedule();
    });
    this.schedule();
  }

  // ---- public API -------------------------------------------------------------------------------

  propose(data: Uint8Array, signal?: AbortSignal): Promise<unknown> {
    const failure = this.refusal();
    if (failure) return Promise.reject(failure);
    const sequence = ++this.sequence;
    return new Promise<unknown>((resolve, reject) => {
      const waiter = this.waiter(this.proposals, sequence, resolve, reject, signal, 'proposal');
      try {
        this.node.propose(wrapProposal({ member: this.id, incarnation: this.incarnation, sequence }, data));
      } catch (error) {
        waiter.cleanup();
        reject(this.unavailable(error));
        return;
      }
      this.schedule();
    });
  }

  linearizableBarrier(signal?: AbortSignal): Promise<void> {
    const failure = this.refusal();
    if (failure) return Promise.reject(failure);
    if (this.leaderId === NONE) return Promise.reject(new RaftError('Unavailable', 'no raft leader is known', 'not-applied'));
    const key = `${this.incarnation}:${++this.sequence}`;
    return new Promise<void>((resolve, reject) => {
      this.waiter(this.reads, key, resolve, reject, signal, 'linearizable read');
      this.node.readIndex(new TextEncoder().encode(key));
      this.schedule();
    });
  }

  /** Adds a member as a learner: it receives the log but does not vote until promoted. */
  addLearner(id: NodeId, address: string, signal?: AbortSignal): Promise<ConfState> {
    return this.changeMembership({ type: ConfChangeType.AddLearner, nodeId: id, context: new TextEncoder().encode(address) }, signal);
  }

  promoteLearner(id: NodeId, signal?: AbortSignal): Promise<ConfState> {
    return this.changeMembership({ type: ConfChangeType.PromoteLearner, nodeId: id, context: new Uint8Array(0) }, signal);
  }

  removeMember(id: NodeId, signal?: AbortSignal): Promise<ConfState> {
    return this.changeMembership({ type: ConfChangeType.RemoveNode, nodeId: id, context: new Uint8Array(0) }, signal);
  }

  /** Hands leadership to `to` and resolves once this member sees it lead (or rejects on timeout). */
  transferLeadership(to: NodeId, timeoutMs = this.options.tickMs * this.options.electionTick * 3): Promise<void> {
    const failure = this.refusal();
    if (failure) return Promise.reject(failure);
    if (this.leaderId === to) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const timer = this.scheduler.after(timeoutMs, () => {
        this.leaderListeners.delete(listener);
        reject(new RaftError('DeadlineExceeded', `leadership did not move to member ${to} in ${timeoutMs} ms`));
      });
      const listener: LeaderListener = (leader) => {
        if (leader !== to) return;
        timer.cancel();
        this.leaderListeners.delete(listener);
        resolve();
      };
      this.leaderListeners.add(listener);
      this.node.transferLeadership(to);
      this.schedule();
    });
  }

  onLeaderChange(listener: LeaderListener): () => void {
    this.leaderListeners.add(listener);
    return () => this.leaderListeners.delete(listener);
  }

  /** Called once if this member is removed from the cluster; it stops acting by itself. */
  onRemoved(listener: () => void): () => void {
    this.removedListeners.add(listener);
    return () => this.removedListeners.delete(listener);
  }

  /** Term, commit, leader and role right now (cheap; status() has the rest). */
  raftState(): { term: number; commit: number; lead: NodeId; role: Role } {
    return this.node.basicStatus();
  }

  /** The in-memory log the core reads (for the simulator's log-matching checks). */
  logStorage(): MemoryStorage {
    return this.log;
  }

  get isLeader(): boolean {
    return this.role === Role.Leader;
  }

  status(): RunnerStatus {
    const s = this.node.status();
    return {
      id: this.id,
      leaderId: s.lead,
      role: s.role,
      term: s.term,
      commit: s.commit,
      applied: this.applied,
      voters: [...this.confState.voters],
      learners: [...this.confState.learners],
      members: new Map(this.members),
      snapshotIndex: this.snapshotIndex,
      firstIndex: this.log.firstIndex(),
      // The core's recentActive is cleared at every quorum check and set again by the next answer, so
      // read alone it reports a healthy member unreachable for a moment each election timeout (a
      // demotion refused for want of quorum, a manager flickering to unreachable in `node ls`).
      progress: s.progress && new Map([...s.progress].map(([id, p]) => [id, { match: p.match, recentActive: p.recentActive || this.heardRecently(id) }])),
    };
  }

  /** Whether `peer` was heard from within the last election timeout. */
  private heardRecently(peer: NodeId): boolean {
    const at = this.lastHeard.get(peer);
    return at !== undefined && this.scheduler.now() - at <= this.options.electionTick * this.options.tickMs;
  }

  /**
   * Stops at once, as a crash would: no more ticks, sends or applies, and nothing is flushed or closed.
   * The simulator uses it before it drops the member's unsynced writes.
   */
  halt(): void {
    this.stopped = true;
    this.ticker?.cancel();
    this.failAll(new RaftError('Unavailable', 'raft member halted'));
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.ticker?.cancel();
    await this.processing;
    this.failAll(new RaftError('Unavailable', 'raft member is stopping'));
    await this.opts.transport.stop();
    await this.opts.durable.close();
  }

  // ---- the loop ---------------------------------------------------------------------------------

  private onMessage(message: Message): void {
    if (this.stopped) return;
    // Local-only message types never come from the network.
    if (message.type === MessageType.Hup || message.type === MessageType.Beat) return;
    this.lastHeard.set(message.from, this.scheduler.now());
    try {
      this.node.step(message);
    } catch (error) {
      this.logger.debug('raft message refused', { from: message.from, type: message.type, error: String(error) });
    }
    this.schedule();
  }

  /**
   * Handles what the core has ready once the code that stepped it (a message, a proposal, a tick) is
   * done: in the same turn of the event loop, not at its end. Node's HTTP/2 writes what a Ready sends
   * when the turn it was sent in ends, so handling Readies in setImmediate's check phase put every
   * App and answer one more loop iteration (and whatever I/O it polled first) later. Not a busy loop:
   * the runner makes no work for itself; it comes from I/O, timers and callers' proposals.
   */
  private schedule(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    const run = () => {
      this.scheduled = false;
      if (this.processing || this.stopped) return;
      this.processing = this.processReadies().finally(() => {
        this.processing = undefined;
        if (!this.stopped && this.hasWork()) this.schedule();
      });
    };
    if (this.scheduler.soon) this.scheduler.soon(run);
    else this.scheduler.defer(run);
  }

  /** A Ready to handle, or an encoded snapshot to save. */
  private hasWork(): boolean {
    return this.node.hasReady() || this.snapshotJob?.data !== undefined || this.snapshotJob?.error !== undefined;
  }

  private async processReadies(): Promise<void> {
    try {
      while (!this.stopped && this.hasWork()) {
        if (this.node.hasReady()) {
          const ready = this.node.ready();
          await this.handleReady(ready);
          if (this.stopped) return;
          this.node.advance(ready);
        }
        await this.saveEncodedSnapshot();
        if (this.stopped) return;
        this.startSnapshotIfDue();
      }
    } catch (error) {
      this.die(error instanceof Error ? error : new Error(String(error)));
    }
  }

  private async handleReady(ready: Ready): Promise<void> {
    const writes = this.needsWrite(ready);
    // 1. A leader's appends and heartbeats go out while its own write is in flight (Raft thesis
    //    10.2.1): the core counts the leader towards a commit only once its entries are durable, so
    //    overlapping the two disk writes is safe, and it takes one fsync off every write's latency.
    //    Everything else waits for the disk: nothing that depends on this term, vote or entry leaves
    //    before it is durable.
    const { early, late } = splitMessages(ready.messages);
    if (writes) {
      if (early.length > 0) this.opts.transport.send(early);
      await this.persist(ready);
      // A member halted (crashed, in the simulator) while the write was in flight does nothing more.
      if (this.stopped) return;
    } else if (ready.hardState) {
      // Raft needs term and vote durable, not the commit index (a restarted member learns it again
      // from the leader), so a change of commit alone costs no disk write.
      this.log.setHardState(ready.hardState);
    }
    // 2. Acknowledgements before applying, so followers answer the leader as early as they can. The
    //    transport only queues them (Node's HTTP/2 writes to the socket once this turn of the event
    //    loop ends), so with something to apply, the turn ends first: otherwise each answer waited
    //    for the apply (~30 µs for a small entry in bench:raft, up to APPLY_SLICE_MS for a batch).
    if (late.length > 0) {
      this.opts.transport.send(late);
      if (ready.committedEntries.length > 0 || ready.snapshot) {
        await new Promise<void>((resolve) => this.scheduler.defer(resolve));
        if (this.stopped) return;
      }
    }
    // 3. Apply, and answer the waiting callers.
    if (ready.snapshot) this.restoreSnapshot(ready.snapshot);
    await this.applyCommitted(ready.committedEntries);
    if (this.stopped) return;
    for (const readState of ready.readStates) this.onReadState(readState.index, new TextDecoder().decode(readState.context));
    this.releaseReads();
    if (ready.softState) this.onSoftState(ready.softState.leaderId, ready.softState.role);
    // 4. With nothing written, a leader's messages (typically the new commit index) can wait until
    //    the callers have their answers.
    if (!writes && early.length > 0) this.opts.transport.send(early);
  }

  /** Whether this Ready has anything for the disk (a change of commit alone does not count). */
  private needsWrite(ready: Ready): boolean {
    if (ready.entries.length > 0 || ready.snapshot) return true;
    const hs = ready.hardState;
    const persisted = this.persistedHardState;
    return hs !== undefined && (persisted === undefined || hs.term !== persisted.term || hs.vote !== persisted.vote);
  }

  private async persist(ready: Ready): Promise<void> {
    await this.opts.durable.save({
      hardState: ready.hardState,
      entries: ready.entries,
      snapshot: ready.snapshot,
      mustSync: ready.mustSync,
    });
    if (this.stopped) return;
    if (ready.snapshot) this.log.applySnapshot(ready.snapshot);
    if (ready.entries.length > 0) this.log.append(ready.entries);
    if (ready.hardState) {
      this.log.setHardState(ready.hardState);
      this.persistedHardState = ready.hardState;
    }
  }

  private restoreSnapshot(snapshot: Snapshot): void {
    const envelope = decodeSnapshotEnvelope(snapshot.data);
    this.members.clear();
    for (const [id, address] of envelope.members) this.members.set(id, address);
    this.opts.stateMachine.restore(envelope.state, snapshot.metadata.index);
    this.confState = snapshot.metadata.confState;
    this.applied = snapshot.metadata.index;
    this.snapshotIndex = snapshot.metadata.index;
    this.appliedBytesSinceSnapshot = 0;
    this.syncPeers();
  }

  /**
   * Applies entries in order, handing the event loop back between two of them once APPLY_SLICE_MS
   * have been spent: a follower catching up, or a leader whose commit covers several store batches,
   * would otherwise apply them all in one stretch while heartbeats and (in the desktop app) the UI
   * wait. Ticks and messages arriving meanwhile only step the core, as during a disk write.
   */
  private async applyCommitted(entries: readonly Entry[]): Promise<void> {
    let sliceStart = this.scheduler.now();
    for (const [i, entry] of entries.entries()) {
      if (i > 0 && this.scheduler.now() - sliceStart >= APPLY_SLICE_MS) {
        await new Promise<void>((resolve) => this.scheduler.defer(resolve));
        if (this.stopped) return;
        sliceStart = this.scheduler.now();
      }
      this.applyEntry(entry);
    }
  }

  private applyEntry(entry: Entry): void {
    if (entry.index <= this.applied) return;
    this.applied = entry.index;
    this.appliedBytesSinceSnapshot += entry.data.length;
    this.opts.onEntryApplied?.(entry);
    if (entry.type === EntryType.ConfChange) {
      this.applyConfChange(decodeConfChange(entry.data));
      return;
    }
    if (entry.data.length === 0) return; // a new leader's empty entry
    const { tag, payload } = unwrapProposal(entry.data);
    let result: unknown;
    let failure: Error | undefined;
    try {
      result = this.opts.stateMachine.apply(payload, entry.index);
    } catch (error) {
      // The state machine must be deterministic, so a throw happens on every member alike; it fails
      // this proposal without stopping the member.
      failure = error instanceof Error ? error : new Error(String(error));
    }
    if (tag.member !== this.id || tag.incarnation !== this.incarnation) return;
    const waiter = this.proposals.get(tag.sequence);
    if (!waiter) return;
    waiter.cleanup();
    if (failure) waiter.reject(failure);
    else waiter.resolve(result);
  }

  private applyConfChange(change: ConfChange): void {
    this.confState = this.node.applyConfChange(change);
    if (change.type === ConfChangeType.AddLearner && !this.confState.removed.includes(change.nodeId)) {
      this.members.set(change.nodeId, new TextDecoder().decode(change.context));
    } else if (change.type === ConfChangeType.RemoveNode) {
      this.members.delete(change.nodeId);
    }
    this.syncPeers();
    const key = confChangeKey(change);
    const waiter = this.confChanges.get(key);
    if (waiter) {
      waiter.cleanup();
      waiter.resolve(this.confState);
    }
    if (change.type === ConfChangeType.RemoveNode && change.nodeId === this.id) {
      this.logger.warn('this member was removed from the raft cluster; it stops');
      for (const listener of this.removedListeners) listener();
    }
  }

  private onReadState(index: number, key: string): void {
    const waiter = this.reads.get(key);
    if (!waiter) return;
    this.reads.delete(key);
    this.readyReads.push({ index, waiter });
  }

  private releaseReads(): void {
    for (let i = this.readyReads.length - 1; i >= 0; i--) {
      const { index, waiter } = this.readyReads[i];
      if (index > this.applied) continue;
      this.readyReads.splice(i, 1);
      waiter.cleanup();
      waiter.resolve();
    }
  }

  private onSoftState(leaderId: NodeId, role: Role): void {
    const previousLeader = this.leaderId;
    this.leaderId = leaderId;
    this.role = role;
    if (leaderId === previousLeader) return;
    if (previousLeader !== NONE) {
      // In-flight writes may or may not survive a leader change; say so rather than wait for a timeout.
      const lost = new RaftError('Unavailable', 'raft leadership changed; the write may or may not have been applied');
      for (const waiter of [...this.proposals.values(), ...this.confChanges.values()]) {
        waiter.cleanup();
        waiter.reject(lost);
      }
    }
    const term = this.node.status().term;
    for (const listener of [...this.leaderListeners]) listener(leaderId, term);
  }

  /**
   * Captures a snapshot of the applied state when one is due and starts encoding it beside the
   * pipeline: a large store takes long enough to encode (≈ 0.5 s for 30,000 tasks) that doing it here
   * at once would hold heartbeats, appends and (in the desktop app) the UI. The pipeline goes on
   * applying meanwhile; the captured state is the one at `index`.
   */
  private startSnapshotIfDue(): void {
    if (this.snapshotJob !== undefined || this.applied <= this.snapshotIndex) return;
    const due = this.applied - this.snapshotIndex >= this.options.snapshotEvery || this.appliedBytesSinceSnapshot >= this.options.snapshotEveryBytes;
    if (!due) return;
    const stateMachine = this.opts.stateMachine;
    let encode: SnapshotEncoder;
    if (stateMachine.captureSnapshot !== undefined) encode = stateMachine.captureSnapshot();
    else {
      const data = stateMachine.snapshot();
      encode = async () => data;
    }
    const job: SnapshotJob = { index: this.applied, bytesCovered: this.appliedBytesSinceSnapshot, members: new Map(this.members), confState: this.confState };
    this.snapshotJob = job;
    encode(this.snapshotSlice()).then(
      (data) => {
        job.data = data;
        this.schedule();
      },
      (error: unknown) => {
        job.error = error instanceof Error ? error : new Error(String(error));
        this.schedule();
      },
    );
  }

  /** Time slices for a snapshot's encoding, on the runner's clock (virtual in the simulator). */
  private snapshotSlice(): SnapshotSlice {
    let sliceStart = this.scheduler.now();
    return {
      due: () => this.scheduler.now() - sliceStart >= SNAPSHOT_SLICE_MS,
      pause: () =>
        new Promise<void>((resolve, reject) =>
          this.scheduler.defer(() => {
            sliceStart = this.scheduler.now();
            if (this.stopped) reject(new RaftError('Unavailable', 'raft member stopped while encoding a snapshot'));
            else resolve();
          }),
        ),
    };
  }

  /** Saves the snapshot encoded beside the pipeline, then compacts the log behind it. */
  private async saveEncodedSnapshot(): Promise<void> {
    const job = this.snapshotJob;
    if (job === undefined || (job.data === undefined && job.error === undefined)) return;
    this.snapshotJob = undefined;
    if (job.error !== undefined) throw job.error;
    // A snapshot from the leader restored meanwhile already covers this one.
    if (job.data === undefined || job.index <= this.snapshotIndex) return;
    const snapshot = this.log.createSnapshot(job.index, job.confState, encodeSnapshotEnvelope(job.members, job.data));
    await this.opts.durable.saveSnapshot(snapshot);
    if (this.stopped) return;
    this.snapshotIndex = job.index;
    // Entries applied since the capture count towards the next snapshot.
    this.appliedBytesSinceSnapshot = Math.max(0, this.appliedBytesSinceSnapshot - job.bytesCovered);
    const compactTo = this.compactionPoint(job.index);
    if (compactTo > this.log.firstIndex()) this.log.compact(compactTo);
  }

  /**
   * Where to compact after a snapshot at `index`: keep the last entriesKeptAfterSnapshot entries, but
   * no more than keptBytesAfterSnapshot of them (a follower further behind gets the snapshot).
   */
  private compactionPoint(index: number): number {
    const byCount = index - this.options.entriesKeptAfterSnapshot;
    const lo = Math.max(byCount + 1, this.log.firstIndex());
    if (lo > index) return byCount;
    const kept = this.log.entries(lo, index + 1, Number.MAX_SAFE_INTEGER);
    let bytes = 0;
    for (let i = kept.length - 1; i >= 0; i--) {
      const entry = kept[i];
      if (entry === undefined) break;
      bytes += entry.data.length;
      if (bytes > this.options.keptBytesAfterSnapshot) return entry.index;
    }
    return byCount;
  }

  // ---- helpers ----------------------------------------------------------------------------------

  private changeMembership(change: ConfChange, signal?: AbortSignal): Promise<ConfState> {
    const failure = this.refusal();
    if (failure) return Promise.reject(failure);
    const key = confChangeKey(change);
    if (this.confChanges.has(key)) return Promise.reject(new RaftError('FailedPrecondition', 'the same membership change is already in progress'));
    return new Promise<ConfState>((resolve, reject) => {
      const waiter = this.waiter(this.confChanges, key, resolve, reject, signal, 'membership change');
      try {
        this.node.proposeConfChange(change);
      } catch (error) {
        waiter.cleanup();
        reject(this.unavailable(error));
        return;
      }
      this.schedule();
    });
  }

  private waiter<K, T>(
    table: Map<K, Waiter<T>>,
    key: K,
    resolve: (value: T) => void,
    reject: (error: Error) => void,
    signal: AbortSignal | undefined,
    what: string,
  ): Waiter<T> {
    const timer = this.scheduler.after(this.options.proposalTimeoutMs, () => {
      waiter.cleanup();
      reject(new RaftError('DeadlineExceeded', `${what} timed out after ${this.options.proposalTimeoutMs} ms`));
    });
    const onAbort = () => {
      waiter.cleanup();
      reject(new RaftError('Cancelled', `${what} cancelled`));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    const waiter: Waiter<T> = {
      resolve,
      reject,
      cleanup: () => {
        timer.cancel();
        signal?.removeEventListener('abort', onAbort);
        table.delete(key);
      },
    };
    table.set(key, waiter);
    return waiter;
  }

  private refusal(): Error | undefined {
    if (this.fatal) return new RaftError('Unavailable', this.fatal.message, 'not-applied');
    if (this.stopped) return new RaftError('Unavailable', 'raft member is stopped', 'not-applied');
    return undefined;
  }

  private unavailable(error: unknown): Error {
    if (error instanceof ProposalDroppedError) return new RaftError('Unavailable', error.message, 'not-applied');
    return error instanceof Error ? error : new Error(String(error));
  }

  private syncPeers(): void {
    for (const [id, address] of this.members) if (id !== this.id) this.opts.transport.setPeer(id, address);
  }

  private failAll(error: Error): void {
    const waiters: Pick<Waiter<unknown>, 'cleanup' | 'reject'>[] = [
      ...this.proposals.values(),
      ...this.confChanges.values(),
      ...this.reads.values(),
      ...this.readyReads.splice(0).map((r) => r.waiter),
    ];
    for (const waiter of waiters) {
      waiter.cleanup();
      waiter.reject(error);
    }
  }

  /** A storage failure leaves the member unable to promise durability: it stops taking part. */
  private die(error: Error): void {
    if (this.fatal) return;
    this.fatal = new RaftError('Unavailable', `raft member stopped after a storage failure: ${error.message}`);
    this.logger.warn('raft member stopped', { error: error.message });
    this.stopped = true;
    this.ticker?.cancel();
    this.failAll(this.fatal);
    void this.opts.transport.stop();
  }
}

/**
 * A new cluster starts from a snapshot at index 1 that names its founding voters (this member and its
 * peers), so every later member, however far behind, learns the membership the same way: by snapshot.
 */
function bootstrapState(opts: RaftRunnerOptions, members: MemberAddresses): { snapshot: Snapshot; hardState: HardState } {
  members.set(opts.id, opts.address);
  const voters = [...members.keys()].sort((a, b) => a - b);
  opts.stateMachine.restore(new Uint8Array(0), 0);
  const snapshot = {
    metadata: { index: 1, term: 1, confState: { voters, learners: [], removed: [] } },
    data: encodeSnapshotEnvelope(members, opts.stateMachine.snapshot()),
  };
  return { snapshot, hardState: { term: 1, vote: NONE, commit: 1 } };
}

/** Messages a leader may send before its own write is durable, and the rest. */
function splitMessages(messages: Message[]): { early: Message[]; late: Message[] } {
  const early: Message[] = [];
  const late: Message[] = [];
  for (const m of messages) {
    if (m.type === MessageType.App || m.type === MessageType.Heartbeat || m.type === MessageType.Snap) early.push(m);
    else late.push(m);
  }
  return { early, late };
}

function confChangeKey(change: ConfChange): string {
  return `${change.type}:${change.nodeId}`;
}

