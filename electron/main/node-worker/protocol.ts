/**
 * The messages between the main thread and the worker thread that runs this app's swarmd node.
 *
 * The node (raft, store, orchestrators, scheduler, dispatcher, its gRPC servers) runs in a worker so
 * that its synchronous work and the garbage collection of its large heap never hold the main thread,
 * which serves the windows (IPC) and browser mode's WebSocket. Everything that changes the cluster still
 * goes through the node's control API on its Unix socket; these messages only start and stop the node,
 * answer the few reads the main process makes of the manager's store, and carry the cluster feed.
 *
 * Calls (main -> worker) carry an id and get exactly one reply; events (worker -> main) are pushed.
 * Only structured-cloneable data crosses: no classes, so errors travel as WireError.
 */
import { ApiError, type ErrorCode, isErrorCode } from '../../../agent/api/errors';
import type { NodeRole } from '../../../agent/ca/roles';
import type { LogLevel } from '../../../agent/log';

/** What SwarmNode.start needs, minus the logger (the worker makes one that forwards to the main thread). */
export interface NodeStartOptions {
  stateDir: string;
  listenRemoteApi: string;
  advertiseRemoteApi: string;
  joinAddr?: string;
  joinToken?: string;
  engineAddr?: string;
  hostname?: string;
  tickMs?: number;
  electionTick?: number;
  heartbeatTick?: number;
}

/** The started node's identity; its role is then kept current by `status` events. */
export interface StartedNode {
  nodeId: string;
  clusterId: string;
  role: NodeRole;
  /** Whether it runs a manager now (a manager that lost its role keeps the node, not the manager). */
  managerRunning: boolean;
  advertiseAddress: string;
  controlSocket: string;
}

/** The cluster feed's timing (ClusterFeedOptions without the store, membership and emit). */
export interface FeedTiming {
  flushMs?: number;
  healthCheckMs?: number;
  maxChangesPerEvent?: number;
}

/** Each call: what it is sent with, and what its reply carries. */
export interface NodeWorkerCalls {
  start: { args: NodeStartOptions; result: StartedNode };
  /** Stops the node cleanly; the worker has nothing left to do afterwards. */
  stop: { args: { reason: string }; result: null };
  /** True when this node's manager is the cluster's only one. */
  isOnlyManager: { args: null; result: boolean };
  /** Tasks of a node that are meant to run (desired state RUNNING or earlier). */
  nodeTaskCount: { args: { nodeId: string }; result: number };
  /** Remote API addresses of the managers the store lists. */
  managerAddresses: { args: null; result: string[] };
  /**
   * Starts feed `feedId` on the running manager's store: its snapshot now (a ClusterSnapshot as UTF-8
   * JSON, encoded here and its buffer transferred, like `feedEvent`s), `feedEvent`s after.
   */
  openFeed: { args: { feedId: number; timing: FeedTiming }; result: { snapshotJson: Uint8Array<ArrayBuffer> } };
  closeFeed: { args: { feedId: number }; result: null };
}

export type CallName = keyof NodeWorkerCalls;

export type CallMessage = { [M in CallName]: { kind: 'call'; id: number; method: M; args: NodeWorkerCalls[M]['args'] } }[CallName];

/** An error as it crosses: a project error code when it had one. */
export interface WireError {
  code?: ErrorCode;
  message: string;
  details?: Readonly<Record<string, string | number | boolean>>;
}

export type WorkerMessage =
  | { kind: 'reply'; id: number; ok: true; value: NodeWorkerCalls[CallName]['result'] }
  | { kind: 'reply'; id: number; ok: false; error: WireError }
  /** The node's role, and whether it runs a manager now (both change with promotion and demotion). */
  | { kind: 'status'; role: NodeRole; managerRunning: boolean }
  /** The node stopped by itself (removed from the cluster, or a fatal error); the reason when known. */
  | { kind: 'stopped'; reason: string | undefined }
  /**
   * One of a feed's events as UTF-8 JSON, encoded in the worker and its buffer transferred, not copied:
   * browser mode writes the bytes to its WebSocket as they are, so the main thread neither decodes a
   * batch of thousands of tasks nor encodes it again, and its heap never holds the batch.
   */
  | { kind: 'feedEvent'; feedId: number; json: Uint8Array; resync: boolean }
  | { kind: 'log'; level: LogLevel; message: string; fields: Record<string, unknown> };

export function toWireError(err: unknown): WireError {
  if (err instanceof ApiError) return { code: err.code, message: err.message, details: { ...err.details } };
  const code = (err as { code?: unknown } | null)?.code;
  const message = err instanceof Error ? err.message : String(err);
  return isErrorCode(code) ? { code, message } : { message };
}

/** Back to an ApiError when the error had a code, so callers branch on it as before. */
export function fromWireError(wire: WireError): Error {
  if (wire.code !== undefined) return new ApiError(wire.code, wire.message, wire.details === undefined ? {} : { details: wire.details });
  return new Error(wire.message);
}
