/**
 * The Raft state machine (etcd's raft struct): elections with PreVote and CheckQuorum, log
 * replication with flow control, ReadIndex, leadership transfer, single-step membership changes and
 * snapshots. Pure: no I/O, no clock, no randomness of its own. Outgoing messages collect in `msgs`
 * and are handed out by RawNode in a Ready, after the state they depend on.
 */
import { decodeConfChange } from '../codec';
import {
  type ConfChange,
  type ConfState,
  type Entry,
  type HardState,
  type Message,
  type NodeId,
  type RaftConfig,
  type RaftLogger,
  type ReadState,
  type Snapshot,
  type SoftState,
  ConfChangeType,
  EntryType,
  MessageType,
  NONE,
  ProposalDroppedError,
  Role,
} from '../types';
import { validateConfig, InvalidRaftConfigError } from './config';
import { Progress, ProgressState } from './progress';
import { committedIndex, hasQuorum, voteResult, VoteResult } from './quorum';
import { RaftLog } from './raft-log';
import { ReadOnly } from './read-only';
import { EMPTY_BYTES, bytesEqual, newMessage, payloadSize, silentLogger } from './util';

/** Marker in a Vote's context: this campaign was triggered by a leadership transfer (TimeoutNow). */
export const CAMPAIGN_TRANSFER_CONTEXT: Uint8Array = new TextEncoder().encode('CampaignTransfer');

enum CampaignType {
  PreElection = 'pre-election',
  Election = 'election',
  Transfer = 'transfer',
}

function voteResponseType(t: MessageType): MessageType {
  return t === MessageType.PreVote ? MessageType.PreVoteResp : MessageType.VoteResp;
}

export class Raft {
  readonly id: NodeId;
  term = 0;
  vote: NodeId = NONE;
  lead: NodeId = NONE;
  role: Role = Role.Follower;
  readonly raftLog: RaftLog;

  // Membership. `progress` holds every voter and learner (the leader's replication state lives there).
  readonly voters = new Set<NodeId>();
  readonly learners = new Set<NodeId>();
  readonly removed = new Set<NodeId>();
  readonly progress = new Map<NodeId, Progress>();

  /** Votes received in the current (pre-)campaign. */
  private readonly votes = new Map<NodeId, boolean>();

  /** Outgoing messages, handed out (and cleared) by RawNode.ready(). */
  msgs: Message[] = [];
  /** Confirmed reads, handed out (and cleared) by RawNode.ready(). */
  readStates: ReadState[] = [];

  /** Leader: the member leadership is being handed to, or NONE. */
  leadTransferee: NodeId = NONE;
  /**
   * Leader: index of the latest conf change that may not be applied yet. A new one is refused while
   * applied < pendingConfIndex, so at most one change is in flight (single-server changes, §4.1).
   */
  pendingConfIndex = 0;
  private readOnly = new ReadOnly();
  /** ReadIndex requests that arrived before this leader committed an entry of its own term. */
  private pendingReadIndexMessages: Message[] = [];

  private electionElapsed = 0;
  private heartbeatElapsed = 0;
  private randomizedElectionTimeout = 0;
  private readonly electionTimeout: number;
  private readonly heartbeatTimeout: number;
  private readonly checkQuorum: boolean;
  private readonly preVote: boolean;
  private readonly maxMsgSize: number;
  private readonly maxInflightMsgs: number;
  private readonly maxInflightBytes: number;
  private readonly lazyCommitNotice: boolean;
  private readonly randomInt: (n: number) => number;
  readonly logger: RaftLogger;

  constructor(config: RaftConfig) {
    validateConfig(config);
    this.id = config.id;
    this.electionTimeout = config.electionTick;
    this.heartbeatTimeout = config.heartbeatTick;
    this.checkQuorum = config.checkQuorum;
    this.preVote = config.preVote;
    this.maxMsgSize = config.maxSizePerMsg;
    this.maxInflightMsgs = config.maxInflightMsgs;
    this.maxInflightBytes = config.maxInflightBytes;
    this.lazyCommitNotice = config.lazyCommitNotice ?? false;
    this.randomInt = config.randomInt;
    this.logger = config.logger ?? silentLogger;
    this.raftLog = new RaftLog(config.storage);

    const { hardState, confState } = config.storage.initialState();
    this.restoreConfState(confState);
    this.loadHardState(hardState);
    if (config.applied > 0) this.loadApplied(config.applied);
    this.becomeFollower(this.term, NONE);
    this.logger.info('raft node started', {
      id: this.id,
      term: this.term,
      commit: this.raftLog.committed,
      applied: this.raftLog.applied,
      lastIndex: this.raftLog.lastIndex(),
      voters: [...this.voters],
    });
  }

  private loadHardState(hs: HardState): void {
    const { committed } = this.raftLog;
    const last = this.raftLog.lastIndex();
    if (hs.commit < committed || hs.commit > last) {
      throw new InvalidRaftConfigError(`stored commit ${hs.commit} is out of range [${committed}, ${last}]: the log is corrupted or truncated`);
    }
    this.raftLog.committed = hs.commit;
    this.term = hs.term;
    this.vote = hs.vote;
  }

  private loadApplied(applied: number): void {
    const { committed } = this.raftLog;
    const floor = this.raftLog.applied;
    if (applied > committed) throw new InvalidRaftConfigError(`applied ${applied} is past the stored commit ${committed}`);
    if (applied < floor) {
      throw new InvalidRaftConfigError(`applied ${applied} is below the storage snapshot at ${floor}: restore the snapshot into the state machine first`);
    }
    this.raftLog.appliedTo(applied);
  }

  // ---- derived state ------------------------------------------------------------------------------

  hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.raftLog.committed };
  }

  softState(): SoftState {
    return { leaderId: this.lead, role: this.role };
  }

  confState(): ConfState {
    const sorted = (s: Set<NodeId>): NodeId[] => [...s].sort((a, b) => a - b);
    return { voters: sorted(this.voters), learners: sorted(this.learners), removed: sorted(this.removed) };
  }

  isMember(): boolean {
    return this.progress.has(this.id);
  }

  /** Whether this node may become leader: a voter that isn't waiting for a snapshot to be applied. */
  promotable(): boolean {
    return this.voters.has(this.id) && !this.raftLog.hasNextOrInProgressSnapshot();
  }

  private isSingleVoter(): boolean {
    return this.voters.size === 1 && this.voters.has(this.id);
  }

  // ---- role transitions ---------------------------------------------------------------------------

  private reset(term: number): void {
    if (this.term !== term) {
      this.term = term;
      this.vote = NONE;
    }
    this.lead = NONE;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.resetRandomizedElectionTimeout();
    this.abortLeaderTransfer();
    this.votes.clear();
    const next = this.raftLog.lastIndex() + 1;
    for (const [id, pr] of this.progress) {
      pr.reset(next);
      // Only durable entries count as our own replica (see advance / onEntriesPersisted).
      if (id === this.id) pr.match = this.raftLog.stableLastIndex();
    }
    this.pendingConfIndex = 0;
    this.readOnly = new ReadOnly();
    this.pendingReadIndexMessages = [];
  }

  private resetRandomizedElectionTimeout(): void {
    // §5.2: randomized in [electionTimeout, 2*electionTimeout) so split votes are rare.
    this.randomizedElectionTimeout = this.electionTimeout + this.randomInt(this.electionTimeout);
  }

  becomeFollower(term: number, lead: NodeId): void {
    this.reset(term);
    this.lead = lead;
    this.role = Role.Follower;
    this.logger.debug('became follower', { id: this.id, term, lead });
  }

  private becomePreCandidate(): void {
    if (this.role === Role.Leader) throw new Error('invalid transition leader -> pre-candidate');
    // PreVote (thesis §9.6): neither the term nor the vote change, so a partitioned node that keeps
    // timing out doesn't inflate its term and disrupt the cluster when it comes back.
    this.votes.clear();
    this.lead = NONE;
    this.role = Role.PreCandidate;
    this.logger.debug('became pre-candidate', { id: this.id, term: this.term });
  }

  private becomeCandidate(): void {
    if (this.role === Role.Leader) throw new Error('invalid transition leader -> candidate');
    this.reset(this.term + 1);
    this.vote = this.id;
    this.role = Role.Candidate;
    this.logger.debug('became candidate', { id: this.id, term: this.term });
  }

  private becomeLeader(): void {
    if (this.role === Role.Follower) throw new Error('invalid transition follower -> leader');
    this.reset(this.term);
    this.lead = this.id;
    this.role = Role.Leader;
    const self = this.progress.get(this.id);
    if (self) {
      // The leader is always "recently active" and in sync with itself.
      self.becomeReplicate();
      self.recentActive = true;
    }
    // Any uncommitted entry may be a conf change: be conservative until all of them are applied.
    this.pendingConfIndex = this.raftLog.lastIndex();
    // §5.4.2 / §8: an empty entry of the new term lets the leader commit (and learn the commit index).
    this.appendEntries([{ term: 0, index: 0, type: EntryType.Normal, data: EMPTY_BYTES }]);
    this.logger.info('became leader', { id: this.id, term: this.term });
  }

  // ---- ticks ----------------------------------------------------------------------------------------

  tick(): void {
    if (this.role === Role.Leader) this.tickHeartbeat();
    else this.tickElection();
  }

  private tickElection(): void {
    this.electionElapsed++;
    if (this.promotable() && this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0;
      this.hup(this.preVote ? CampaignType.PreElection : CampaignType.Election);
    }
  }

  private tickHeartbeat(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.electionTimeout) {
      this.electionElapsed = 0;
      if (this.checkQuorum) this.checkQuorumActive();
      // A transfer that didn't finish within an election timeout is abandoned (thesis §3.10).
      if (this.role === Role.Leader && this.leadTransferee !== NONE) this.abortLeaderTransfer();
    }
    if (this.role !== Role.Leader) return;
    if (this.heartbeatElapsed >= this.heartbeatTimeout) {
      this.heartbeatElapsed = 0;
      this.bcastHeartbeat();
    }
  }

  /** CheckQuorum (thesis §6.2): a leader that hasn't heard from a quorum in an election timeout steps down. */
  private checkQuorumActive(): void {
    const active = new Set<NodeId>();
    for (const [id, pr] of this.progress) {
      if (id === this.id || pr.recentActive) active.add(id);
      if (id !== this.id) pr.recentActive = false;
    }
    if (!hasQuorum(this.voters, active)) {
      this.logger.warn('stepped down: no quorum heard from within an election timeout', { id: this.id, term: this.term });
      this.becomeFollower(this.term, NONE);
    }
  }

  // ---- elections ------------------------------------------------------------------------------------

  private hup(type: CampaignType): void {
    if (this.role === Role.Leader) return;
    if (!this.promotable()) {
      this.logger.debug('not promotable: not campaigning', { id: this.id });
      return;
    }
    if (this.hasUnappliedConfChanges()) {
      // The pending change might remove us or change the quorum; wait until it is applied.
      this.logger.warn('not campaigning: committed conf changes are not applied yet', { id: this.id });
      return;
    }
    this.campaign(type);
  }

  private hasUnappliedConfChanges(): boolean {
    const { applied, committed } = this.raftLog;
    if (applied >= committed) return false;
    let ents: Entry[];
    try {
      ents = this.raftLog.slice(applied + 1, committed + 1, Infinity);
    } catch {
      return true;
    }
    for (const e of ents) if (e.type === EntryType.ConfChange) return true;
    return false;
  }

  private campaign(type: CampaignType): void {
    let voteType: MessageType;
    let term: number;
    if (type === CampaignType.PreElection) {
      this.becomePreCandidate();
      voteType = MessageType.PreVote;
      term = this.term + 1; // the term we would campaign in; ours stays unchanged
    } else {
      this.becomeCandidate();
      voteType = MessageType.Vote;
      term = this.term;
    }
    if (this.poll(this.id, true) === VoteResult.Won) {
      // Single voter: we won outright.
      if (type === CampaignType.PreElection) this.campaign(CampaignType.Election);
      else this.becomeLeader();
      return;
    }
    const lastIndex = this.raftLog.lastIndex();
    const lastTerm = this.raftLog.lastTerm();
    for (const id of this.voters) {
      if (id === this.id) continue;
      const m = newMessage(voteType, id);
      m.term = term;
      m.index = lastIndex;
      m.logTerm = lastTerm;
      if (type === CampaignType.Transfer) m.context = CAMPAIGN_TRANSFER_CONTEXT;
      this.send(m);
    }
  }

  private poll(from: NodeId, granted: boolean): VoteResult {
    if (!this.votes.has(from)) this.votes.set(from, granted);
    return voteResult(this.voters, this.votes);
  }

  private handleVoteRequest(m: Message): void {
    // §5.2/§5.4: one vote per term, first come first served, only for an up-to-date log. A PreVote for a
    // future term is granted freely (it changes nothing) as long as the log is up to date.
    const canVote =
      this.vote === m.from || (this.vote === NONE && this.lead === NONE) || (m.type === MessageType.PreVote && m.term > this.term);
    const resp = newMessage(voteResponseType(m.type), m.from);
    if (canVote && this.raftLog.isUpToDate(m.index, m.logTerm)) {
      // Answer in the term of the request: a granted PreVote is for the candidate's future term.
      resp.term = m.term;
      if (m.type === MessageType.Vote) {
        this.electionElapsed = 0;
        // The vote lands in HardState, handed out in the same Ready as this response.
        this.vote = m.from;
      }
    } else {
      resp.term = this.term;
      resp.reject = true;
    }
    this.send(resp);
  }

  // ---- message dispatch -----------------------------------------------------------------------------

  /** Steps a message. Throws ProposalDroppedError for a refused local proposal. */
  step(m: Message): void {
    if (m.from !== NONE && m.from !== this.id && this.removed.has(m.from)) {
      // Removed members are out for good: nothing they say counts.
      this.logger.debug('ignored message from removed member', { id: this.id, from: m.from, type: m.type });
      return;
    }
    if (m.term > this.term) {
      if (!this.stepHigherTerm(m)) return;
    } else if (m.term !== 0 && m.term < this.term) {
      this.stepLowerTerm(m);
      return;
    }
    switch (m.type) {
      case MessageType.Hup:
        this.hup(this.preVote ? CampaignType.PreElection : CampaignType.Election);
        return;
      case MessageType.Vote:
      case MessageType.PreVote:
        this.handleVoteRequest(m);
        return;
      default:
        break;
    }
    switch (this.role) {
      case Role.Leader:
        this.stepLeader(m);
        return;
      case Role.Candidate:
      case Role.PreCandidate:
        this.stepCandidate(m);
        return;
      case Role.Follower:
        this.stepFollower(m);
        return;
    }
  }

  /** A message from a newer term. Returns false when the message is to be ignored. */
  private stepHigherTerm(m: Message): boolean {
    if (m.type === MessageType.Vote || m.type === MessageType.PreVote) {
      // Leader lease (thesis §4.2.3 with CheckQuorum): a node that heard from a leader within the
      // minimum election timeout ignores (pre)votes, so a disruptive node can't depose a healthy leader.
      // A transfer-triggered campaign is deliberate and bypasses the lease.
      const force = bytesEqual(m.context, CAMPAIGN_TRANSFER_CONTEXT);
      const inLease = this.checkQuorum && this.lead !== NONE && this.electionElapsed < this.electionTimeout;
      if (!force && inLease) {
        this.logger.debug('ignored vote request within leader lease', { id: this.id, from: m.from, term: m.term });
        return false;
      }
    }
    if (m.type === MessageType.PreVote) return true; // never change term on a PreVote
    if (m.type === MessageType.PreVoteResp && !m.reject) return true; // the term bumps once we win
    const isFromLeader = m.type === MessageType.App || m.type === MessageType.Heartbeat || m.type === MessageType.Snap;
    this.becomeFollower(m.term, isFromLeader ? m.from : NONE);
    return true;
  }

  private stepLowerTerm(m: Message): void {
    if ((this.checkQuorum || this.preVote) && (m.type === MessageType.Heartbeat || m.type === MessageType.App)) {
      // A stale leader cut off from the cluster keeps sending; tell it the current term so it steps
      // down (with CheckQuorum/PreVote our own term may never reach it otherwise).
      const resp = newMessage(MessageType.AppResp, m.from);
      this.send(resp);
    } else if (m.type === MessageType.PreVote) {
      // Reject with our (higher) term so a pre-candidate that missed an election learns the term.
      const resp = newMessage(MessageType.PreVoteResp, m.from);
      resp.term = this.term;
      resp.reject = true;
      this.send(resp);
    }
  }

  private send(m: Message): void {
    if (m.from === NONE) m.from = this.id;
    if (m.type === MessageType.Vote || m.type === MessageType.VoteResp || m.type === MessageType.PreVote || m.type === MessageType.PreVoteResp) {
      if (m.term === 0) throw new Error(`raft bug: ${MessageType[m.type]} sent without a term`);
    } else if (m.type !== MessageType.Prop && m.type !== MessageType.ReadIndex) {
      // Proposals and read requests are forwarded without a term: they are valid in any term.
      m.term = this.term;
    }
    this.msgs.push(m);
  }

  // ---- leader ---------------------------------------------------------------------------------------

  private stepLeader(m: Message): void {
    switch (m.type) {
      case MessageType.Beat:
        this.bcastHeartbeat();
        return;
      case MessageType.Prop:
        this.leaderPropose(m);
        return;
      case MessageType.ReadIndex:
        this.leaderReadIndex(m);
        return;
      default:
        break;
    }
    const pr = this.progress.get(m.from);
    if (!pr) {
      this.logger.debug('no progress for sender', { id: this.id, from: m.from, type: m.type });
      return;
    }
    switch (m.type) {
      case MessageType.AppResp:
        this.handleAppendResponse(m, pr);
        return;
      case MessageType.HeartbeatResp:
        this.handleHeartbeatResponse(m, pr);
        return;
      case MessageType.SnapStatus:
        this.handleSnapshotStatus(m, pr);
        return;
      case MessageType.Unreachable:
        // An App may have been lost: stop streaming and probe.
        if (pr.state === ProgressState.Replicate) pr.becomeProbe();
        return;
      case MessageType.TransferLeader:
        this.handleTransferLeader(m, pr);
        return;
      default:
        return;
    }
  }

  private leaderPropose(m: Message): void {
    const local = m.from === this.id;
    if (m.entries.length === 0) throw new Error('raft bug: empty proposal');
    if (!this.isMember()) return this.dropProposal(local, 'this node is not a member of the cluster');
    if (this.leadTransferee !== NONE) return this.dropProposal(local, `leadership is being transferred to ${this.leadTransferee}`);
    // Entries are copied: the message's entries belong to the sender.
    const lastIndex = this.raftLog.lastIndex();
    const ents: Entry[] = new Array<Entry>(m.entries.length);
    for (let i = 0; i < m.entries.length; i++) {
      const e = m.entries[i];
      let type = e.type;
      let data = e.data;
      if (type === EntryType.ConfChange) {
        const refusal = this.confChangeRefusal(e.data);
        if (refusal !== undefined) {
          if (local) throw new ProposalDroppedError(refusal);
          // A forwarded change is turned into a no-op rather than failing the whole batch (etcd).
          this.logger.info('refused forwarded conf change', { id: this.id, from: m.from, reason: refusal });
          type = EntryType.Normal;
          data = EMPTY_BYTES;
        } else {
          this.pendingConfIndex = lastIndex + i + 1;
        }
      }
      ents[i] = { term: 0, index: 0, type, data };
    }
    this.appendEntries(ents);
    this.bcastAppend();
  }

  private dropProposal(local: boolean, reason: string): void {
    if (local) throw new ProposalDroppedError(reason);
    this.logger.debug('dropped forwarded proposal', { id: this.id, reason });
  }

  /** Why a conf change can't be accepted now, or undefined if it can. */
  confChangeRefusal(data: Uint8Array): string | undefined {
    if (this.pendingConfIndex > this.raftLog.applied) {
      return `a configuration change (index ${this.pendingConfIndex}) is still pending; applied is ${this.raftLog.applied}`;
    }
    let cc: ConfChange;
    try {
      cc = decodeConfChange(data);
    } catch (err) {
      return `undecodable conf change: ${String(err)}`;
    }
    return this.confChangeStaticRefusal(cc);
  }

  /** Refusals that only depend on the membership (checked on any node before forwarding). */
  confChangeStaticRefusal(cc: ConfChange): string | undefined {
    if (cc.nodeId === NONE) return 'conf change for node 0';
    if (cc.type === ConfChangeType.AddLearner && this.removed.has(cc.nodeId)) return `node ${cc.nodeId} was removed and cannot be re-added`;
    if (cc.type === ConfChangeType.RemoveNode && this.voters.size === 1 && this.voters.has(cc.nodeId)) {
      return `removing node ${cc.nodeId} would leave the cluster without voters`;
    }
    return undefined;
  }

  private appendEntries(ents: Entry[]): void {
    let index = this.raftLog.lastIndex();
    for (const e of ents) {
      e.term = this.term;
      e.index = ++index;
    }
    this.raftLog.append(ents);
    // The leader's own match advances only once these are persisted (onEntriesPersisted), so an entry
    // is never counted as replicated on a leader that could still lose it in a crash.
  }

  /** Called by RawNode.advance once entries are durable: the leader may now count its own replica. */
  onEntriesPersisted(): void {
    if (this.role !== Role.Leader) return;
    const self = this.progress.get(this.id);
    if (self && self.maybeUpdate(this.raftLog.stableLastIndex())) this.commitAndBroadcast();
  }

  private maybeCommit(): boolean {
    // §5.4.2 (Figure 8): only an entry of the current term is committed by counting replicas.
    return this.raftLog.maybeCommit(committedIndex(this.voters, this.progress), this.term);
  }

  /**
   * If the commit index moved, release queued reads and tell followers. With lazyCommitNotice, a
   * follower that is replicating gets an App only if there are entries to send it: the commit index
   * rides on the next App or heartbeat (which carries it up to the follower's match), since an App and
   * its AppResp just for the index would double the messages of every write. A committed membership
   * change is still announced at once, so a removed member learns of its removal.
   */
  private commitAndBroadcast(): boolean {
    const before = this.raftLog.committed;
    if (!this.maybeCommit()) return false;
    this.releasePendingReadIndexMessages();
    if (!this.lazyCommitNotice || (this.pendingConfIndex > before && this.pendingConfIndex <= this.raftLog.committed)) {
      this.bcastAppend();
      return true;
    }
    for (const [id, pr] of this.progress) {
      if (id === this.id) continue;
      if (pr.state === ProgressState.Replicate) this.maybeSendAppend(id, false);
      else this.sendAppend(id);
    }
    return true;
  }

  private handleAppendResponse(m: Message, pr: Progress): void {
    pr.recentActive = true;
    if (m.reject) {
      // Fast backtracking (§5.3, etcd): the follower hinted (rejectHint, logTerm) = its last entry at or
      // below the probe whose term is <= the probe's term. Skip our entries of terms above that hint.
      let nextProbe = m.rejectHint;
      if (m.logTerm > 0) nextProbe = this.raftLog.findConflictByTerm(m.rejectHint, m.logTerm).index;
      if (pr.maybeDecrTo(m.index, nextProbe)) {
        if (pr.state === ProgressState.Replicate) pr.becomeProbe();
        this.sendAppend(m.from);
      }
      return;
    }
    const wasPaused = pr.isPaused();
    if (!pr.maybeUpdate(m.index) && !(pr.match === m.index && pr.state === ProgressState.Probe)) return;
    switch (pr.state) {
      case ProgressState.Probe:
        pr.becomeReplicate();
        break;
      case ProgressState.Snapshot:
        // The follower caught up past the compaction point: replicate from the log again.
        if (pr.match + 1 >= this.raftLog.firstIndex()) {
          pr.becomeProbe();
          pr.becomeReplicate();
        }
        break;
      case ProgressState.Replicate:
        pr.inflights.freeLE(m.index);
        break;
    }
    if (!this.commitAndBroadcast() && wasPaused) this.sendAppend(m.from);
    // Flow control may have opened: stream as many (size-limited) Apps as the window allows.
    while (this.maybeSendAppend(m.from, false));
    if (m.from === this.leadTransferee && pr.match === this.raftLog.lastIndex()) {
      this.logger.info('transferee caught up; sending TimeoutNow', { id: this.id, to: m.from });
      this.sendTimeoutNow(m.from);
    }
  }

  private handleHeartbeatResponse(m: Message, pr: Progress): void {
    pr.recentActive = true;
    pr.probeSent = false;
    // The follower is alive: free a slot so a window full of lost Apps can't stall it forever.
    if (pr.state === ProgressState.Replicate && pr.inflights.full()) pr.inflights.freeFirstOne();
    if (pr.match < this.raftLog.lastIndex()) this.sendAppend(m.from);
    if (m.context.length === 0) return;
    const acks = this.readOnly.recvAck(m.from, m.context);
    if (!acks || !hasQuorum(this.voters, acks)) return;
    for (const status of this.readOnly.advance(m.context)) this.respondToReadIndex(status.request, status.index);
  }

  private handleSnapshotStatus(m: Message, pr: Progress): void {
    if (pr.state !== ProgressState.Snapshot) return;
    if (m.reject) pr.pendingSnapshot = 0; // failed: probe from match again
    pr.becomeProbe();
    // Wait for the follower's answer (or a heartbeat response) before the next App: the snapshot
    // may still be being applied there.
    pr.probeSent = true;
  }

  private handleTransferLeader(m: Message, pr: Progress): void {
    const transferee = m.from;
    if (pr.isLearner) {
      this.logger.info('ignored transfer to a learner', { id: this.id, transferee });
      return;
    }
    if (this.leadTransferee !== NONE) {
      if (this.leadTransferee === transferee) return; // already in progress
      this.abortLeaderTransfer();
    }
    if (transferee === this.id) return;
    // The transfer must finish within an election timeout (tickHeartbeat aborts it otherwise).
    this.electionElapsed = 0;
    this.leadTransferee = transferee;
    this.logger.info('transferring leadership', { id: this.id, transferee });
    if (pr.match === this.raftLog.lastIndex()) this.sendTimeoutNow(transferee);
    else this.sendAppend(transferee); // catch it up first; TimeoutNow goes once it acks the last index
  }

  private sendTimeoutNow(to: NodeId): void {
    this.send(newMessage(MessageType.TimeoutNow, to));
  }

  abortLeaderTransfer(): void {
    this.leadTransferee = NONE;
  }

  // ---- replication (leader) ---------------------------------------------------------------------------

  private bcastAppend(): void {
    for (const id of this.progress.keys()) if (id !== this.id) this.sendAppend(id);
  }

  private sendAppend(to: NodeId): void {
    this.maybeSendAppend(to, true);
  }

  /**
   * Sends an App (or the snapshot, when the entries are compacted away) unless flow control pauses
   * the follower. With sendIfEmpty=false nothing is sent when there are no new entries.
   */
  private maybeSendAppend(to: NodeId, sendIfEmpty: boolean): boolean {
    const pr = this.progress.get(to);
    if (!pr || pr.isPaused()) return false;
    const prevIndex = pr.next - 1;
    const prevTerm = this.raftLog.term(prevIndex);
    if (prevTerm === undefined || pr.next < this.raftLog.firstIndex()) return this.sendSnapshot(to, pr);
    const ents = this.raftLog.entries(pr.next, this.maxMsgSize);
    if (ents.length === 0 && !sendIfEmpty) return false;
    const m = newMessage(MessageType.App, to);
    m.index = prevIndex;
    m.logTerm = prevTerm;
    m.entries = ents;
    m.commit = this.raftLog.committed;
    this.send(m);
    pr.sentEntries(ents.length, this.maxInflightBytes > 0 ? payloadSize(ents) : 0);
    return true;
  }

  private sendSnapshot(to: NodeId, pr: Progress): boolean {
    if (!pr.recentActive) {
      // Don't ship a (possibly large) snapshot to a node we haven't heard from.
      this.logger.debug('not sending snapshot to an inactive follower', { id: this.id, to });
      return false;
    }
    let snapshot: Snapshot;
    try {
      snapshot = this.raftLog.snapshot();
    } catch (err) {
      this.logger.warn('snapshot temporarily unavailable', { id: this.id, to, error: String(err) });
      return false;
    }
    if (snapshot.metadata.index === 0) {
      this.logger.warn('need a snapshot but storage has none', { id: this.id, to });
      return false;
    }
    pr.becomeSnapshot(snapshot.metadata.index);
    const m = newMessage(MessageType.Snap, to);
    m.snapshot = snapshot;
    this.send(m);
    this.logger.info('sent snapshot', { id: this.id, to, index: snapshot.metadata.index, term: snapshot.metadata.term });
    return true;
  }

  private bcastHeartbeat(): void {
    const context = this.readOnly.lastPendingContext() ?? EMPTY_BYTES;
    for (const id of this.progress.keys()) if (id !== this.id) this.sendHeartbeat(id, context);
  }

  private sendHeartbeat(to: NodeId, context: Uint8Array): void {
    const pr = this.progress.get(to);
    const m = newMessage(MessageType.Heartbeat, to);
    // Never tell a follower to commit past what it is known to hold: its tail may still conflict.
    m.commit = Math.min(pr ? pr.match : 0, this.raftLog.committed);
    m.context = context;
    this.send(m);
  }

  // ---- ReadIndex (leader) -------------------------------------------------------------------------------

  private leaderReadIndex(m: Message): void {
    if (this.isSingleVoter()) {
      // Nobody else can have committed anything: the commit index is current.
      this.respondToReadIndex(m, this.raftLog.committed);
      return;
    }
    if (!this.committedEntryInCurrentTerm()) {
      // Thesis §6.4: until its own empty entry commits, a new leader doesn't know the commit index.
      this.pendingReadIndexMessages.push(m);
      return;
    }
    this.startReadIndex(m);
  }

  private startReadIndex(m: Message): void {
    this.readOnly.addRequest(this.raftLog.committed, m);
    this.readOnly.recvAck(this.id, m.context);
    for (const id of this.progress.keys()) if (id !== this.id) this.sendHeartbeat(id, m.context);
  }

  private committedEntryInCurrentTerm(): boolean {
    return this.raftLog.term(this.raftLog.committed) === this.term;
  }

  private releasePendingReadIndexMessages(): void {
    if (this.pendingReadIndexMessages.length === 0 || !this.committedEntryInCurrentTerm()) return;
    const pending = this.pendingReadIndexMessages;
    this.pendingReadIndexMessages = [];
    for (const m of pending) this.startReadIndex(m);
  }

  private respondToReadIndex(req: Message, index: number): void {
    if (req.from === NONE || req.from === this.id) {
      this.readStates.push({ index, context: req.context });
      return;
    }
    const resp = newMessage(MessageType.ReadIndexResp, req.from);
    resp.index = index;
    resp.context = req.context;
    this.send(resp);
  }

  // ---- candidate ----------------------------------------------------------------------------------------

  private stepCandidate(m: Message): void {
    const myResponseType = this.role === Role.PreCandidate ? MessageType.PreVoteResp : MessageType.VoteResp;
    switch (m.type) {
      case MessageType.Prop:
        if (m.from === this.id) throw new ProposalDroppedError('no leader (election in progress)');
        return;
      case MessageType.App:
        // §5.2: a leader of our term exists: give up the candidacy.
        this.becomeFollower(m.term, m.from);
        this.handleAppendEntries(m);
        return;
      case MessageType.Heartbeat:
        this.becomeFollower(m.term, m.from);
        this.handleHeartbeat(m);
        return;
      case MessageType.Snap:
        this.becomeFollower(m.term, m.from);
        this.handleSnapshot(m);
        return;
      default:
        break;
    }
    if (m.type !== myResponseType) return;
    const result = this.poll(m.from, !m.reject);
    if (result === VoteResult.Won) {
      if (this.role === Role.PreCandidate) {
        this.campaign(CampaignType.Election);
      } else {
        this.becomeLeader();
        this.bcastAppend();
      }
    } else if (result === VoteResult.Lost) {
      // Lost (or a pre-vote lost): back to follower in the same term, keeping our vote.
      this.becomeFollower(this.term, NONE);
    }
  }

  // ---- follower -------------------------------------------------------------------------------------------

  private stepFollower(m: Message): void {
    switch (m.type) {
      case MessageType.Prop:
        if (this.lead === NONE) {
          if (m.from === this.id) throw new ProposalDroppedError('no leader');
          return;
        }
        if (m.from === this.id && !this.isMember()) throw new ProposalDroppedError('this node is not a member of the cluster');
        this.forwardToLeader(m);
        return;
      case MessageType.App:
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleAppendEntries(m);
        return;
      case MessageType.Heartbeat:
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleHeartbeat(m);
        return;
      case MessageType.Snap:
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleSnapshot(m);
        return;
      case MessageType.TransferLeader:
      case MessageType.ReadIndex:
        if (this.lead === NONE) {
          this.logger.info('no leader; dropping request', { id: this.id, type: MessageType[m.type] });
          return;
        }
        this.forwardToLeader(m);
        return;
      case MessageType.TimeoutNow:
        // Leadership transfer (thesis §3.10): campaign now, skipping PreVote and the leader lease.
        this.logger.info('received TimeoutNow; campaigning', { id: this.id, term: this.term });
        this.hup(CampaignType.Transfer);
        return;
      case MessageType.ReadIndexResp:
        this.readStates.push({ index: m.index, context: m.context });
        return;
      default:
        return;
    }
  }

  private forwardToLeader(m: Message): void {
    const fwd: Message = { ...m, to: this.lead };
    if (fwd.from === NONE) fwd.from = this.id;
    if (fwd.type !== MessageType.Prop && fwd.type !== MessageType.ReadIndex) fwd.term = 0;
    this.send(fwd);
  }

  private handleAppendEntries(m: Message): void {
    const resp = newMessage(MessageType.AppResp, m.from);
    if (m.index < this.raftLog.committed) {
      // Everything up to our commit index already matches the leader (Log Matching).
      resp.index = this.raftLog.committed;
      this.send(resp);
      return;
    }
    const lastNew = this.raftLog.maybeAppend(m.index, m.logTerm, m.commit, m.entries);
    if (lastNew !== undefined) {
      // Sent in the same Ready as the appended entries, so it leaves only once they are durable.
      resp.index = lastNew;
      this.send(resp);
      return;
    }
    // Reject with a hint (etcd): our last entry at or below the probe whose term is <= the probe's term.
    const hint = this.raftLog.findConflictByTerm(Math.min(m.index, this.raftLog.lastIndex()), m.logTerm);
    resp.index = m.index;
    resp.reject = true;
    resp.rejectHint = hint.index;
    resp.logTerm = hint.term;
    this.send(resp);
  }

  private handleHeartbeat(m: Message): void {
    this.raftLog.commitTo(m.commit);
    const resp = newMessage(MessageType.HeartbeatResp, m.from);
    resp.context = m.context;
    this.send(resp);
  }

  private handleSnapshot(m: Message): void {
    const s = m.snapshot;
    const resp = newMessage(MessageType.AppResp, m.from);
    if (s && this.restore(s)) {
      this.logger.info('restored snapshot', { id: this.id, index: s.metadata.index, term: s.metadata.term });
      resp.index = this.raftLog.lastIndex();
    } else {
      resp.index = this.raftLog.committed;
    }
    this.send(resp);
  }

  /** Installs a snapshot newer than our commit index. Returns false when it was not needed. */
  private restore(s: Snapshot): boolean {
    if (s.metadata.index <= this.raftLog.committed) return false;
    if (this.role !== Role.Follower) {
      // Defensive (etcd): only followers install snapshots.
      this.becomeFollower(this.term + 1, NONE);
      return false;
    }
    if (this.raftLog.matchTerm(s.metadata.index, s.metadata.term)) {
      // We already have the entry: just fast-forward the commit index.
      this.raftLog.commitTo(s.metadata.index);
      return false;
    }
    this.raftLog.restore(s);
    this.restoreConfState(s.metadata.confState);
    return true;
  }

  // ---- membership -----------------------------------------------------------------------------------------

  private restoreConfState(cs: ConfState): void {
    this.voters.clear();
    this.learners.clear();
    this.removed.clear();
    this.progress.clear();
    for (const id of cs.removed) this.removed.add(id);
    for (const id of cs.voters) this.addProgress(id, false);
    for (const id of cs.learners) this.addProgress(id, true);
  }

  private addProgress(id: NodeId, isLearner: boolean): Progress {
    (isLearner ? this.learners : this.voters).add(id);
    const next = Math.max(this.raftLog.lastIndex(), 1);
    const pr = new Progress(next, this.maxInflightMsgs, this.maxInflightBytes, isLearner);
    // A member just added counts as active so CheckQuorum doesn't fire before it had a chance to answer.
    pr.recentActive = true;
    if (id === this.id) pr.match = this.raftLog.stableLastIndex();
    this.progress.set(id, pr);
    return pr;
  }

  /** Applies a committed conf change (called by the runner at apply time) and returns the new ConfState. */
  applyConfChange(cc: ConfChange): ConfState {
    const id = cc.nodeId;
    switch (cc.type) {
      case ConfChangeType.AddLearner:
        if (id === NONE || this.removed.has(id) || this.voters.has(id) || this.learners.has(id)) {
          this.logger.info('conf change is a no-op', { id: this.id, change: 'add-learner', node: id });
        } else {
          this.addProgress(id, true);
        }
        break;
      case ConfChangeType.PromoteLearner: {
        const pr = this.progress.get(id);
        if (!pr || !this.learners.has(id)) {
          this.logger.info('conf change is a no-op', { id: this.id, change: 'promote', node: id });
        } else {
          this.learners.delete(id);
          this.voters.add(id);
          pr.isLearner = false;
        }
        break;
      }
      case ConfChangeType.RemoveNode:
        if (this.voters.size === 1 && this.voters.has(id)) {
          // Deterministic on every node, like the check at proposal time.
          this.logger.warn('refused to remove the last voter', { id: this.id, node: id });
        } else if (id !== NONE) {
          this.voters.delete(id);
          this.learners.delete(id);
          this.progress.delete(id);
          this.removed.add(id);
        }
        break;
    }
    this.afterConfChange();
    return this.confState();
  }

  private afterConfChange(): void {
    if (this.role !== Role.Leader) return;
    if (!this.voters.has(this.id)) {
      // The leader removed itself: it stops leading once the change is applied; the others elect a
      // new leader (and commit the removal, which they already hold) after their election timeout.
      this.logger.info('leader removed from the cluster; stepping down', { id: this.id });
      this.becomeFollower(this.term, NONE);
      return;
    }
    if (this.leadTransferee !== NONE && !this.voters.has(this.leadTransferee)) this.abortLeaderTransfer();
    // The quorum may have shrunk (commit now) or a member joined (start replicating to it).
    if (!this.commitAndBroadcast()) {
      for (const id of this.progress.keys()) if (id !== this.id) this.maybeSendAppend(id, false);
    }
  }
}
