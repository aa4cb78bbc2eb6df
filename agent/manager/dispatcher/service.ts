/**
 * The dispatcher as a gRPC service, on every manager. Only the leader has a running Dispatcher; the
 * others answer UNAVAILABLE with the leader's address in trailing metadata (LEADER_ADDR_METADATA_KEY)
 * so the node dials the leader next, instead of SwarmKit's transparent forwarding of these calls.
 *
 * Who may call: a node certificate (worker or manager) signed by our root. The node ID comes from the
 * certificate, never from the request, so a node can only speak for itself. A certificate of our root
 * naming another cluster, or one whose node is no longer in the store, gets PERMISSION_DENIED with
 * NODE_REMOVED_METADATA_KEY: the node has no place here and stops.
 */
import * as grpc from '@grpc/grpc-js';
import {
  DISPATCHER_PATHS,
  isNodeRemovedError,
  LEADER_ADDR_METADATA_KEY,
  NODE_REMOVED_METADATA_KEY,
  nodeRemovedError,
  parseAssignmentsRequest,
  parseHeartbeatRequest,
  parseSessionRequest,
  parseUpdateTaskStatusRequest,
} from '../../api/dispatcher';
import { ApiError, isApiError } from '../../api/errors';
import { type CallWithAuthContext, requireRole } from '../../ca/tls-credentials';
import { serverStreamJsonMethod, unaryJsonMethod } from '../../rpc/json-service';
import { notLeaderError, type RpcStatusError, toServerError } from '../../rpc/status';
import { type ComponentLogger, silentLogger } from '../../runtime';
import type { AssignmentsSink, AssignmentsStream } from './assignments';
import type { Dispatcher, OpenSession, SessionSink } from './dispatcher';
import { peerIp } from './peer-address';

export const dispatcherServiceDefinition: grpc.ServiceDefinition = {
  session: serverStreamJsonMethod(DISPATCHER_PATHS.session),
  heartbeat: unaryJsonMethod(DISPATCHER_PATHS.heartbeat),
  assignments: serverStreamJsonMethod(DISPATCHER_PATHS.assignments),
  updateTaskStatus: unaryJsonMethod(DISPATCHER_PATHS.updateTaskStatus),
};

export interface DispatcherServiceOptions {
  /** The running dispatcher, or undefined when this manager is not the leader. */
  dispatcher: () => Dispatcher | undefined;
  /** The leader's remote API address (host:port) when known; sent to nodes that called a follower. */
  leaderAddress: () => string | undefined;
  rootCaPem: string;
  clusterId: string;
  logger?: ComponentLogger;
}

const NODE_ROLES = ['worker', 'manager'] as const;

function authorize(call: CallWithAuthContext, options: DispatcherServiceOptions): string {
  // Checked in two steps so that a certificate of our root but another cluster is told it was removed.
  const identity = requireRole(call, NODE_ROLES, { rootCaPem: options.rootCaPem });
  if (identity.clusterId !== options.clusterId) throw nodeRemovedError(identity.nodeId);
  return identity.nodeId;
}

function notLeader(options: DispatcherServiceOptions): RpcStatusError {
  return notLeaderError(options.leaderAddress());
}

function runningDispatcher(options: DispatcherServiceOptions): Dispatcher {
  const dispatcher = options.dispatcher();
  if (dispatcher === undefined || !dispatcher.isRunning) throw notLeader(options);
  return dispatcher;
}

function toStatus(err: unknown, options: DispatcherServiceOptions, logger: ComponentLogger): grpc.ServerErrorResponse {
  const status = toServerError(err, (bug) => logger.warn('dispatcher call failed unexpectedly', { error: String(bug) }));
  if (isNodeRemovedError(err)) status.metadata?.set(NODE_REMOVED_METADATA_KEY, String(err.details.nodeId));
  // A session closed because leadership moved: point the node at the new leader if we know it already.
  if (isApiError(err, 'Unavailable') && !(options.dispatcher()?.isRunning ?? false)) {
    const leader = options.leaderAddress();
    if (leader !== undefined) status.metadata?.set(LEADER_ADDR_METADATA_KEY, leader);
  }
  return status;
}

export function addDispatcherService(server: grpc.Server, options: DispatcherServiceOptions): void {
  const logger = options.logger ?? silentLogger;

  const session: grpc.handleServerStreamingCall<unknown, unknown> = (call) => {
    let ended = false;
    let open: OpenSession | undefined;
    const end = (err: unknown) => {
      if (ended) return;
      ended = true;
      open?.detach();
      if (!call.cancelled) call.emit('error', toStatus(err, options, logger));
    };
    call.on('cancelled', () => {
      ended = true;
      open?.detach();
    });
    const sink: SessionSink = {
      send: (message) => {
        if (!ended) call.write(message);
      },
      close: (error: ApiError) => end(error),
    };
    const run = async () => {
      const nodeId = authorize(call, options);
      const dispatcher = runningDispatcher(options);
      const { description } = parseSessionRequest(call.request);
      open = await dispatcher.openSession({ nodeId, description, addr: peerIp(call.getPeer()) }, sink);
      if (ended) open.detach();
    };
    run().catch(end);
  };

  const heartbeat: grpc.handleUnaryCall<unknown, unknown> = (call, callback) => {
    try {
      const nodeId = authorize(call, options);
      const dispatcher = runningDispatcher(options);
      const { sessionId } = parseHeartbeatRequest(call.request);
      callback(null, dispatcher.heartbeat(nodeId, sessionId));
    } catch (err) {
      callback(toStatus(err, options, logger));
    }
  };

  const assignments: grpc.handleServerStreamingCall<unknown, unknown> = (call) => {
    let ended = false;
    let stream: AssignmentsStream | undefined;
    const end = (err: unknown) => {
      if (ended) return;
      ended = true;
      stream?.detach();
      if (!call.cancelled) call.emit('error', toStatus(err, options, logger));
    };
    call.on('cancelled', () => {
      ended = true;
      stream?.detach();
    });
    const sink: AssignmentsSink = {
      send: (message) => {
        if (!ended) call.write(message);
      },
      close: (error: ApiError) => end(error),
    };
    try {
      const nodeId = authorize(call, options);
      const dispatcher = runningDispatcher(options);
      const { sessionId } = parseAssignmentsRequest(call.request);
      stream = dispatcher.openAssignments(nodeId, sessionId, sink);
      if (ended) stream.detach();
    } catch (err) {
      end(err);
    }
  };

  const updateTaskStatus: grpc.handleUnaryCall<unknown, unknown> = (call, callback) => {
    const run = async () => {
      const nodeId = authorize(call, options);
      const dispatcher = runningDispatcher(options);
      const { sessionId, updates } = parseUpdateTaskStatusRequest(call.request);
      await dispatcher.updateTaskStatus(nodeId, sessionId, updates);
      callback(null, {});
    };
    run().catch((err: unknown) => callback(toStatus(err, options, logger)));
  };

  server.addService(dispatcherServiceDefinition, { session, heartbeat, assignments, updateTaskStatus });
}
