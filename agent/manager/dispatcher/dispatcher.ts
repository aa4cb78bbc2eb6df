/**
 * The dispatcher (SwarmKit's manager/dispatcher, session and heartbeat part). It runs on the Raft
 * leader only: start() when this manager wins an election, stop() when it loses leadership.
 *
 * Every node keeps one session with it. Registration writes the node's description, address and
 * state READY; from then on the node heartbeats every period. Heartbeats live in memory only (a timer
 * per node): the store is written when a node's state changes, never per heartbeat. A node that
 * misses `gracePeriodMultiplier` periods (3) is marked DOWN and its session closed; it becomes READY
 * again by opening a new session. A node may register at most 3 times within 8 s in a row
 * (registration-limit.ts, as SwarmKit); a flapping node is refused with UNAVAILABLE and backs off.
 *
 * A new leader knows nothing about heartbeats received by the old one, so start() moves every node
 * that is not already DOWN to UNKNOWN and gives it `unknownGracePeriodMultiplier` periods (6, as in
 * SwarmKit) to open a session here before it is marked DOWN: the nodes need time to notice the old
 * leader is gone and to find the new one.
 *
 * Session messages are pushed from a store watch (never polled): a node gets a new one when its role,
 * the cluster's heartbeat period or the set of managers changes. The dispatcher is gRPC-free; the
 * service (service.ts) authenticates callers and adapts streams to SessionSink.
 *
 * The task channel belongs to a session: Assignments streams (assignments.ts) and task status reports
 * (status-writer.ts) are accepted only with the node's current session ID, and a session that
 * ends (superseded, expired, node removed, leadership lost) ends its Assignments streams with it.
 */
import {
  type HeartbeatResponse,
  type ManagerPeer,
  nodeRemovedError,
  type SessionMessage,
  type TaskStatusReport,
} from '../../api/dispatcher';
import { ApiError } from '../../api/errors';
import type { NodeDescription } from '../../api/objects';
import { type Clock, type ComponentLogger, realClock, silentLogger, type TimerHandle } from '../../runtime';
import { type ChangeEvent, type MemoryStore, newId, type Subscription } from '../../store';
import type { SliceLimits } from '../work-slice';
import { clusterOf, heartbeatPeriodOf, managerPeerOf, managersOf, sortedPeers } from './session-content';
import { type AssignmentsSink, type AssignmentsStream, AssignmentStreams } from './assignments';
import { DEFAULT_REGISTRATION_LIMIT, type RegistrationLimit, RegistrationLimiter } from './registration-limit';
import { NodeStatusWriter, TaskStatusWriter } from './status-writer';

export const DEFAULT_GRACE_PERIOD_MULTIPLIER = 3;
/** SwarmKit gives nodes in "unknown" state twice the normal grace. */
export const DEFAULT_UNKNOWN_GRACE_PERIOD_MULTIPLIER = 2 * DEFAULT_GRACE_PERIOD_MULTIPLIER;

export const LEADERSHIP_CHANGE_MESSAGE = 'Node moved to "unknown" state due to leadership change in cluster';
export const HEARTBEAT_FAILURE_MESSAGE = 'heartbeat failure';
export const UNKNOWN_HEARTBEAT_FAILURE_MESSAGE = 'heartbeat failure for node in "unknown" state';

export interface DispatcherOptions {
  store: MemoryStore;
  clock?: Clock;
  logger?: ComponentLogger;
  /** Heartbeat periods a node may miss before it is DOWN (default 3). */
  gracePeriodMultiplier?: number;
  /** Periods a node has after a leader change to open a session here (default 6). */
  unknownGracePeriodMultiplier?: number;
  /** Registrations a node may make in a row, each within periodMs of the last (default 3 in 8 s). */
  registrationLimit?: RegistrationLimit;
  /** How much of the queued node and task status one store batch takes (default DEFAULT_SLICE). */
  writeSlice?: Readonly<SliceLimits>;
}

/** Where a session's messages go: the service wraps the gRPC stream in one of these. */
export interface SessionSink {
  send(message: SessionMessage): void;
  /** Ends the session's stream with `error` (the node reconnects, or stops if it was removed). */
  close(error: ApiError): void;
}

export interface SessionRegistration {
  /** From the caller's certificate, never from the request. */
  nodeId: string;
  description: NodeDescription;
  /** The IP the node connects from, as this manager sees it; '' if unknown (then the old one is kept). */
  addr: string;
}

export interface OpenSession {
  readonly sessionId: string;
  /** The stream ended on the node's side. The node's heartbeat deadline keeps running. */
  detach(): void;
}

interface LiveSession {
  readonly id: string;
  readonly sink: SessionSink;
  /** False until READY is committed and the first message sent. */
  established: boolean;
  /** What the last message said (period, managers, role), to send only changes. */
  lastSent?: string;
  /** The node's Assignments streams opened with this session; they end with it. */
  readonly streams: Set<AssignmentsStream>;
}

interface NodeRecord {
  readonly nodeId: string;
  /** Absent while the node is in its post-election "unknown" grace, or after its stream ended. */
  session?: LiveSession;
  timer?: TimerHandle;
}

function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

function describeError(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export class Dispatcher {
  private readonly store: MemoryStore;
  private readonly clock: Clock;
  private readonly logger: ComponentLogger;
  private readonly graceMultiplier: number;
  private readonly unknownGraceMultiplier: number;
  private readonly registrations: RegistrationLimiter;

  private running = false;
  /** Bumped by start() and stop(), so async work from an earlier term can tell it is stale. */
  private term = 0;
  private readonly nodes = new Map<string, NodeRecord>();
  private writer: NodeStatusWriter | null = null;
  private taskWriter: TaskStatusWriter | null = null;
  private assignments: AssignmentStreams | null = null;
  private subscription: Subscription | null = null;
  private periodMs = heartbeatPeriodOf(undefined);
  private managerAddrs = new Map<string, string>();
  private managers: ManagerPeer[] = [];
  private readonly writeSlice: Readonly<SliceLimits> | undefined;

  constructor(options: DispatcherOptions) {
    this.store = options.store;
    this.clock = options.clock ?? realClock;
    this.logger = options.logger ?? silentLogger;
    this.graceMultiplier = options.gracePeriodMultiplier ?? DEFAULT_GRACE_PERIOD_MULTIPLIER;
    this.unknownGraceMultiplier = options.unknownGracePeriodMultiplier ?? DEFAULT_UNKNOWN_GRACE_PERIOD_MULTIPLIER;
    this.registrations = new RegistrationLimiter(this.clock, options.registrationLimit ?? DEFAULT_REGISTRATION_LIMIT);
    this.writeSlice = options.writeSlice;
  }

  get isRunning(): boolean {
    return this.running;
  }

  /** The cluster's current heartbeat period. */
  get heartbeatPeriodMs(): number {
    return this.periodMs;
  }

  /** Nodes with an open session. */
  get sessionCount(): number {
    let n = 0;
    for (const record of this.nodes.values()) if (record.session !== undefined) n++;
    return n;
  }

  // ------------------------------------------------------------------------------------- lifecycle

  /**
   * Starts serving (this manager just became leader). Sessions are accepted at once; the promise
   * resolves when the "unknown" marks are committed (a failure there is logged, not thrown: the
   * nodes' own sessions will correct their state).
   */
  start(): Promise<void> {
    if (this.running) return Promise.resolve();
    this.running = true;
    const term = ++this.term;
    const writer = new NodeStatusWriter(this.store, this.logger, undefined, this.writeSlice);
    this.writer = writer;
    this.taskWriter = new TaskStatusWriter(this.store, this.logger, undefined, this.writeSlice);
    this.assignments = new AssignmentStreams(this.store, this.logger);
    this.assignments.start();
    const { value: nodes, subscription } = this.store.viewAndWatch(
      (tx) => {
        this.periodMs = heartbeatPeriodOf(clusterOf(tx));
        this.setManagers(managersOf(tx));
        return tx.list('node');
      },
      { kinds: ['node', 'cluster'] },
    );
    this.subscription = subscription;
    void this.consume(subscription, term);
    this.logger.info('dispatcher started', { nodes: nodes.length, heartbeatPeriodMs: this.periodMs });

    const marks: Promise<void>[] = [];
    for (const node of nodes) {
      // Down nodes stay down: nothing suggests they came back.
      if (node.status.state === 'down') continue;
      const record: NodeRecord = { nodeId: node.id };
      this.nodes.set(node.id, record);
      this.arm(record, this.unknownGraceMultiplier, true);
      marks.push(writer.write(node.id, { state: 'unknown', message: LEADERSHIP_CHANGE_MESSAGE }));
    }
    return Promise.allSettled(marks).then((results) => {
      const failed = results.filter((r) => r.status === 'rejected').length;
      if (failed > 0 && term === this.term) this.logger.warn('could not mark nodes unknown after the leader change', { failed });
    });
  }

  /** Stops serving (leadership lost): every session ends with Unavailable so its node finds the new leader. */
  stop(): void {
    if (!this.running) return;
    this.running = false;
    this.term++;
    this.subscription?.close();
    this.subscription = null;
    this.writer?.stop();
    this.writer = null;
    this.taskWriter?.stop();
    this.taskWriter = null;
    const closing = new ApiError('Unavailable', 'this manager is no longer the leader');
    this.assignments?.stop(closing);
    this.assignments = null;
    for (const record of this.nodes.values()) {
      this.clock.clearTimeout(record.timer);
      record.session?.sink.close(closing);
    }
    this.nodes.clear();
    this.registrations.clear();
    this.logger.info('dispatcher stopped');
  }

  /** Resolves when every status write queued so far has committed or failed (for tests and shutdown). */
  async settled(): Promise<void> {
    await Promise.all([this.writer?.idle(), this.taskWriter?.idle()]);
  }

  /** Task status reports dropped as foreign or for unknown tasks since start (diagnostics and tests). */
  get ignoredTaskReports(): number {
    return this.taskWriter?.ignored ?? 0;
  }

  // ---------------------------------------------------------------------------------------- sessions

  /**
   * Registers a node's session: records it READY with its description and address, then sends the
   * first message. Rejects with PermissionDenied (reason node-removed) when the node is not in the
   * store, with Unavailable when the node registers too often (registration-limit.ts), or when the
   * dispatcher stops or the session is superseded meanwhile.
   */
  async openSession(registration: SessionRegistration, sink: SessionSink): Promise<OpenSession> {
    const writer = this.requireRunning();
    const { nodeId, description, addr } = registration;
    const term = this.term;
    if (this.store.get('node', nodeId) === undefined) throw nodeRemovedError(nodeId);
    try {
      this.registrations.admit(nodeId);
    } catch (err) {
      this.logger.warn('node registration refused: too many in a row', { nodeId, ...this.registrations.limit });
      throw err;
    }

    const previous = this.nodes.get(nodeId);
    if (previous !== undefined) {
      this.clock.clearTimeout(previous.timer);
      previous.session?.sink.close(new ApiError('Unavailable', 'superseded by a newer session of the same node'));
    }
    const streams = new Set<AssignmentsStream>();
    const session: LiveSession = {
      id: newId(),
      // Whoever ends the session (superseded, expired, removed, stop) ends its Assignments streams too.
      sink: {
        send: (message) => sink.send(message),
        close: (error) => {
          for (const stream of streams) stream.close(error);
          streams.clear();
          sink.close(error);
        },
      },
      established: false,
      streams,
    };
    const record: NodeRecord = { nodeId, session };
    this.nodes.set(nodeId, record);
    // The deadline starts now: registration counts as the first heartbeat.
    this.arm(record, this.graceMultiplier, false);

    try {
      await writer.write(nodeId, { state: 'ready', message: '', addr: addr === '' ? undefined : addr, description });
    } catch (err) {
      if (record.session === session) record.session = undefined;
      throw err instanceof ApiError ? err : new ApiError('Unavailable', `could not record the node as ready: ${describeError(err)}`);
    }
    if (this.store.get('node', nodeId) === undefined) throw nodeRemovedError(nodeId);
    if (term !== this.term || record.session !== session || this.nodes.get(nodeId) !== record) {
      throw new ApiError('Unavailable', 'the session ended before it was established');
    }
    session.established = true;
    this.logger.info('node session established', { nodeId, addr, sessionId: session.id });
    this.push(record);
    return {
      sessionId: session.id,
      detach: () => {
        if (record.session === session) record.session = undefined;
      },
    };
  }

  /** Keeps the session alive; NotFound when it is not the node's current session here. */
  heartbeat(nodeId: string, sessionId: string): HeartbeatResponse {
    this.requireRunning();
    const record = this.nodes.get(nodeId);
    const session = record?.session;
    if (record === undefined || session === undefined || session.id !== sessionId || !session.established) {
      throw new ApiError('NotFound', 'session invalid: the node must open a new session');
    }
    this.arm(record, this.graceMultiplier, false);
    return { periodMs: this.periodMs };
  }

  // ------------------------------------------------------------------------------------- task channel

  /**
   * Opens an Assignments stream for the node's session: the complete task set is sent at once, changes
   * follow. NotFound when `sessionId` is not the node's current session here.
   */
  openAssignments(nodeId: string, sessionId: string, sink: AssignmentsSink): AssignmentsStream {
    this.requireRunning();
    const session = this.currentSession(nodeId, sessionId);
    if (this.assignments === null) throw new ApiError('Unavailable', 'the dispatcher is not running on this manager');
    const stream = this.assignments.open(nodeId, sink);
    session.streams.add(stream);
    return {
      close: (error) => {
        session.streams.delete(stream);
        stream.close(error);
      },
      detach: () => {
        session.streams.delete(stream);
        stream.detach();
      },
    };
  }

  /**
   * Writes the node's task status reports (batched with other nodes'); resolves once committed. Reports
   * for tasks that are not the node's are ignored, stale ones change nothing (advanceStatus).
   */
  async updateTaskStatus(nodeId: string, sessionId: string, reports: readonly TaskStatusReport[]): Promise<void> {
    this.requireRunning();
    this.currentSession(nodeId, sessionId);
    if (this.taskWriter === null) throw new ApiError('Unavailable', 'the dispatcher is not running on this manager');
    await this.taskWriter.write(nodeId, reports);
  }

  private currentSession(nodeId: string, sessionId: string): LiveSession {
    const session = this.nodes.get(nodeId)?.session;
    if (session === undefined || session.id !== sessionId || !session.established) {
      throw new ApiError('NotFound', 'session invalid: the node must open a new session');
    }
    return session;
  }

  private requireRunning(): NodeStatusWriter {
    if (!this.running || this.writer === null) throw new ApiError('Unavailable', 'the dispatcher is not running on this manager');
    return this.writer;
  }

  // --------------------------------------------------------------------------------------- deadlines

  private arm(record: NodeRecord, multiplier: number, unknown: boolean): void {
    this.clock.clearTimeout(record.timer);
    const ms = this.periodMs * multiplier;
    record.timer = this.clock.setTimeout(() => this.expire(record, ms, multiplier, unknown), ms);
  }

  private expire(record: NodeRecord, ms: number, multiplier: number, unknown: boolean): void {
    if (!this.running || this.nodes.get(record.nodeId) !== record) return;
    this.nodes.delete(record.nodeId);
    const message = unknown
      ? `${UNKNOWN_HEARTBEAT_FAILURE_MESSAGE}: no session within ${formatMs(ms)} of the leadership change`
      : `${HEARTBEAT_FAILURE_MESSAGE}: no heartbeat for ${formatMs(ms)} (${multiplier} heartbeat periods)`;
    this.logger.info('node heartbeat expired, marking it down', { nodeId: record.nodeId, afterMs: ms, unknown });
    record.session?.sink.close(new ApiError('Unavailable', 'heartbeat deadline passed; open a new session'));
    this.writer?.write(record.nodeId, { state: 'down', message }).catch((err: unknown) => {
      this.logger.warn('could not mark node down', { nodeId: record.nodeId, error: describeError(err) });
    });
  }

  // ----------------------------------------------------------------------------------- session messages

  private setManagers(managers: Map<string, string>): void {
    this.managerAddrs = managers;
    this.managers = sortedPeers(managers);
  }

  /** Sends the node its message if anything in it changed since the last one. */
  private push(record: NodeRecord): void {
    const session = record.session;
    if (session === undefined || !session.established) return;
    const node = this.store.get('node', record.nodeId);
    if (node === undefined) return; // the delete event closes the session
    const content = { heartbeatPeriodMs: this.periodMs, managers: this.managers, role: node.role };
    const key = JSON.stringify(content);
    if (key === session.lastSent) return;
    session.lastSent = key;
    session.sink.send({ sessionId: session.id, ...content, managers: content.managers.map((m) => ({ ...m })) });
  }

  private pushAll(): void {
    for (const record of this.nodes.values()) this.push(record);
  }

  private async consume(first: Subscription, term: number): Promise<void> {
    let subscription = first;
    while (term === this.term) {
      try {
        let changes: ChangeEvent[] = [];
        for await (const event of subscription) {
          if (term !== this.term) return;
          if (event.type === 'change') changes.push(event);
          else if (event.type === 'commit') {
            this.onCommit(changes);
            changes = [];
          } else this.resync();
        }
        return; // closed by stop()
      } catch (err) {
        if (term !== this.term) return;
        // Fell behind (a burst of writes): start over from a fresh view, losing nothing.
        this.logger.warn('dispatcher watch restarted', { error: describeError(err) });
        const { subscription: next } = this.store.viewAndWatch(() => undefined, { kinds: ['node', 'cluster'] });
        subscription = next;
        this.subscription = next;
        this.resync();
      }
    }
  }

  private onCommit(changes: readonly ChangeEvent[]): void {
    let broadcast = false;
    const touched = new Set<string>();
    for (const change of changes) {
      if (change.kind === 'cluster') {
        if (change.action === 'delete') continue;
        const period = heartbeatPeriodOf(change.object);
        if (period !== this.periodMs) {
          this.logger.info('heartbeat period changed', { heartbeatPeriodMs: period });
          this.periodMs = period;
          broadcast = true;
        }
      } else if (change.kind === 'node') {
        const id = change.object.id;
        const peer = change.action === 'delete' ? undefined : managerPeerOf(change.object);
        if (peer?.addr !== this.managerAddrs.get(id)) {
          const next = new Map(this.managerAddrs);
          if (peer === undefined) next.delete(id);
          else next.set(id, peer.addr);
          this.setManagers(next);
          broadcast = true;
        }
        if (change.action === 'delete') this.removed(id);
        else touched.add(id);
      }
    }
    if (broadcast) this.pushAll();
    else for (const id of touched) this.pushIfPresent(id);
  }

  private pushIfPresent(nodeId: string): void {
    const record = this.nodes.get(nodeId);
    if (record !== undefined) this.push(record);
  }

  /** After a snapshot restore or a lost watch: recompute everything from the current state. */
  private resync(): void {
    this.store.view((tx) => {
      this.periodMs = heartbeatPeriodOf(clusterOf(tx));
      this.setManagers(managersOf(tx));
      for (const nodeId of [...this.nodes.keys()]) if (tx.get('node', nodeId) === undefined) this.removed(nodeId);
    });
    this.pushAll();
  }

  /** The node left the store (`node rm`): its session ends and the node stops. */
  private removed(nodeId: string): void {
    this.registrations.forget(nodeId);
    const record = this.nodes.get(nodeId);
    if (record === undefined) return;
    this.nodes.delete(nodeId);
    this.clock.clearTimeout(record.timer);
    this.logger.info('node removed, closing its session', { nodeId });
    record.session?.sink.close(nodeRemovedError(nodeId));
  }
}
