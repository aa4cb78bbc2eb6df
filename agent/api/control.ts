/**
 * The control API: what swarmctl and the desktop app ask a manager to do (SwarmKit's api/control.proto,
 * trimmed to what swarmdesk serves). One typed contract shared by the server (agent/manager/controlapi),
 * the client (control-client.ts) and every caller. Requests are validated on the server
 * (control-schema.ts); errors travel as ApiError codes.
 *
 * Updates carry the `version` the caller read (its meta.version): a stale one fails with Conflict, so
 * two people editing the same node cannot silently overwrite each other.
 */
import type { Cluster, ClusterSpec, Node, NodeSpec } from './objects';

/** A cluster as the control API shows it: the join tokens in clear (the store keeps them sealed). */
export type ClusterView = Cluster;

export type Empty = Record<string, never>;

export interface GetNodeRequest {
  nodeId: string;
}
export interface UpdateNodeRequest {
  nodeId: string;
  version: number;
  spec: NodeSpec;
}
export interface RemoveNodeRequest {
  nodeId: string;
  /** Remove even though the node is still up (it is cut off: its certificate stops working). */
  force: boolean;
}
export interface GetClusterRequest {
  clusterId: string;
}
export interface UpdateClusterRequest {
  clusterId: string;
  version: number;
  spec: ClusterSpec;
  rotateWorkerToken?: boolean;
  rotateManagerToken?: boolean;
}

export interface VersionInfo {
  /** swarmdesk's version (package.json). */
  version: string;
  /** Node.js version the manager runs on. */
  runtime: string;
}

/** Every method, with its request and response. */
export interface ControlApi {
  listNodes(request: Empty): Promise<{ nodes: Node[] }>;
  getNode(request: GetNodeRequest): Promise<{ node: Node }>;
  updateNode(request: UpdateNodeRequest): Promise<{ node: Node }>;
  removeNode(request: RemoveNodeRequest): Promise<Empty>;
  listClusters(request: Empty): Promise<{ clusters: ClusterView[] }>;
  getCluster(request: GetClusterRequest): Promise<{ cluster: ClusterView }>;
  updateCluster(request: UpdateClusterRequest): Promise<{ cluster: ClusterView }>;
  getVersion(request: Empty): Promise<VersionInfo>;
}

export type ControlMethod = keyof ControlApi;
export type ControlRequest<M extends ControlMethod> = Parameters<ControlApi[M]>[0];
export type ControlResponse<M extends ControlMethod> = Awaited<ReturnType<ControlApi[M]>>;

export const CONTROL_SERVICE_NAME = 'swarmdesk.control.Control';

/** Listed once so the server, the client and the forwarding proxy cover exactly the same methods. */
export const CONTROL_METHODS: readonly ControlMethod[] = [
  'listNodes',
  'getNode',
  'updateNode',
  'removeNode',
  'listClusters',
  'getCluster',
  'updateCluster',
  'getVersion',
];

/** Methods that only read: a follower may answer them from its own store after a linearizable barrier. */
export const READ_ONLY_CONTROL_METHODS: ReadonlySet<ControlMethod> = new Set(['listNodes', 'getNode', 'listClusters', 'getCluster', 'getVersion']);

export function controlPath(method: ControlMethod): string {
  return `/${CONTROL_SERVICE_NAME}/${method.charAt(0).toUpperCase()}${method.slice(1)}`;
}
