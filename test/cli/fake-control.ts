/**
 * A fake manager for swarmctl tests: an in-memory ControlApi that behaves like the real one where the
 * CLI can tell (versions, Conflict on a stale version, NotFound), served through the real control
 * service on a real Unix socket in a temporary directory.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { addLogsService, type LogSubscribe } from '../../agent/manager/logbroker/service';
import type {
  ClusterView,
  ControlApi,
  CreateServiceRequest,
  Empty,
  GetClusterRequest,
  GetNodeRequest,
  GetServiceRequest,
  GetTaskRequest,
  ListTasksRequest,
  RemoveNodeRequest,
  RemoveServiceRequest,
  RemoveTaskRequest,
  RollbackServiceRequest,
  ServiceView,
  UpdateClusterRequest,
  UpdateNodeRequest,
  UpdateServiceRequest,
  VersionInfo,
} from '../../agent/api/control';
import { ApiError } from '../../agent/api/errors';
import type { Cluster, Node, Task } from '../../agent/api/objects';
import { addControlService } from '../../agent/manager/controlapi/service';
import { runSwarmctl } from '../../agent/cli/swarmctl';

export type Call = { [M in keyof ControlApi]: { method: M; request: Parameters<ControlApi[M]>[0] } }[keyof ControlApi];

export class FakeControl implements ControlApi {
  readonly nodes = new Map<string, Node>();
  readonly clusters = new Map<string, Cluster>();
  readonly services = new Map<string, ServiceView>();
  readonly tasks = new Map<string, Task>();
  /** IDs given to the services createService makes, in turn. */
  readonly newServiceIds: string[] = [];
  readonly calls: Call[] = [];
  /** Thrown by the next call, whatever it is. */
  failNext: ApiError | undefined;
  /** Thrown by every call of that method. */
  readonly failures = new Map<keyof ControlApi, ApiError>();
  /** Run before each updateNode is checked: lets a test change the node "concurrently". */
  beforeUpdateNode: ((node: Node) => void) | undefined;
  /** The same for updateService. */
  beforeUpdateService: ((service: ServiceView) => void) | undefined;

  constructor(nodes: Node[] = [], clusters: Cluster[] = [], services: ServiceView[] = [], tasks: Task[] = []) {
    for (const node of nodes) this.nodes.set(node.id, node);
    for (const cluster of clusters) this.clusters.set(cluster.id, cluster);
    for (const service of services) this.services.set(service.id, service);
    for (const task of tasks) this.tasks.set(task.id, task);
  }

  /** The requests of every call to `method`, in order. */
  requests<M extends keyof ControlApi>(method: M): Parameters<ControlApi[M]>[0][] {
    return this.calls.flatMap((call) => (call.method === method ? [call.request as Parameters<ControlApi[M]>[0]] : []));
  }

  private record(call: Call): void {
    this.calls.push(call);
    const failure = this.failNext ?? this.failures.get(call.method);
    this.failNext = undefined;
    if (failure !== undefined) throw failure;
  }

  updates(): UpdateNodeRequest[] {
    return this.calls.flatMap((call) => (call.method === 'updateNode' ? [call.request] : []));
  }

  private node(nodeId: string): Node {
    const node = this.nodes.get(nodeId);
    if (node === undefined) throw new ApiError('NotFound', `node ${nodeId} not found`);
    return node;
  }

  private cluster(clusterId: string): Cluster {
    const cluster = this.clusters.get(clusterId);
    if (cluster === undefined) throw new ApiError('NotFound', `cluster ${clusterId} not found`);
    return cluster;
  }

  async listNodes(request: Empty): Promise<{ nodes: Node[] }> {
    this.record({ method: 'listNodes', request });
    return { nodes: [...this.nodes.values()] };
  }

  async getNode(request: GetNodeRequest): Promise<{ node: Node }> {
    this.record({ method: 'getNode', request });
    return { node: this.node(request.nodeId) };
  }

  async updateNode(request: UpdateNodeRequest): Promise<{ node: Node }> {
    this.record({ method: 'updateNode', request });
    const current = this.node(request.nodeId);
    this.beforeUpdateNode?.(current);
    const latest = this.node(request.nodeId);
    if (latest.meta.version !== request.version) {
      throw new ApiError('Conflict', `node ${request.nodeId} was updated since version ${request.version}`);
    }
    const node = { ...latest, spec: request.spec, meta: { ...latest.meta, version: latest.meta.version + 1 } };
    this.nodes.set(node.id, node);
    return { node };
  }

  async removeNode(request: RemoveNodeRequest): Promise<Empty> {
    this.record({ method: 'removeNode', request });
    this.node(request.nodeId);
    this.nodes.delete(request.nodeId);
    return {};
  }

  async listClusters(request: Empty): Promise<{ clusters: ClusterView[] }> {
    this.record({ method: 'listClusters', request });
    return { clusters: [...this.clusters.values()] };
  }

  async getCluster(request: GetClusterRequest): Promise<{ cluster: ClusterView }> {
    this.record({ method: 'getCluster', request });
    return { cluster: this.cluster(request.clusterId) };
  }

  async updateCluster(request: UpdateClusterRequest): Promise<{ cluster: ClusterView }> {
    this.record({ method: 'updateCluster', request });
    const latest = this.cluster(request.clusterId);
    if (latest.meta.version !== request.version) throw new ApiError('Conflict', `cluster ${request.clusterId} was updated`);
    const tokens = { ...latest.rootCa.joinTokens };
    if (request.rotateWorkerToken === true) tokens.worker = 'SWMTKN-1-rotated-worker';
    if (request.rotateManagerToken === true) tokens.manager = 'SWMTKN-1-rotated-manager';
    const cluster = {
      ...latest,
      spec: request.spec,
      rootCa: { ...latest.rootCa, joinTokens: tokens },
      meta: { ...latest.meta, version: latest.meta.version + 1 },
    };
    this.clusters.set(cluster.id, cluster);
    return { cluster };
  }

  async getVersion(request: Empty): Promise<VersionInfo> {
    this.record({ method: 'getVersion', request });
    return { version: '0.1.0', runtime: 'v20.20.2' };
  }

  private service(serviceId: string): ServiceView {
    const service = this.services.get(serviceId);
    if (service === undefined) throw new ApiError('NotFound', `service ${serviceId} not found`);
    return service;
  }

  /** The service with its spec replaced and its versions moved on, as the leader would store it. */
  private respec(latest: ServiceView, changes: Partial<ServiceView>): ServiceView {
    const service: ServiceView = { ...latest, ...changes, specVersion: latest.specVersion + 1, meta: { ...latest.meta, version: latest.meta.version + 1 } };
    this.services.set(service.id, service);
    return service;
  }

  async createService(request: CreateServiceRequest): Promise<{ service: ServiceView }> {
    this.record({ method: 'createService', request });
    if ([...this.services.values()].some((service) => service.spec.name === request.spec.name)) {
      throw new ApiError('AlreadyExists', `service name "${request.spec.name}" is already in use`);
    }
    const id = this.newServiceIds.shift() ?? `svc${this.services.size + 1}`;
    const desired = 'replicated' in request.spec.mode ? request.spec.mode.replicated.replicas : 0;
    const meta = { version: 1, createdAt: '2025-01-01T00:00:00.000Z', updatedAt: '2025-01-01T00:00:00.000Z' };
    const service: ServiceView = { id, meta, spec: request.spec, specVersion: 1, status: {}, replicas: { running: 0, desired } };
    this.services.set(id, service);
    return { service };
  }

  async getService(request: GetServiceRequest): Promise<{ service: ServiceView }> {
    this.record({ method: 'getService', request });
    return { service: this.service(request.serviceId) };
  }

  async listServices(request: Empty): Promise<{ services: ServiceView[] }> {
    this.record({ method: 'listServices', request });
    return { services: [...this.services.values()] };
  }

  async updateService(request: UpdateServiceRequest): Promise<{ service: ServiceView }> {
    this.record({ method: 'updateService', request });
    this.beforeUpdateService?.(this.service(request.serviceId));
    const latest = this.service(request.serviceId);
    if (latest.meta.version !== request.version) throw new ApiError('Conflict', `service ${request.serviceId} was updated since version ${request.version}`);
    const spec = request.force === true ? { ...request.spec, task: { ...request.spec.task, forceUpdate: (request.spec.task.forceUpdate ?? 0) + 1 } } : request.spec;
    return { service: this.respec(latest, { spec, previousSpec: latest.spec }) };
  }

  async rollbackService(request: RollbackServiceRequest): Promise<{ service: ServiceView }> {
    this.record({ method: 'rollbackService', request });
    const latest = this.service(request.serviceId);
    if (latest.meta.version !== request.version) throw new ApiError('Conflict', `service ${request.serviceId} was updated since version ${request.version}`);
    if (latest.previousSpec === undefined) throw new ApiError('FailedPrecondition', `service ${latest.spec.name} has no previous spec to roll back to`);
    return { service: this.respec(latest, { spec: latest.previousSpec, previousSpec: latest.spec }) };
  }

  async removeService(request: RemoveServiceRequest): Promise<Empty> {
    this.record({ method: 'removeService', request });
    this.service(request.serviceId);
    this.services.delete(request.serviceId);
    return {};
  }

  async listTasks(request: ListTasksRequest): Promise<{ tasks: Task[] }> {
    this.record({ method: 'listTasks', request });
    const tasks = [...this.tasks.values()].filter(
      (task) =>
        (request.serviceId === undefined || task.serviceId === request.serviceId) &&
        (request.nodeId === undefined || task.nodeId === request.nodeId) &&
        (request.desiredState === undefined || task.desiredState === request.desiredState),
    );
    return { tasks };
  }

  private task(taskId: string): Task {
    const task = this.tasks.get(taskId);
    if (task === undefined) throw new ApiError('NotFound', `task ${taskId} not found`);
    return task;
  }

  async getTask(request: GetTaskRequest): Promise<{ task: Task }> {
    this.record({ method: 'getTask', request });
    return { task: this.task(request.taskId) };
  }

  async removeTask(request: RemoveTaskRequest): Promise<Empty> {
    this.record({ method: 'removeTask', request });
    this.task(request.taskId);
    this.tasks.delete(request.taskId);
    return {};
  }
}

export interface FakeManager {
  socketPath: string;
  close(): Promise<void>;
}

/** `logs`, when given, serves Logs.SubscribeLogs as a manager's socket does. */
export async function startFakeManager(api: ControlApi, logs?: LogSubscribe): Promise<FakeManager> {
  const dir = mkdtempSync(join(tmpdir(), 'swarmctl-'));
  const socketPath = join(dir, 'swarmd.sock');
  const server = new grpc.Server();
  addControlService(server, api);
  if (logs) addLogsService(server, { subscribe: logs });
  await new Promise<void>((resolve, reject) =>
    server.bindAsync(`unix:${socketPath}`, grpc.ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())),
  );
  return {
    socketPath,
    close: async () => {
      await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs swarmctl in this process, capturing its output. */
export async function swarmctl(args: string[], env: Record<string, string | undefined> = {}, now?: () => Date): Promise<RunResult> {
  let stdout = '';
  let stderr = '';
  const code = await runSwarmctl(args, {
    stdout: { write: (chunk: string) => (stdout += chunk) },
    stderr: { write: (chunk: string) => (stderr += chunk) },
    env,
    now,
  });
  return { code, stdout, stderr };
}
