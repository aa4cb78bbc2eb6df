/**
 * The control API's behaviour, run on the leader: reads and writes of nodes and the cluster object
 * through the replicated store, with the rules users rely on (no demotion or removal that would cost
 * the managers their quorum, no removal of a live node without force, stale versions refused).
 */
import type {
  ClusterView,
  ControlApi,
  ControlRequest,
  Empty,
  GetClusterRequest,
  GetNodeRequest,
  RemoveNodeRequest,
  UpdateClusterRequest,
  UpdateNodeRequest,
  VersionInfo,
} from '../../api/control';
import { ApiError } from '../../api/errors';
import type { Cluster, Node } from '../../api/objects';
import type { RootCa } from '../../ca/root-ca';
import type { SecretSealer } from '../../ca/sealing';
import type { MemoryStore } from '../../store';
import { newSealedJoinTokens } from '../cluster-objects';
import { type MembershipSnapshot, removalWouldLoseQuorum } from '../raft-membership';
import { ServiceHandlers } from './services';
import { TaskHandlers } from './tasks';

export interface ControlHandlersOptions {
  store: MemoryStore;
  rootCa: RootCa;
  sealer: SecretSealer;
  membership(): MembershipSnapshot;
  version: VersionInfo;
  /** Wall clock for timestamps the handlers write (a manual rollback's start). */
  now?: () => Date;
}

/** Node objects as users see them: manager status reflects raft right now, not the last write. */
export function withLiveManagerStatus(node: Node, membership: MembershipSnapshot): Node {
  const status = node.managerStatus;
  if (status === undefined || node.role !== 'manager') return node;
  const leader = status.raftId === membership.leaderId;
  const reachable = leader || membership.reachable.has(status.raftId);
  return { ...node, managerStatus: { ...status, leader, reachability: reachable ? 'reachable' : 'unreachable' } };
}

export class ControlHandlers implements ControlApi {
  private readonly services: ServiceHandlers;
  private readonly tasks: TaskHandlers;

  constructor(private readonly options: ControlHandlersOptions) {
    this.services = new ServiceHandlers({ store: options.store, now: options.now });
    this.tasks = new TaskHandlers(options.store);
  }

  private get store(): MemoryStore {
    return this.options.store;
  }

  private node(nodeId: string): Node {
    const node = this.store.get('node', nodeId);
    if (node === undefined) throw new ApiError('NotFound', `node ${nodeId} not found`);
    return node;
  }

  private cluster(clusterId: string): Cluster {
    const cluster = this.store.get('cluster', clusterId);
    if (cluster === undefined) throw new ApiError('NotFound', `cluster ${clusterId} not found`);
    return cluster;
  }

  private clusterView(cluster: Cluster): ClusterView {
    const { sealer } = this.options;
    const tokens = cluster.rootCa.joinTokens;
    return { ...cluster, rootCa: { ...cluster.rootCa, joinTokens: { worker: sealer.unseal(tokens.worker), manager: sealer.unseal(tokens.manager) } } };
  }

  async listNodes(): Promise<{ nodes: Node[] }> {
    const membership = this.options.membership();
    return { nodes: this.store.view((tx) => tx.list('node')).map((node) => withLiveManagerStatus(node, membership)) };
  }

  async getNode(request: GetNodeRequest): Promise<{ node: Node }> {
    return { node: withLiveManagerStatus(this.node(request.nodeId), this.options.membership()) };
  }

  async updateNode(request: UpdateNodeRequest): Promise<{ node: Node }> {
    const current = this.node(request.nodeId);
    if (current.meta.version !== request.version) {
      throw new ApiError('Conflict', `node ${request.nodeId} changed since it was read (version ${request.version}, now ${current.meta.version}); read it again`);
    }
    const demoting = request.spec.role === 'worker' && current.spec.role === 'manager';
    if (demoting && current.managerStatus !== undefined) {
      const why = removalWouldLoseQuorum(this.options.membership(), current.managerStatus.raftId);
      if (why !== undefined) throw new ApiError('FailedPrecondition', `cannot demote node ${request.nodeId}: ${why}`);
    }
    const updated = await this.store.updateObject('node', { ...current, spec: request.spec });
    return { node: withLiveManagerStatus(updated, this.options.membership()) };
  }

  async removeNode(request: RemoveNodeRequest): Promise<Empty> {
    const node = this.node(request.nodeId);
    if (node.role === 'manager' || node.spec.role === 'manager') {
      throw new ApiError('FailedPrecondition', `node ${request.nodeId} is a manager: demote it to a worker before removing it`);
    }
    if (node.status.state === 'ready' && !request.force) {
      throw new ApiError('FailedPrecondition', `node ${request.nodeId} is not down and can't be removed (use --force to remove it anyway)`);
    }
    await this.store.deleteObject('node', node.id);
    return {};
  }

  async listClusters(): Promise<{ clusters: ClusterView[] }> {
    return { clusters: this.store.view((tx) => tx.list('cluster')).map((cluster) => this.clusterView(cluster)) };
  }

  async getCluster(request: GetClusterRequest): Promise<{ cluster: ClusterView }> {
    return { cluster: this.clusterView(this.cluster(request.clusterId)) };
  }

  async updateCluster(request: UpdateClusterRequest): Promise<{ cluster: ClusterView }> {
    const current = this.cluster(request.clusterId);
    if (current.meta.version !== request.version) {
      throw new ApiError('Conflict', `cluster ${request.clusterId} changed since it was read (version ${request.version}, now ${current.meta.version}); read it again`);
    }
    if (request.spec.name !== current.spec.name) throw new ApiError('InvalidArgument', 'spec.name: a cluster cannot be renamed');
    const fresh = newSealedJoinTokens(this.options.rootCa, this.options.sealer);
    const joinTokens = {
      worker: request.rotateWorkerToken === true ? fresh.worker : current.rootCa.joinTokens.worker,
      manager: request.rotateManagerToken === true ? fresh.manager : current.rootCa.joinTokens.manager,
    };
    const updated = await this.store.updateObject('cluster', { ...current, spec: request.spec, rootCa: { ...current.rootCa, joinTokens } });
    return { cluster: this.clusterView(updated) };
  }

  async getVersion(): Promise<VersionInfo> {
    return this.options.version;
  }

  // Services and tasks live in their own modules (services.ts, tasks.ts).
  createService = (request: ControlRequest<'createService'>) => this.services.createService(request);
  getService = (request: ControlRequest<'getService'>) => this.services.getService(request);
  listServices = () => this.services.listServices();
  updateService = (request: ControlRequest<'updateService'>) => this.services.updateService(request);
  rollbackService = (request: ControlRequest<'rollbackService'>) => this.services.rollbackService(request);
  removeService = (request: ControlRequest<'removeService'>) => this.services.removeService(request);
  listTasks = (request: ControlRequest<'listTasks'>) => this.tasks.listTasks(request);
  getTask = (request: ControlRequest<'getTask'>) => this.tasks.getTask(request);
  removeTask = (request: ControlRequest<'removeTask'>) => this.tasks.removeTask(request);
}
