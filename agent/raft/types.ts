/**
 * The vocabulary shared by the Raft core, its storage, its transports and its runner.
 *
 * The core (agent/raft/core) is a pure state machine in the style of etcd-io/raft: it owns no timers,
 * sockets, files or randomness. The runner feeds it ticks and messages and acts on the `Ready` batches it
 * hands out. Everything in this file is plain data so it can cross a wire, land in the WAL, or be
 * compared in a simulator.
 */

/** A Raft member id. Never 0 (0 means "none"), never reused after removal. Safe integer. */
export type NodeId = number;
export const NONE: NodeId = 0;

export enum EntryType {
  Normal = 0,
  ConfChange = 1,
}

export interface Entry {
  term: number;
  index: number;
  type: EntryType;
  /** Application payload; empty for the no-op a new leader appends. For ConfChange: encodeConfChange(). */
  data: Uint8Array;
}

/** What must be durable before any message that depends on it leaves the node. */
export interface HardState {
  term: number;
  vote: NodeId;
  commit: number;
}

export interface ConfState {
  voters: NodeId[];
  learners: NodeId[];
  /** Ids removed from the cluster: their messages are ignored and they are never re-added. */
  removed: NodeId[];
}

export enum ConfChangeType {
  AddLearner = 0,
  PromoteLearner = 1,
  RemoveNode = 2,
}

export interface ConfChange {
  type: ConfChangeType;
  nodeId: NodeId;
  /** Opaque to raft (the cluster layer puts the member's address here). */
  context: Uint8Array;
}

export interface SnapshotMetadata {
  index: number;
  term: number;
  confState: ConfState;
}

export interface Snapshot {
  metadata: SnapshotMetadata;
  data: Uint8Array;
}

export enum MessageType {
  /** Local: start an election (or pre-election). */
  Hup = 0,
  /** Local: leader sends heartbeats. */
  Beat = 1,
  /** A proposal; followers forward it to the leader. */
  Prop = 2,
  App = 3,
  AppResp = 4,
  Vote = 5,
  VoteResp = 6,
  PreVote = 7,
  PreVoteResp = 8,
  Snap = 9,
  Heartbeat = 10,
  HeartbeatResp = 11,
  /** Local or forwarded: ask the leader to hand leadership to `from` (the transferee). */
  TransferLeader = 12,
  /** Leader to transferee: campaign now, skipping the election timeout and pre-vote. */
  TimeoutNow = 13,
  ReadIndex = 14,
  ReadIndexResp = 15,
  /** Local: the transport could not reach `from`. */
  Unreachable = 16,
  /** Local: the transport finished (or failed) sending a snapshot to `from`. */
  SnapStatus = 17,
}

export interface Message {
  type: MessageType;
  from: NodeId;
  to: NodeId;
  term: number;
  /** App: term of the entry preceding `entries`. Vote/PreVote: term of the candidate's last entry. */
  logTerm: number;
  /** App: index of the entry preceding `entries`. Vote: candidate's last index. AppResp: matched/rejected index. */
  index: number;
  entries: Entry[];
  commit: number;
  snapshot?: Snapshot;
  reject: boolean;
  /** AppResp rejection: the follower's hint for fast backtracking (its last index, or a conflict point). */
  rejectHint: number;
  /** ReadIndex request id; campaign-by-transfer marker on Vote; opaque otherwise. */
  context: Uint8Array;
}

export enum Role {
  Follower = 'follower',
  PreCandidate = 'pre-candidate',
  Candidate = 'candidate',
  Leader = 'leader',
}

export interface SoftState {
  leaderId: NodeId;
  role: Role;
}

/** A linearizable read is safe once the state machine has applied `index`. */
export interface ReadState {
  index: number;
  context: Uint8Array;
}

/**
 * One batch of work for the runner, in this order:
 * 1. persist `hardState`, `entries` and `snapshot` (one fsync when `mustSync`),
 * 2. send `messages`,
 * 3. apply `snapshot` then `committedEntries` to the state machine, serve `readStates` once applied,
 * 4. call `advance(ready)`.
 */
export interface Ready {
  softState?: SoftState;
  hardState?: HardState;
  entries: Entry[];
  snapshot?: Snapshot;
  committedEntries: Entry[];
  messages: Message[];
  readStates: ReadState[];
  mustSync: boolean;
}

/** Read access the core needs to the stable log (etcd's Storage). Synchronous: it is memory-backed. */
export interface LogStorage {
  initialState(): { hardState: HardState; confState: ConfState };
  /** Entries in [lo, hi), stopping early once `maxBytes` is exceeded (always at least one). */
  entries(lo: number, hi: number, maxBytes: number): Entry[];
  /** Term of entry i; throws CompactedError below the first index, UnavailableError past the last. */
  term(i: number): number;
  firstIndex(): number;
  lastIndex(): number;
  snapshot(): Snapshot;
}

export class CompactedError extends Error {
  constructor(index: number) {
    super(`log index ${index} is compacted`);
    this.name = 'CompactedError';
  }
}

export class UnavailableError extends Error {
  constructor(index: number) {
    super(`log index ${index} is not yet available`);
    this.name = 'UnavailableError';
  }
}

/** A proposal was refused by this node (no leader known, transfer in progress, node removed, ...). */
export class ProposalDroppedError extends Error {
  constructor(reason: string) {
    super(`proposal dropped: ${reason}`);
    this.name = 'ProposalDroppedError';
  }
}

export interface RaftConfig {
  id: NodeId;
  /** Ticks a follower waits without hearing from a leader; randomised in [electionTick, 2*electionTick). */
  electionTick: number;
  heartbeatTick: number;
  storage: LogStorage;
  /** Last index the state machine has applied (on restart); entries up to it are not handed out again. */
  applied: number;
  /** Byte cap for the entries in one App message. */
  maxSizePerMsg: number;
  /** Cap on unacknowledged App messages in flight to one follower. */
  maxInflightMsgs: number;
  /** Cap on unacknowledged bytes in flight to one follower (0 = no byte cap). */
  maxInflightBytes: number;
  checkQuorum: boolean;
  preVote: boolean;
  /**
   * When the commit index moves, send no App just to announce it to a follower that is replicating and
   * already holds every entry: it learns the index from the next App or heartbeat. Halves the raft
   * messages of a write under light load, at the cost of followers applying up to a heartbeat later.
   * A committed membership change is still announced at once. Default false (etcd's behaviour).
   */
  lazyCommitNotice?: boolean;
  /** Injected randomness: an integer in [0, n). The core owns none. */
  randomInt: (n: number) => number;
  logger?: RaftLogger;
}

export interface RaftLogger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
}

export const DEFAULT_TICK_MS = 100;
export const DEFAULT_HEARTBEAT_TICK = 1;
export const DEFAULT_ELECTION_TICK = 10;
