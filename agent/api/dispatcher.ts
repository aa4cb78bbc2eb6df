/**
 * The dispatcher contract (SwarmKit's api/dispatcher.proto, session and heartbeat part): shared by the
 * leader's service (agent/manager/dispatcher) and every node's session (agent/worker/session.ts).
 *
 * Session: a server stream. The node sends its description once; the leader answers with a
 * SessionMessage right after it recorded the node as ready, and another whenever something in the
 * message changes (the node's role, the heartbeat period, the set of managers).
 * Heartbeat: unary, every period, naming the session it keeps alive.
 *
 * Messages are JSON (agent/rpc/json-codec.ts). Unknown fields are dropped, as protobuf would ignore
 * them, so a newer node can talk to an older manager. Both sides validate what they receive.
 */
import { z } from 'zod';
import { ApiError, isApiError } from './errors';
import type { NodeDescription, NodeRole } from './objects';

export const DISPATCHER_SERVICE_NAME = 'swarmdesk.dispatcher.Dispatcher';
export const DISPATCHER_PATHS = Object.freeze({
  session: `/${DISPATCHER_SERVICE_NAME}/Session`,
  heartbeat: `/${DISPATCHER_SERVICE_NAME}/Heartbeat`,
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

export function parseSessionMessage(value: unknown): SessionMessage {
  return parse(sessionMessage, 'session message', value);
}

export function parseHeartbeatResponse(value: unknown): HeartbeatResponse {
  return parse(heartbeatResponse, 'heartbeat response', value);
}
