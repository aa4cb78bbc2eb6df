/**
 * The control API: what swarmctl and the desktop app ask a manager to do (SwarmKit's api/control.proto,
 * trimmed to what swarmdesk serves). One typed contract shared by the server (agent/manager/controlapi),
 * the client (control-client.ts) and every caller. Requests are validated on the server
 * (control-schema.ts); errors travel as ApiError codes.
 *
 * Updates carry the `version` the caller read (its meta.version): a stale one fails with Conflict, so
 * two people editing the same node cannot silently overwrite each other.
 */
import type { Cluster, ClusterSpec, Node, NodeSpec, Service, ServiceSpec, Task, TaskState } from './objects';

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

/**
 * A service as the control API shows it: with how many of its tasks run now and how many it wants
 * (replicated: the replica count; global: the nodes it has a task for), counted from its tasks.
 */
export interface ServiceView extends Service {
  replicas: { running: number; desired: number };
}

export interface CreateServiceRequest {
  spec: ServiceSpec;
}
export interface GetServiceRequest {
  serviceId: string;
}
export interface UpdateServiceRequest {
  serviceId: string;
  version: number;
  spec: ServiceSpec;
  /** Replace every task even if the spec did not change (bumps `spec.task.forceUpdate`). */
  force?: boolean;
}
export interface RollbackServiceRequest {
  serviceId: string;
  version: number;
}
export interface RemoveServiceRequest {
  serviceId: string;
}
/** Filters combine: a task must match every one given. */
export interface ListTasksRequest {
  serviceId?: string;
  nodeId?: string;
  desiredState?: TaskState;
}
export interface GetTaskRequest {
  taskId: string;
}
export interface RemoveTaskRequest {
  taskId: string;
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
  createService(request: CreateServiceRequest): Promise<{ service: ServiceView }>;
  getService(request: GetServiceRequest): Promise<{ service: ServiceView }>;
  listServices(request: Empty): Promise<{ services: ServiceView[] }>;
  updateService(request: UpdateServiceRequest): Promise<{ service: ServiceView }>;
  rollbackService(request: RollbackServiceRequest): Promise<{ service: ServiceView }>;
  removeService(request: RemoveServiceRequest): Promise<Empty>;
  listTasks(request: ListTasksRequest): Promise<{ tasks: Task[] }>;
  getTask(request: GetTaskRequest): Promise<{ task: Task }>;
  removeTask(request: RemoveTaskRequest): Promise<Empty>;
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
  'createService',
  'getService',
  'listServices',
  'updateService',
  'rollbackService',
  'removeService',
  'listTasks',
  'getTask',
  'removeTask',
];

/** Methods that only read: a follower may answer them from its own store after a linearizable barrier. */
export const READ_ONLY_CONTROL_METHODS: ReadonlySet<ControlMethod> = new Set([
  'listNodes',
  'getNode',
  'listClusters',
  'getCluster',
  'getVersion',
  'getService',
  'listServices',
  'listTasks',
  'getTask',
]);

export function controlPath(method: ControlMethod): string {
  return `/${CONTROL_SERVICE_NAME}/${method.charAt(0).toUpperCase()}${method.slice(1)}`;
}
