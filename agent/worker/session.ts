/**
 * A node's session with the leader's dispatcher (SwarmKit's agent/session.go). Every node runs one,
 * managers included, since the leader tracks all nodes the same way.
 *
 * One attempt: dial a manager, open the Session stream with the node's description, wait for the first
 * SessionMessage (the leader sends it once the node is recorded READY), then heartbeat at the period
 * the dispatcher answers, jittered (backoff.ts). The attempt ends when the stream or a heartbeat fails.
 *
 * Between attempts:
 * - UNAVAILABLE carrying LEADER_ADDR_METADATA_KEY (a follower, or a leader that just stepped down):
 *   dial that address next, at once. Redirects in a row without a session count as failures, so two
 *   managers that disagree about the leader cannot make the node spin.
 * - PERMISSION_DENIED carrying NODE_REMOVED_METADATA_KEY: the node was removed from the cluster;
 *   onRemoved is called and the session stops for good.
 * - anything else: wait (capped exponential backoff with full jitter) and try the next manager.
 *   The backoff starts over only once a session has proven itself with a heartbeat answered: a
 *   session that flaps (ends right after it opened) keeps backing off further, so the node does not
 *   re-register in a tight loop (the dispatcher also refuses a 4th registration within 8 s).
 *
 * Managers are tried in the order managers() gives them, then those learned from session messages;
 * a connection re-reads credentials() so a renewed certificate is used from the next attempt on.
 */
import * as grpc from '@grpc/grpc-js';
import {
  DISPATCHER_PATHS,
  type HeartbeatRequest,
  LEADER_ADDR_METADATA_KEY,
  NODE_REMOVED_METADATA_KEY,
  parseHeartbeatResponse,
  parseSessionMessage,
  type SessionMessage,
  type SessionRequest,
} from '../api/dispatcher';
import type { NodeDescription } from '../api/objects';
import { decodeMessage, encodeMessage } from '../rpc/json-codec';
import { fromServiceError, isServiceError } from '../rpc/status';
import { type Clock, type ComponentLogger, realClock, silentLogger, type TimerHandle } from '../runtime';
import { Backoff, INITIAL_BACKOFF_MS, jitteredHeartbeatMs, MAX_BACKOFF_MS } from './backoff';

export const DEFAULT_RPC_TIMEOUT_MS = 5000;
export const DEFAULT_SESSION_OPEN_TIMEOUT_MS = 20_000;
/** Redirects followed at once in a row; beyond that the node backs off as after a failure. */
export const MAX_IMMEDIATE_REDIRECTS = 3;

/**
 * An established session, for what runs over it (the task channel): the connection, the session ID its
 * calls must name, and a signal that fires when the session ends.
 */
export interface SessionLink {
  readonly client: grpc.Client;
  readonly sessionId: string;
  readonly manager: string;
  /** Aborted when this session ends (the next one brings a new link). */
  readonly signal: AbortSignal;
  /** Ends the session (and so reconnects): for a stream over it that broke. */
  fail(reason: string): void;
}

export interface DispatcherSessionOptions {
  /** Manager addresses (host:port) to dial, in order; re-read before every attempt. */
  managers: () => readonly string[];
  /** TLS credentials with the node's certificate; re-read for every connection (certificates renew). */
  credentials: () => grpc.ChannelCredentials;
  /** For example managerChannelOptions from agent/ca. */
  channelOptions?: grpc.ChannelOptions;
  /** Sent when each session opens; called again for every attempt. */
  description: () => Promise<NodeDescription>;
  /** Every session message, the first one included. Must not throw (errors are logged and ignored). */
  onMessage?: (message: SessionMessage) => void;
  /** Each session once established, after its first message. Must not throw. */
  onEstablished?: (link: SessionLink) => void;
  /** The node was removed from the cluster; the session has stopped and will not restart. */
  onRemoved?: (reason: string) => void;
  logger?: ComponentLogger;
  clock?: Clock;
  /** Uniform in [0, 1); injected for deterministic jitter in tests. */
  random?: () => number;
  /** Deadline of each heartbeat call (real time; default 5 s). */
  rpcTimeoutMs?: number;
  /** How long to wait for the first session message before giving up on an attempt (default 20 s). */
  sessionOpenTimeoutMs?: number;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
}

type Outcome =
  | { kind: 'stopped' }
  | { kind: 'removed'; reason: string }
  | { kind: 'redirect'; leader: string; reason: string }
  | { kind: 'failed'; reason: string; established: boolean };

function metadataValue(err: grpc.ServiceError, key: string): string | undefined {
  const value = err.metadata?.get(key)[0];
  if (typeof value === 'string' && value !== '') return value;
  return undefined;
}

function dedupe(addresses: Iterable<string>): string[] {
  return [...new Set([...addresses].filter((a) => a !== ''))];
}

export class DispatcherSession {
  private readonly options: DispatcherSessionOptions;
  private readonly clock: Clock;
  private readonly logger: ComponentLogger;
  private readonly random: () => number;
  private readonly backoff: Backoff;

  private loop: Promise<void> | null = null;
  private stopped = false;
  private leaderHint: string | undefined;
  private cursor = 0;
  private learned: string[] = [];
  private cancelAttempt: (() => void) | undefined;
  private wake: (() => void) | undefined;
  private connectedTo: string | undefined;
  private currentSessionId: string | undefined;
  private heartbeatCount = 0;
  private attemptCount = 0;
  /** Redirects followed since the last established session or failure. */
  private redirectsInARow = 0;

  constructor(options: DispatcherSessionOptions) {
    this.options = options;
    this.clock = options.clock ?? realClock;
    this.logger = options.logger ?? silentLogger;
    this.random = options.random ?? Math.random;
    this.backoff = new Backoff(this.random, options.initialBackoffMs ?? INITIAL_BACKOFF_MS, options.maxBackoffMs ?? MAX_BACKOFF_MS);
  }

  /** The manager this node has an established session with, if any. */
  get manager(): string | undefined {
    return this.connectedTo;
  }

  get sessionId(): string | undefined {
    return this.currentSessionId;
  }

  /** Manager addresses from the last session message (to persist for the next start). */
  get knownManagers(): readonly string[] {
    return this.learned;
  }

  /** Successful heartbeats since start (diagnostics and tests). */
  get heartbeats(): number {
    return this.heartbeatCount;
  }

  /** Session attempts since start (diagnostics and tests). */
  get attempts(): number {
    return this.attemptCount;
  }

  start(): void {
    if (this.loop !== null || this.stopped) return;
    this.loop = this.run();
  }

  /** Ends the session (without telling the manager: its deadline will mark this node down). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.cancelAttempt?.();
    this.wake?.();
    await this.loop;
  }

  // ---------------------------------------------------------------------------------------- the loop

  private async run(): Promise<void> {
    while (!this.stopped) {
      const target = this.nextTarget();
      if (target === undefined) {
        this.logger.warn('no manager address to open a dispatcher session with');
        await this.sleep(this.backoff.next());
        continue;
      }
      const outcome = await this.attempt(target);
      switch (outcome.kind) {
        case 'stopped':
          return;
        case 'removed':
          this.stopped = true;
          this.logger.warn('this node was removed from the cluster; the dispatcher session stops', { reason: outcome.reason });
          this.options.onRemoved?.(outcome.reason);
          return;
        case 'redirect':
          this.leaderHint = outcome.leader;
          this.logger.info('redirected to the leader', { from: target, leader: outcome.leader });
          if (++this.redirectsInARow <= MAX_IMMEDIATE_REDIRECTS) continue;
          await this.sleep(this.backoff.next());
          break;
        case 'failed': {
          this.redirectsInARow = 0;
          const delay = this.backoff.next();
          this.logger.warn('dispatcher session failed', { manager: target, reason: outcome.reason, retryInMs: delay });
          await this.sleep(delay);
          break;
        }
      }
    }
  }

  private nextTarget(): string | undefined {
    if (this.leaderHint !== undefined) {
      const hint = this.leaderHint;
      this.leaderHint = undefined;
      return hint;
    }
    const candidates = dedupe([...this.options.managers(), ...this.learned]);
    if (candidates.length === 0) return undefined;
    const target = candidates[this.cursor % candidates.length];
    this.cursor = (this.cursor + 1) % candidates.length;
    return target;
  }

  private sleep(ms: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = this.clock.setTimeout(() => {
        this.wake = undefined;
        resolve();
      }, ms);
      this.wake = () => {
        this.clock.clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
    });
  }

  // ------------------------------------------------------------------------------------ one attempt

  private async attempt(target: string): Promise<Outcome> {
    this.attemptCount++;
    let description: NodeDescription;
    try {
      description = await this.options.description();
    } catch (err) {
      return { kind: 'failed', reason: `cannot describe this node: ${err instanceof Error ? err.message : String(err)}`, established: false };
    }
    if (this.stopped) return { kind: 'stopped' };

    let client: grpc.Client;
    try {
      client = new grpc.Client(target, this.options.credentials(), this.options.channelOptions ?? {});
    } catch (err) {
      return { kind: 'failed', reason: `cannot dial ${target}: ${err instanceof Error ? err.message : String(err)}`, established: false };
    }
    const request: SessionRequest = { description };
    const stream = client.makeServerStreamRequest<SessionRequest, unknown>(
      DISPATCHER_PATHS.session,
      encodeMessage,
      decodeMessage,
      request,
      new grpc.Metadata(),
      {},
    );

    return new Promise<Outcome>((resolve) => {
      let done = false;
      let sessionId: string | undefined;
      let heartbeatTimer: TimerHandle | undefined;
      let heartbeatCall: grpc.ClientUnaryCall | undefined;
      const ended = new AbortController();
      const openTimer = this.clock.setTimeout(
        () => finish({ kind: 'failed', reason: `no session message from ${target} in time`, established: false }),
        this.options.sessionOpenTimeoutMs ?? DEFAULT_SESSION_OPEN_TIMEOUT_MS,
      );

      const finish = (outcome: Outcome) => {
        if (done) return;
        done = true;
        this.clock.clearTimeout(openTimer);
        this.clock.clearTimeout(heartbeatTimer);
        heartbeatCall?.cancel();
        stream.cancel();
        client.close();
        this.cancelAttempt = undefined;
        this.connectedTo = undefined;
        this.currentSessionId = undefined;
        ended.abort();
        resolve(outcome);
      };
      this.cancelAttempt = () => finish({ kind: 'stopped' });

      const classify = (err: unknown, what: string): Outcome => {
        const established = sessionId !== undefined;
        if (isServiceError(err)) {
          const removed = metadataValue(err, NODE_REMOVED_METADATA_KEY);
          if (err.code === grpc.status.PERMISSION_DENIED && removed !== undefined) return { kind: 'removed', reason: err.details };
          const leader = metadataValue(err, LEADER_ADDR_METADATA_KEY);
          if (err.code === grpc.status.UNAVAILABLE && leader !== undefined && leader !== target) {
            return { kind: 'redirect', leader, reason: err.details };
          }
        }
        return { kind: 'failed', reason: `${what}: ${fromServiceError(err, target).message}`, established };
      };

      const scheduleHeartbeat = (periodMs: number) => {
        heartbeatTimer = this.clock.setTimeout(beat, jitteredHeartbeatMs(periodMs, this.random));
      };

      const beat = () => {
        if (done || sessionId === undefined) return;
        const heartbeat: HeartbeatRequest = { sessionId };
        const deadline = Date.now() + (this.options.rpcTimeoutMs ?? DEFAULT_RPC_TIMEOUT_MS);
        heartbeatCall = client.makeUnaryRequest<HeartbeatRequest, unknown>(
          DISPATCHER_PATHS.heartbeat,
          encodeMessage,
          decodeMessage,
          heartbeat,
          new grpc.Metadata(),
          { deadline },
          (err, response) => {
            heartbeatCall = undefined;
            if (done) return;
            if (err) {
              finish(classify(err, 'heartbeat'));
              return;
            }
            try {
              const { periodMs } = parseHeartbeatResponse(response);
              this.heartbeatCount++;
              this.backoff.reset();
              scheduleHeartbeat(periodMs);
            } catch (parseErr) {
              finish({ kind: 'failed', reason: `bad heartbeat response: ${String(parseErr)}`, established: true });
            }
          },
        );
      };

      stream.on('data', (raw: unknown) => {
        if (done) return;
        let message: SessionMessage;
        try {
          message = parseSessionMessage(raw);
        } catch (err) {
          finish({ kind: 'failed', reason: `bad session message: ${String(err)}`, established: sessionId !== undefined });
          return;
        }
        if (sessionId === undefined) {
          sessionId = message.sessionId;
          this.clock.clearTimeout(openTimer);
          this.connectedTo = target;
          this.currentSessionId = sessionId;
          this.redirectsInARow = 0;
          this.logger.info('dispatcher session established', { manager: target, sessionId });
          scheduleHeartbeat(message.heartbeatPeriodMs);
          const link: SessionLink = {
            client,
            sessionId,
            manager: target,
            signal: ended.signal,
            fail: (reason) => finish({ kind: 'failed', reason, established: true }),
          };
          try {
            this.options.onEstablished?.(link);
          } catch (err) {
            this.logger.warn('session established handler failed', { error: err instanceof Error ? err.message : String(err) });
          }
        } else if (message.sessionId !== sessionId) {
          finish({ kind: 'failed', reason: 'the manager switched session IDs mid-stream', established: true });
          return;
        }
        this.learned = dedupe(message.managers.map((m) => m.addr));
        try {
          this.options.onMessage?.(message);
        } catch (err) {
          this.logger.warn('session message handler failed', { error: err instanceof Error ? err.message : String(err) });
        }
      });
      stream.on('error', (err: unknown) => finish(classify(err, 'session')));
      // A stream the manager ends without an error ('status' OK; errors arrive as 'error' first) still ends the session.
      stream.on('status', () => finish({ kind: 'failed', reason: 'the manager ended the session', established: sessionId !== undefined }));
    });
  }
}
