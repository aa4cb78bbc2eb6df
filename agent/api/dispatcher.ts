/**
 * The dispatcher contract (SwarmKit's api/dispatcher.proto, session and heartbeat part): shared by the
 * leader's service (agent/manager/dispatcher) and every node's session (agent/worker/session.ts).
 *
 * Session: a server stream. The node sends its description once; the leader answers with a
 * SessionMessage right after it recorded the node as ready, and another whenever something in the
 * message changes (the node's role, the heartbeat period, the set of managers).
 * Heartbeat: unary, every period, naming the session it keeps alive.
 *
 * Task channel (SwarmKit's Assignments and UpdateTaskStatus), both naming the node's current session:
 * Assignments: a server stream. First a COMPLETE message with every task assigned to the node, then
 *   INCREMENTAL ones with what changed (one per store commit that touched the node's tasks). A new
 *   stream, after any reconnect, starts with a COMPLETE message again.
 * UpdateTaskStatus: unary, a batch of the node's task status reports; answered once written.
 *
 * Messages are JSON (agent/rpc/json-codec.ts). Unknown fields are dropped, as protobuf would ignore
 * them, so a newer node can talk to an older manager. Both sides validate what they receive.
 */
import { z } from 'zod';
import { ApiError, isApiError } from './errors';
import { isTaskState, type NodeDescription, type NodeRole, type PortConfig, type Task, type TaskStatus } from './objects';

export const DISPATCHER_SERVICE_NAME = 'swarmdesk.dispatcher.Dispatcher';
export const DISPATCHER_PATHS = Object.freeze({
  session: `/${DISPATCHER_SERVICE_NAME}/Session`,
  heartbeat: `/${DISPATCHER_SERVICE_NAME}/Heartbeat`,
  assignments: `/${DISPATCHER_SERVICE_NAME}/Assignments`,
  updateTaskStatus: `/${DISPATCHER_SERVICE_NAME}/UpdateTaskStatus`,
});

/** Trailing metadata of UNAVAILABLE from a manager that is not the leader: where the leader is. */
export const LEADER_ADDR_METADATA_KEY = 'swarmdesk-leader-addr';
/** Trailing metadata of PERMISSION_DENIED for a removed node, so the node need not parse messages. */
export const NODE_REMOVED_METADATA_KEY = 'swarmdesk-node-removed';

/** SwarmKit's default; the cluster object's spec.dispatcher.heartbeatPeriodMs overrides it. */
export const DEFAULT_HEARTBEAT_PERIOD_MS = 5000;

export interface SessionRequest {
  description: NodeDescription;
}

export interface ManagerPeer {
  nodeId: string;
  /** host:port of the manager's remote API. */
  addr: string;
}

export interface SessionMessage {
  sessionId: string;
  heartbeatPeriodMs: number;
  /** Every manager with a known address, ordered by node ID. */
  managers: ManagerPeer[];
  /** The node's current role (Node.role), which may lag the desired one in its spec. */
  role: NodeRole;
}

export interface HeartbeatRequest {
  sessionId: string;
}

export interface HeartbeatResponse {
  /** When to send the next heartbeat (before the node's jitter). */
  periodMs: number;
}

export interface AssignmentsRequest {
  sessionId: string;
}

export interface AssignmentsMessage {
  /** complete: `updates` is the node's whole task set, anything not in it is no longer assigned. */
  type: 'complete' | 'incremental';
  /** Tasks assigned to the node, new or changed (their spec or desired state; status changes the node made itself are not echoed). */
  updates: Task[];
  /** IDs of tasks no longer assigned to the node (deleted); always empty in a complete message. */
  removes: string[];
}

export interface TaskStatusReport {
  taskId: string;
  status: TaskStatus;
}

export interface UpdateTaskStatusRequest {
  sessionId: string;
  updates: TaskStatusReport[];
}

export type UpdateTaskStatusResponse = Record<string, never>;

/** The most reports one UpdateTaskStatus call may carry. */
export const MAX_TASK_STATUS_REPORTS = 1000;

// ---------------------------------------------------------------------------------------------------
// Errors both sides must recognise

export function nodeRemovedMessage(nodeId: string): string {
  return `node ${nodeId} was removed from the cluster`;
}

/** PermissionDenied that tells the node to stop for good (it has no place in this cluster any more). */
export function nodeRemovedError(nodeId: string): ApiError {
  return new ApiError('PermissionDenied', nodeRemovedMessage(nodeId), { details: { reason: 'node-removed', nodeId } });
}

export function isNodeRemovedError(err: unknown): err is ApiError {
  return isApiError(err, 'PermissionDenied') && err.details.reason === 'node-removed';
}

// ---------------------------------------------------------------------------------------------------
// Validation

const MAX_TEXT = 1024;
const MAX_LABELS = 256;

const text = z.string().max(MAX_TEXT);
const count = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const labels = z
  .record(z.string().min(1).max(256), z.string().max(4096))
  .refine((value) => Object.keys(value).length <= MAX_LABELS, `at most ${MAX_LABELS} labels`);

const nodeDescription = z.object({
  hostname: text.min(1),
  platform: z.object({ os: text, arch: text }),
  resources: z.object({ nanoCpus: count, memoryBytes: count }),
  engine: z.object({ version: text, labels }).optional(),
});

const id = z.string().min(1).max(64);
const periodMs = z.number().int().positive();

const sessionRequest = z.object({ description: nodeDescription });
const heartbeatRequest = z.object({ sessionId: id });
const sessionMessage = z.object({
  sessionId: id,
  heartbeatPeriodMs: periodMs,
  managers: z.array(z.object({ nodeId: id, addr: text.min(1) })),
  role: z.enum(['worker', 'manager']),
});
const heartbeatResponse = z.object({ periodMs });

const taskState = z.number().refine(isTaskState, 'not a task state');
const port = z.object({
  name: text.optional(),
  protocol: z.enum(['tcp', 'udp', 'sctp']),
  targetPort: z.number().int().min(0).max(65535),
  publishedPort: z.number().int().min(0).max(65535).optional(),
  publishMode: z.enum(['ingress', 'host']),
});
const taskStatus = z.object({
  state: taskState,
  message: text,
  err: z.string().max(16 * MAX_TEXT).optional(),
  timestamp: text.min(1),
  containerStatus: z.object({ containerId: text, pid: z.number().int(), exitCode: z.number().int() }).optional(),
  portStatus: z.object({ ports: z.array(port).max(1024) }).optional(),
});
const assignmentsRequest = z.object({ sessionId: id });
const updateTaskStatusRequest = z.object({
  sessionId: id,
  updates: z.array(z.object({ taskId: id, status: taskStatus })).max(MAX_TASK_STATUS_REPORTS),
});
/**
 * Tasks come from the leader's store, which validated them; the node checks only what it acts on and
 * keeps the rest as sent.
 */
const assignedTask = z.looseObject({
  id,
  serviceId: z.string().max(64),
  slot: count,
  nodeId: id,
  desiredState: taskState,
  spec: z.looseObject({ container: z.looseObject({ image: text.min(1) }) }),
  status: z.looseObject({ state: taskState, message: text }),
  serviceAnnotations: z.looseObject({ name: text }),
});
const assignmentsMessage = z.object({
  type: z.enum(['complete', 'incremental']),
  updates: z.array(assignedTask),
  removes: z.array(id),
});

function describeIssue(issue: z.core.$ZodIssue): string {
  const path = issue.path.map(String).join('.');
  return path === '' ? issue.message : `${path}: ${issue.message}`;
}

function parse<T>(schema: z.ZodType<T>, what: string, value: unknown): T {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ApiError('InvalidArgument', `${what}: not a JSON object`);
  }
  const result = schema.safeParse(value);
  if (!result.success) throw new ApiError('InvalidArgument', `${what}: ${result.error.issues.map(describeIssue).join('; ')}`);
  return result.data;
}

/** Rebuilds the description without undefined members: store objects are plain JSON. */
function cleanDescription(d: z.infer<typeof nodeDescription>): NodeDescription {
  const description: NodeDescription = {
    hostname: d.hostname,
    platform: { os: d.platform.os, arch: d.platform.arch },
    resources: { nanoCpus: d.resources.nanoCpus, memoryBytes: d.resources.memoryBytes },
  };
  if (d.engine !== undefined) description.engine = { version: d.engine.version, labels: { ...d.engine.labels } };
  return description;
}

export function parseSessionRequest(value: unknown): SessionRequest {
  return { description: cleanDescription(parse(sessionRequest, 'session request', value).description) };
}

export function parseHeartbeatRequest(value: unknown): HeartbeatRequest {
  return parse(heartbeatRequest, 'heartbeat request', value);
}

/** Rebuilds a status without undefined members (store objects are plain JSON). */
function cleanTaskStatus(s: z.infer<typeof taskStatus>): TaskStatus {
  const status: TaskStatus = { state: s.state as TaskStatus['state'], message: s.message, timestamp: s.timestamp };
  if (s.err !== undefined) status.err = s.err;
  if (s.containerStatus !== undefined) status.containerStatus = { ...s.containerStatus };
  if (s.portStatus !== undefined) {
    status.portStatus = {
      ports: s.portStatus.ports.map((p) => {
        const port: PortConfig = { protocol: p.protocol, targetPort: p.targetPort, publishMode: p.publishMode };
        if (p.name !== undefined) port.name = p.name;
        if (p.publishedPort !== undefined) port.publishedPort = p.publishedPort;
        return port;
      }),
    };
  }
  return status;
}

export function parseAssignmentsRequest(value: unknown): AssignmentsRequest {
  return parse(assignmentsRequest, 'assignments request', value);
}

export function parseUpdateTaskStatusRequest(value: unknown): UpdateTaskStatusRequest {
  const request = parse(updateTaskStatusRequest, 'task status update', value);
  return { sessionId: request.sessionId, updates: request.updates.map((u) => ({ taskId: u.taskId, status: cleanTaskStatus(u.status) })) };
}

export function parseAssignmentsMessage(value: unknown): AssignmentsMessage {
  const message = parse(assignmentsMessage, 'assignments message', value);
  return { type: message.type, updates: message.updates as unknown as Task[], removes: message.removes };
}

export function parseSessionMessage(value: unknown): SessionMessage {
  return parse(sessionMessage, 'session message', value);
}

export function parseHeartbeatResponse(value: unknown): HeartbeatResponse {
  return parse(heartbeatResponse, 'heartbeat response', value);
}
