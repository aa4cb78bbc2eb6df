/**
 * RawNode: the driving API of the core (etcd's RawNode). The runner ticks it, steps network messages
 * into it, and loops: hasReady() -> ready() -> persist, send, apply -> advance(ready).
 *
 * ready() hands each unstable entry and each committed entry out exactly once, so a runner may take the
 * next Ready before advancing the previous one (pipelining), as long as it persists and applies Readies
 * in the order it got them.
 */
import { encodeConfChange } from '../codec';
import {
  type ConfChange,
  type ConfState,
  type Entry,
  type HardState,
  type Message,
  type NodeId,
  type RaftConfig,
  type Ready,
  type SoftState,
  EntryType,
  MessageType,
  ProposalDroppedError,
  Role,
} from '../types';
import { Raft } from './raft';
import { EMPTY_BYTES, isLocalMessageType, newMessage } from './util';

export interface ProgressStatus {
  match: number;
  next: number;
  state: string;
  recentActive: boolean;
}

export interface RawNodeStatus {
  id: NodeId;
  term: number;
  vote: NodeId;
  commit: number;
  applied: number;
  lead: NodeId;
  role: Role;
  voters: NodeId[];
  learners: NodeId[];
  /** Replication progress of every member; only on the leader. */
  progress?: Map<NodeId, ProgressStatus>;
  leadTransferee: NodeId;
}

function hardStateEqual(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}

export class RawNode {
  private readonly raft: Raft;
  private prevSoftState: SoftState;
  private prevHardState: HardState;

  /** Restores term, vote, commit and membership from config.storage.initialState(). */
  constructor(config: RaftConfig) {
    this.raft = new Raft(config);
    this.prevSoftState = this.raft.softState();
    this.prevHardState = this.raft.hardState();
  }

  tick(): void {
    this.raft.tick();
  }

  /** Starts an election now (with a pre-vote round first when PreVote is on). */
  campaign(): void {
    this.raft.step(this.localMessage(MessageType.Hup, this.raft.id));
  }

  /** Proposes an application entry. Throws ProposalDroppedError if this node can't take it. */
  propose(data: Uint8Array): void {
    this.proposeEntry(EntryType.Normal, data);
  }

  /**
   * Proposes a membership change. Besides the reasons propose() has, throws ProposalDroppedError when
   * (on the leader) another change is not applied yet, or when the change is invalid (re-adding a
   * removed id, removing the last voter). A follower forwards it; a leader that refuses a forwarded
   * change replaces it with an empty entry.
   */
  proposeConfChange(cc: ConfChange): void {
    const refusal = this.raft.confChangeStaticRefusal(cc);
    if (refusal !== undefined) throw new ProposalDroppedError(refusal);
    this.proposeEntry(EntryType.ConfChange, encodeConfChange(cc));
  }

  private proposeEntry(type: EntryType, data: Uint8Array): void {
    if (!this.raft.isMember()) {
      const why = this.raft.removed.has(this.raft.id) ? 'this node was removed from the cluster' : 'this node is not a member of the cluster';
      throw new ProposalDroppedError(why);
    }
    const m = this.localMessage(MessageType.Prop, this.raft.id);
    const entry: Entry = { term: 0, index: 0, type, data };
    m.entries = [entry];
    this.raft.step(m);
  }

  /** Applies a committed ConfChange entry (call it when applying that entry). */
  applyConfChange(cc: ConfChange): ConfState {
    return this.raft.applyConfChange(cc);
  }

  /**
   * Steps a message from the network. Local-only types (Hup, Beat, Unreachable, SnapStatus) are
   * refused (dropped): only this process may produce them.
   */
  step(m: Message): void {
    if (isLocalMessageType(m.type)) {
      this.raft.logger.warn('refused a local-only message type from the network', { id: this.raft.id, type: MessageType[m.type], from: m.from });
      return;
    }
    try {
      this.raft.step(m);
    } catch (err) {
      // A forwarded proposal this node can't take is dropped; the proposer times out and retries.
      if (err instanceof ProposalDroppedError) return;
      throw err;
    }
  }

  /** Requests a linearizable read; the answer appears in Ready.readStates with the same context. */
  readIndex(context: Uint8Array): void {
    const m = this.localMessage(MessageType.ReadIndex, this.raft.id);
    m.context = context;
    this.raft.step(m);
  }

  /** Asks the leader (this node or the one it knows) to hand leadership to `to`. */
  transferLeadership(to: NodeId): void {
    this.raft.step(this.localMessage(MessageType.TransferLeader, to));
  }

  reportUnreachable(id: NodeId): void {
    this.raft.step(this.localMessage(MessageType.Unreachable, id));
  }

  reportSnapshot(id: NodeId, ok: boolean): void {
    const m = this.localMessage(MessageType.SnapStatus, id);
    m.reject = !ok;
    this.raft.step(m);
  }

  /** A local message "from" `from`, addressed to this node, with term 0 (local). */
  private localMessage(type: MessageType, from: NodeId): Message {
    const m = newMessage(type, this.raft.id);
    m.from = from;
    m.context = EMPTY_BYTES;
    return m;
  }

  hasReady(): boolean {
    const r = this.raft;
    if (r.msgs.length > 0 || r.readStates.length > 0) return true;
    const ss = r.softState();
    if (ss.leaderId !== this.prevSoftState.leaderId || ss.role !== this.prevSoftState.role) return true;
    if (!hardStateEqual(r.hardState(), this.prevHardState)) return true;
    const log = r.raftLog;
    return log.nextUnstableSnapshot() !== undefined || log.hasNextUnstableEntries() || log.hasNextCommittedEntries();
  }

  /**
   * The next batch of work. Everything in it is handed out once: the next ready() won't repeat these
   * entries, committed entries, messages or read states, even before advance() is called.
   */
  ready(): Ready {
    const r = this.raft;
    const log = r.raftLog;
    const rd: Ready = {
      entries: log.nextUnstableEntries(),
      committedEntries: log.nextCommittedEntries(),
      messages: r.msgs,
      readStates: r.readStates,
      mustSync: false,
    };
    const ss = r.softState();
    if (ss.leaderId !== this.prevSoftState.leaderId || ss.role !== this.prevSoftState.role) {
      rd.softState = ss;
      this.prevSoftState = ss;
    }
    const hs = r.hardState();
    const prev = this.prevHardState;
    if (!hardStateEqual(hs, prev)) {
      rd.hardState = hs;
      this.prevHardState = hs;
    }
    const snapshot = log.nextUnstableSnapshot();
    if (snapshot) rd.snapshot = snapshot;
    // A commit-only change needs no fsync (it can be recomputed); a new term, vote, entry or snapshot does.
    rd.mustSync = rd.entries.length > 0 || snapshot !== undefined || hs.term !== prev.term || hs.vote !== prev.vote;

    r.msgs = [];
    r.readStates = [];
    log.acceptUnstable();
    if (rd.committedEntries.length > 0) log.acceptApplying(rd.committedEntries[rd.committedEntries.length - 1].index);
    return rd;
  }

  /**
   * The runner has persisted `rd` (hardState, entries, snapshot) and applied its snapshot and committed
   * entries: mark the entries stable and the committed entries applied.
   */
  advance(rd: Ready): void {
    const r = this.raft;
    const log = r.raftLog;
    if (rd.snapshot) {
      const index = rd.snapshot.metadata.index;
      log.stableSnapTo(index);
      if (index <= log.committed) log.appliedTo(index);
    }
    if (rd.entries.length > 0) {
      const last = rd.entries[rd.entries.length - 1];
      log.stableTo(last.index, last.term);
      r.onEntriesPersisted();
    }
    if (rd.committedEntries.length > 0) log.appliedTo(rd.committedEntries[rd.committedEntries.length - 1].index);
  }

  /** The few fields a caller polls often, without status()'s per-peer allocations. */
  basicStatus(): { term: number; commit: number; lead: NodeId; role: Role } {
    const r = this.raft;
    return { term: r.term, commit: r.raftLog.committed, lead: r.lead, role: r.role };
  }

  status(): RawNodeStatus {
    const r = this.raft;
    const cs = r.confState();
    const status: RawNodeStatus = {
      id: r.id,
      term: r.term,
      vote: r.vote,
      commit: r.raftLog.committed,
      applied: r.raftLog.applied,
      lead: r.lead,
      role: r.role,
      voters: cs.voters,
      learners: cs.learners,
      leadTransferee: r.leadTransferee,
    };
    if (r.role === Role.Leader) {
      const progress = new Map<NodeId, ProgressStatus>();
      for (const [id, pr] of r.progress) {
        progress.set(id, { match: pr.match, next: pr.next, state: pr.state, recentActive: pr.recentActive });
      }
      status.progress = progress;
    }
    return status;
  }

  /** The current membership, including removed ids. */
  confState(): ConfState {
    return this.raft.confState();
  }
}
