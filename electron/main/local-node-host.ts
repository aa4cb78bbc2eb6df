/**
 * The swarmd node this app runs in-process (a manager from agent/, not a re-implementation). On first
 * start there is none: the user creates a cluster or joins one with a manager token; the choice (never
 * the token) is saved so every later launch brings the node back from its state in <home>/node.
 *
 * "Run tasks on this machine" is the node's own availability: active takes tasks on the local Docker
 * Engine, drain takes none. Whether that engine answers is reported alongside.
 *
 * The node runs in a worker thread of this process (node-worker/): its raft, store and scheduler never
 * hold the thread that serves the UI. The control API reaches it over its Unix socket as before; the
 * few reads of the manager's store the UI needs, and the cluster feed, are calls to the worker.
 */
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { statePaths } from '../../agent/node/state-dir';
import { formatHostPort } from '../../agent/node/addresses';
import { ControlClient } from '../../agent/api/control-client';
import { ApiError, isApiError } from '../../agent/api/errors';
import type { Node } from '../../agent/api/objects';
import type { Logger } from '../../agent/log';
import { createEngineClient } from '../../agent/worker/engine';
import type { CreateClusterRequest, JoinClusterRequest, LocalNodeState } from '../contract';
import { nodeStateDir } from './data-home';
import { NodeWorker, type RemoteFeed } from './node-worker/node-worker';
import type { FeedTiming } from './node-worker/protocol';
import type { LocalNodeConfig, Settings } from './settings';

export interface RaftTimingOverrides {
  tickMs?: number;
  electionTick?: number;
  heartbeatTick?: number;
}

export interface LocalNodeHostOptions {
  home: string;
  settings: Settings;
  logger: Logger;
  /** Docker Engine endpoint (default: DOCKER_HOST, else the standard socket). */
  engineAddr?: string;
  hostname?: string;
  raft?: RaftTimingOverrides;
}

type StateListener = (state: LocalNodeState) => void;

const ENGINE_PING_TIMEOUT_MS = 3000;
/** How long to wait for this node's own object before setting its availability. */
const OWN_NODE_TIMEOUT_MS = 60_000;

export class LocalNodeHost {
  private current: NodeWorker | undefined;
  private client: ControlClient | undefined;
  private state: LocalNodeState;
  private readonly listeners = new Set<StateListener>();
  /** One lifecycle operation at a time (create, join, resume, stop, setRunTasks). */
  private queue: Promise<unknown> = Promise.resolve();
  private stopping = false;

  constructor(private readonly options: LocalNodeHostOptions) {
    const config = options.settings.localNode();
    this.state = config === undefined ? { phase: 'unconfigured', runTasks: false } : { phase: 'stopped', runTasks: config.runTasks, advertiseAddress: formatHostPort({ host: config.advertiseAddress, port: config.port }) };
  }

  get stateDir(): string {
    return nodeStateDir(this.options.home);
  }

  snapshot(): LocalNodeState {
    const node = this.current;
    // The role can change under us (promotion, demotion): read it live.
    return node !== undefined && this.state.phase === 'running' ? { ...this.state, role: node.role } : { ...this.state };
  }

  onState(listener: StateListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private setState(state: LocalNodeState): void {
    this.state = state;
    const view = this.snapshot();
    for (const listener of [...this.listeners]) listener(view);
  }

  private serialized<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** The control API of this node's manager (writes are relayed to the leader). */
  control(): ControlClient {
    if (this.client === undefined || this.current === undefined) {
      const phase = this.state.phase;
      if (phase === 'starting') throw new ApiError('Unavailable', 'the local manager is still starting');
      throw new ApiError('FailedPrecondition', phase === 'unconfigured' ? 'this machine is in no cluster yet: create one or join one first' : `the local manager is not running (${phase}${this.state.message ? `: ${this.state.message}` : ''})`);
    }
    return this.client;
  }

  /** At launch: bring back the node this machine had, if any. */
  resume(): Promise<LocalNodeState> {
    return this.serialized(async () => {
      const config = this.options.settings.localNode();
      if (config === undefined || this.current !== undefined) return this.snapshot();
      if (!existsSync(statePaths(this.stateDir).nodeCert)) {
        // Without its certificates a restart would found a new cluster: start over instead.
        this.options.settings.setLocalNode(undefined);
        this.setState({ phase: 'unconfigured', runTasks: false, message: `this machine's node state (${this.stateDir}) is missing: create or join a cluster again` });
        return this.snapshot();
      }
      await this.startNode(config, undefined);
      return this.snapshot();
    });
  }

  createCluster(request: CreateClusterRequest): Promise<LocalNodeState> {
    return this.serialized(async () => {
      this.refuseIfConfigured();
      const config: LocalNodeConfig = { origin: 'created', advertiseAddress: request.advertiseAddress, port: request.port, runTasks: request.runTasks };
      await this.startNode(config, undefined);
      return this.snapshot();
    });
  }

  joinCluster(request: JoinClusterRequest): Promise<LocalNodeState> {
    return this.serialized(async () => {
      this.refuseIfConfigured();
      const config: LocalNodeConfig = { origin: 'joined', advertiseAddress: request.advertiseAddress, port: request.port, runTasks: request.runTasks, joinAddress: request.joinAddress };
      await this.startNode(config, { joinAddr: request.joinAddress, joinToken: request.token });
      return this.snapshot();
    });
  }

  setRunTasks(runTasks: boolean): Promise<LocalNodeState> {
    return this.serialized(async () => {
      const config = this.options.settings.localNode();
      if (config === undefined || this.current === undefined) throw new ApiError('FailedPrecondition', 'the local manager is not running: create or join a cluster first');
      await this.applyRunTasks(this.current, runTasks);
      this.options.settings.setLocalNode({ ...config, runTasks });
      this.setState({ ...this.state, runTasks, engine: runTasks ? await this.checkEngine() : undefined });
      return this.snapshot();
    });
  }

  /** Stops the node cleanly (its containers keep running; the next start adopts them). */
  stop(): Promise<void> {
    return this.serialized(async () => {
      const node = this.current;
      if (node === undefined) return;
      this.stopping = true;
      this.setState({ ...this.state, phase: 'stopping', message: undefined });
      try {
        await node.stop('the app stopped it');
      } finally {
        this.client?.close();
        this.client = undefined;
        this.current = undefined;
        this.stopping = false;
        this.setState({ ...this.state, phase: 'stopped', message: undefined });
      }
    });
  }

  /** True when this node is the cluster's only manager (quitting would leave the cluster unmanaged). */
  async isOnlyManager(): Promise<boolean> {
    const node = this.current;
    if (node === undefined || !node.managerRunning) return false;
    return node.isOnlyManager().catch(() => false);
  }

  /** Whether this node runs a manager right now (it may have been demoted). */
  get managerRunning(): boolean {
    return this.current?.managerRunning ?? false;
  }

  /** Tasks of a node meant to run, from the local manager's store (0 without one). */
  async nodeTaskCount(nodeId: string): Promise<number> {
    const node = this.current;
    if (node === undefined || !node.managerRunning) return 0;
    return node.nodeTaskCount(nodeId);
  }

  /** Remote API addresses of the cluster's managers, as the local manager's store lists them. */
  managerAddresses(): Promise<string[]> {
    return this.runningManager().managerAddresses();
  }

  /** A cluster feed on the local manager's store, for one session: its snapshot, then its events (UTF-8 JSON). */
  openFeed(timing: FeedTiming, emit: (json: Uint8Array) => void): RemoteFeed {
    return this.runningManager().openFeed(timing, emit);
  }

  /** The running node when it runs a manager; else throws why not (not configured, starting, demoted). */
  private runningManager(): NodeWorker {
    this.control(); // throws the reason when the node is not running
    const node = this.current;
    if (node === undefined || !node.managerRunning) throw new ApiError('Unavailable', 'this node is not a manager right now (it may have been demoted)');
    return node;
  }

  private refuseIfConfigured(): void {
    if (this.options.settings.localNode() !== undefined || this.current !== undefined) {
      const cluster = this.state.clusterId === undefined ? '' : ` ${this.state.clusterId}`;
      throw new ApiError('FailedPrecondition', `this machine already belongs to cluster${cluster}; it runs one node at a time`);
    }
  }

  private async startNode(config: LocalNodeConfig, join: { joinAddr: string; joinToken: string } | undefined): Promise<void> {
    const { logger, raft } = this.options;
    const advertise = formatHostPort({ host: config.advertiseAddress.replace(/^\[(.*)\]$/, '$1'), port: config.port });
    this.setState({ phase: 'starting', runTasks: config.runTasks, advertiseAddress: advertise });
    let node: NodeWorker;
    try {
      node = await NodeWorker.start(
        {
          stateDir: this.stateDir,
          listenRemoteApi: `0.0.0.0:${config.port}`,
          advertiseRemoteApi: advertise,
          ...(join ?? {}),
          engineAddr: this.options.engineAddr,
          hostname: this.options.hostname,
          ...raft,
        },
        logger,
      );
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      // A failed first start leaves nothing to come back to: the user can try again.
      if (this.options.settings.localNode() === undefined) {
        await rm(this.stateDir, { recursive: true, force: true });
        this.setState({ phase: 'unconfigured', runTasks: false, message });
      } else this.setState({ phase: 'failed', runTasks: config.runTasks, advertiseAddress: advertise, message });
      throw isApiError(err) ? err : new ApiError(join ? 'Unavailable' : 'Internal', join ? `could not join through ${join.joinAddr}: ${message}` : `could not start the local manager: ${message}`);
    }
    if (node.role !== 'manager') {
      await node.stop('joined as a worker');
      await rm(this.stateDir, { recursive: true, force: true });
      const message = `that is a worker token: this app hosts a manager, so join with the cluster's manager token (swarmctl cluster inspect default, or the Overview page of a manager). The cluster now lists node ${node.nodeId} as a worker that is down; remove it there.`;
      this.setState({ phase: 'unconfigured', runTasks: false, message });
      throw new ApiError('InvalidArgument', message, { details: { field: 'token' } });
    }
    this.current = node;
    this.client = ControlClient.forSocket(node.controlSocket);
    this.options.settings.setLocalNode(config);
    void node.whenStopped().then((reason) => {
      if (this.current !== node || this.stopping) return;
      this.client?.close();
      this.client = undefined;
      this.current = undefined;
      this.setState({ ...this.state, phase: 'failed', message: reason ?? 'the node stopped' });
    });
    let message: string | undefined;
    try {
      await this.applyRunTasks(node, config.runTasks);
    } catch (err) {
      message = `could not set this node's availability: ${err instanceof Error ? err.message : String(err)}`;
      logger.warn(message);
    }
    this.setState({
      phase: 'running',
      message,
      nodeId: node.nodeId,
      clusterId: node.clusterId,
      role: node.role,
      advertiseAddress: node.advertiseAddress,
      runTasks: config.runTasks,
      engine: config.runTasks ? await this.checkEngine() : undefined,
    });
  }

  /** Active to take tasks, drain to take none; written through the control API (relayed to the leader). */
  private async applyRunTasks(node: NodeWorker, runTasks: boolean): Promise<void> {
    const client = this.client;
    if (client === undefined) throw new ApiError('FailedPrecondition', 'the local manager is not running');
    const wanted = runTasks ? 'active' : 'drain';
    const deadline = Date.now() + OWN_NODE_TIMEOUT_MS;
    for (let attempt = 0; ; attempt++) {
      let own: Node | undefined;
      try {
        own = (await client.getNode({ nodeId: node.nodeId })).node;
        if (own.spec.availability === wanted) return;
        await client.updateNode({ nodeId: own.id, version: own.meta.version, spec: { ...own.spec, availability: wanted } });
        return;
      } catch (err) {
        // Not yet written (a new cluster's first objects), no leader yet, or a concurrent write: retry.
        const retryable = isApiError(err, 'NotFound') || isApiError(err, 'Unavailable') || isApiError(err, 'Conflict');
        if (!retryable || Date.now() > deadline) throw err;
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 50 * 2 ** attempt)));
    }
  }

  /** Whether the local Docker Engine answers (dockerode ping), with its version. */
  async checkEngine(): Promise<NonNullable<LocalNodeState['engine']>> {
    const docker = createEngineClient(this.options.engineAddr, ENGINE_PING_TIMEOUT_MS);
    try {
      await docker.ping();
      const version = (await docker.version()) as { Version?: string };
      return { reachable: true, ...(version.Version === undefined ? {} : { version: version.Version }) };
    } catch (err) {
      return { reachable: false, message: `Docker Engine not reachable: ${err instanceof Error ? err.message : String(err)}` };
    }
  }
}
