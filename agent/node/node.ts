/**
 * One swarmd node (SwarmKit's node/node.go): its identity and certificates, the manager it runs when
 * it is one, its session with the dispatcher, and the switches between roles.
 *
 * Start-up decides between three paths from what the state directory holds:
 * - certificates present: restart as the node they name, never re-joining;
 * - no certificates and --join-addr: join with the token (the token picks the role);
 * - neither: found a new cluster, with this node as its first manager and raft leader.
 */
import { randomInt } from 'node:crypto';
import type { VersionInfo } from '../api/control';
import { newClusterId, newNodeId } from '../ca/ids';
import { joinCluster, renewNodeCertificate } from '../ca/join-client';
import { createNodeCsr, parseNodeCertificate, signNodeCsr } from '../ca/node-cert';
import { renewalDelayMs } from '../ca/renewal';
import type { NodeRole } from '../ca/roles';
import { createRootCa, loadRootCa, rootCaKeyPem } from '../ca/root-ca';
import { SecretSealer } from '../ca/sealing';
import type { Logger } from '../log';
import { clientCredentials, managerChannelOptions } from '../ca/tls-credentials';
import type { SessionMessage } from '../api/dispatcher';
import { addDispatcherService, Dispatcher } from '../manager/dispatcher';
import { addLogServices } from '../manager/logbroker';
import { createOrchestration } from '../manager/orchestrator';
import { Scheduler } from '../manager/scheduler';
import { DockerLogSource } from '../worker/docker-logs';
import { LogPublisher } from '../worker/log-publisher';
import { Manager, type LeaderDuty, type ManagerOptions, type RaftTiming } from '../manager/manager';
import { createEngineClient, describeNode, DispatcherSession, TaskAgent } from '../worker';
import { DockerExecutor } from '../worker/executor';
import { joinRaft } from '../manager/raft-join';
import { DEFAULT_ELECTION_TICK, DEFAULT_HEARTBEAT_TICK, DEFAULT_TICK_MS } from '../raft/types';
import { SWARMDESK_VERSION } from '../version';
import { advertiseAddress, type HostPort, parseHostPort } from './addresses';
import {
  ensureStateDir,
  type PersistedNodeState,
  readCredentials,
  readNodeState,
  removeRaftState,
  type StatePaths,
  statePaths,
  type StoredCredentials,
  writeCredentials,
  writeNodeState,
} from './state-dir';

export interface NodeOptions {
  stateDir: string;
  /** Unix socket for the control API (managers); default <state-dir>/swarmd.sock. */
  controlSocket?: string;
  /** host:port for the remote API (managers); default 0.0.0.0:4242. */
  listenRemoteApi?: string;
  advertiseRemoteApi?: string;
  hostname?: string;
  joinAddr?: string;
  joinToken?: string;
  /** Docker Engine endpoint (unix socket path or tcp://host:port). */
  engineAddr?: string;
  tickMs?: number;
  heartbeatTick?: number;
  electionTick?: number;
  forceNewCluster?: boolean;
  logger: Logger;
}

/** How long a joining manager keeps asking to be added to raft before giving up. */
const RAFT_JOIN_TIMEOUT_MS = 60_000;
/** Node timers cannot wait longer than this (2^31-1 ms); longer waits re-arm. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** Backoff between certificate renewals while a role change has not reached the renewing manager. */
const ROLE_RETRY_MIN_MS = 250;
const ROLE_RETRY_MAX_MS = 5_000;

/** What a node is right now: the role its certificate carries, and whether its manager runs. */
export interface NodeStatus {
  role: NodeRole;
  managerRunning: boolean;
}

export type NodeStatusListener = (status: NodeStatus) => void;

export class NodeStartError extends Error {
  override readonly name = 'NodeStartError';
}

export class SwarmNode {
  private manager: Manager | undefined;
  private credentials: StoredCredentials;
  private state: PersistedNodeState;
  private renewalTimer: NodeJS.Timeout | undefined;
  private session: DispatcherSession | undefined;
  private logPublisher: LogPublisher | undefined;
  private taskAgent: TaskAgent | undefined;
  private roleChange: Promise<void> = Promise.resolve();
  /** The role the cluster last gave this node (from the session, or a removal from raft). */
  private wantedRole: NodeRole | undefined;
  private roleRetryTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly statusListeners = new Set<NodeStatusListener>();
  /** The status last announced to the listeners, so each change is told once. */
  private announcedStatus: NodeStatus;
  private readonly stoppedWaiters: ((reason: string | undefined) => void)[] = [];

  private constructor(
    private readonly options: NodeOptions,
    private readonly paths: StatePaths,
    private readonly listen: HostPort,
    private readonly advertise: string,
    credentials: StoredCredentials,
    state: PersistedNodeState,
  ) {
    this.credentials = credentials;
    this.state = state;
    this.announcedStatus = this.status;
  }

  get nodeId(): string {
    return this.state.nodeId;
  }

  get clusterId(): string {
    return this.state.clusterId;
  }

  get role(): NodeRole {
    return parseNodeCertificate(this.credentials.certPem).role;
  }

  get controlSocket(): string {
    return this.options.controlSocket ?? this.paths.defaultControlSocket;
  }

  get advertiseAddress(): string {
    return this.advertise;
  }

  get runningManager(): Manager | undefined {
    return this.manager;
  }

  get status(): NodeStatus {
    return { role: this.role, managerRunning: this.manager !== undefined };
  }

  /**
   * Calls `listener` each time the role or whether the manager runs changes (a promotion shows as
   * manager-without-manager, then manager-running; a demotion the other way round). Returns the
   * unsubscribe function.
   */
  onStatusChange(listener: NodeStatusListener): () => void {
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  }

  /** Tells the listeners if the status differs from the one they heard last. */
  private announceStatus(): void {
    const status = this.status;
    const last = this.announcedStatus;
    if (last.role === status.role && last.managerRunning === status.managerRunning) return;
    this.announcedStatus = status;
    for (const listener of [...this.statusListeners]) {
      try {
        listener(status);
      } catch (err) {
        // A listener's bug must not leave a role change half done.
        this.options.logger.error('a node status listener failed', { error: err instanceof Error ? err.message : String(err) });
      }
    }
  }

  /** Settles when the node stops by itself (removed from the cluster) or is stopped; with the reason. */
  whenStopped(): Promise<string | undefined> {
    return new Promise((resolve) => this.stoppedWaiters.push(resolve));
  }

  static async start(options: NodeOptions): Promise<SwarmNode> {
    const { logger } = options;
    const paths = statePaths(options.stateDir);
    await ensureStateDir(paths);
    const listen = parseHostPort(options.listenRemoteApi ?? '0.0.0.0:4242', '--listen-remote-api');
    const advertise = advertiseAddress(listen, options.advertiseRemoteApi);

    let credentials = await readCredentials(paths);
    let state = await readNodeState(paths);
    if (credentials !== undefined) {
      const identity = parseNodeCertificate(credentials.certPem);
      state ??= { nodeId: identity.nodeId, clusterId: identity.clusterId, managers: [] };
      if (options.joinAddr !== undefined) logger.warn('this node already belongs to a cluster; --join-addr and --join-token are ignored', { clusterId: state.clusterId });
      logger.info('restarting from the state directory', { nodeId: state.nodeId, role: identity.role });
    } else if (options.joinAddr !== undefined) {
      if (options.joinToken === undefined) throw new NodeStartError('--join-addr needs --join-token (a worker or manager token from `swarmctl cluster inspect default`)');
      // A half-finished earlier attempt left no certificate: start clean.
      await removeRaftState(paths);
      logger.info('joining the cluster', { manager: options.joinAddr });
      const joined = await joinCluster({ address: options.joinAddr, token: options.joinToken, advertiseAddress: advertise });
      credentials = { rootCaPem: joined.rootCaPem, certPem: joined.certPem, keyPem: joined.keyPem, caKeyPem: joined.caKeyPem };
      state = { nodeId: joined.nodeId, clusterId: parseNodeCertificate(joined.certPem).clusterId, managers: [options.joinAddr] };
      await writeNodeState(paths, state);
      await writeCredentials(paths, credentials, joined.role);
      logger.info('joined the cluster', { nodeId: state.nodeId, role: joined.role });
    } else {
      ({ credentials, state } = await foundCluster(paths, advertise));
      logger.info('created a new cluster', { clusterId: state.clusterId, nodeId: state.nodeId });
    }

    const node = new SwarmNode(options, paths, listen, advertise, credentials, state);
    if (node.role === 'manager') await node.startManager();
    node.scheduleRenewal();
    node.startSession();
    return node;
  }

  private raftTiming(): RaftTiming {
    return {
      tickMs: this.options.tickMs ?? DEFAULT_TICK_MS,
      electionTick: this.options.electionTick ?? DEFAULT_ELECTION_TICK,
      heartbeatTick: this.options.heartbeatTick ?? DEFAULT_HEARTBEAT_TICK,
    };
  }

  private versionInfo(): VersionInfo {
    return { version: SWARMDESK_VERSION, runtime: process.version };
  }

  /** Managers this node knows of, its own address first when it is one. */
  knownManagers(): string[] {
    const own = this.manager ? [this.advertise] : [];
    return [...new Set([...own, ...this.state.managers])];
  }

  private async startManager(): Promise<void> {
    const { credentials, paths, options } = this;
    if (credentials.caKeyPem === undefined) throw new NodeStartError(`this manager has no root CA key (${paths.rootCaKey}); it cannot sign certificates`);
    const rootCa = await loadRootCa(credentials.rootCaPem, credentials.caKeyPem);
    let start: ManagerOptions['start'];
    if (this.state.bootstrapPending === true) {
      start = { kind: 'bootstrap' };
    } else if (this.state.raftId !== undefined) {
      start = { kind: 'restart' };
    } else {
      // A new manager (joined with the manager token, or promoted): the leader adds it to raft.
      await removeRaftState(paths);
      const joined = await joinRaft({
        managers: this.state.managers,
        addr: this.advertise,
        tls: { rootCaPem: credentials.rootCaPem, certPem: credentials.certPem, keyPem: credentials.keyPem, expectedClusterId: this.clusterId },
        deadline: Date.now() + RAFT_JOIN_TIMEOUT_MS,
      });
      this.state = { ...this.state, raftId: joined.raftId };
      await writeNodeState(paths, this.state);
      start = { kind: 'join', members: new Map(joined.members) };
      options.logger.info('added to raft as a learner', { raftId: joined.raftId });
    }
    const raftId = this.state.raftId;
    if (raftId === undefined) throw new NodeStartError('internal: manager without a raft ID');
    this.manager = await Manager.start({
      nodeId: this.nodeId,
      clusterId: this.clusterId,
      raftId,
      raftDir: paths.raft,
      advertiseAddress: this.advertise,
      listenHost: this.listen.host,
      listenPort: this.listen.port,
      controlSocket: this.controlSocket,
      tls: { rootCaPem: credentials.rootCaPem, certPem: credentials.certPem, keyPem: credentials.keyPem },
      rootCa,
      sealer: new SecretSealer(credentials.caKeyPem, this.clusterId),
      start,
      forceNewCluster: options.forceNewCluster,
      raft: this.raftTiming(),
      version: this.versionInfo(),
      logger: options.logger.child({ component: 'manager' }),
      extend: ({ server, socketServer, store, routing, peerTls }) => {
        const dispatcher = new Dispatcher({ store, logger: options.logger.child({ component: 'dispatcher' }) });
        addDispatcherService(server, {
          dispatcher: () => (dispatcher.isRunning ? dispatcher : undefined),
          leaderAddress: routing.leaderAddress,
          rootCaPem: credentials.rootCaPem,
          clusterId: this.clusterId,
          logger: options.logger.child({ component: 'dispatcher' }),
        });
        const duty: LeaderDuty = { start: () => void dispatcher.start(), stop: () => dispatcher.stop() };
        const logs = addLogServices({
          server,
          socketServer,
          store,
          routing,
          peerTls,
          rootCaPem: credentials.rootCaPem,
          clusterId: this.clusterId,
          logger: options.logger.child({ component: 'logbroker' }),
        });
        // The leader turns services into placed tasks: orchestrators (tasks per service), the
        // allocator and the scheduler (a node per task); the dispatcher then hands them to nodes.
        const orchestration = createOrchestration({ store, logger: options.logger.child({ component: 'orchestrator' }) });
        const scheduler = new Scheduler({ store, logger: options.logger.child({ component: 'scheduler' }) });
        return [duty, logs, orchestration, scheduler];
      },
    });
    this.announceStatus();
    // "Running" should mean swarmctl works: wait for a leader (bounded: with quorum lost there is none).
    const electionMs = this.raftTiming().tickMs * this.raftTiming().electionTick;
    if (!(await this.manager.waitUntilServing(electionMs * 10))) {
      options.logger.warn('no raft leader yet: the control API answers once a quorum of managers is up');
    }
    if (this.state.bootstrapPending === true) {
      this.state = { ...this.state, bootstrapPending: undefined };
      await writeNodeState(paths, this.state);
    }
    this.manager.onRemoved(() => {
      options.logger.info('this manager was removed from raft (demoted)');
      this.switchRole('worker');
    });
  }

  /** The node's session with the leader's dispatcher: how it reports itself and learns its role. */
  private startSession(): void {
    const { options } = this;
    const engine = createEngineClient(options.engineAddr);
    // The tasks this node runs, on its Docker Engine; assignments arrive over the session.
    const tasks = new TaskAgent({
      executor: new DockerExecutor({ nodeId: this.nodeId, engineAddr: options.engineAddr, logger: options.logger.child({ component: 'executor' }) }),
      logger: options.logger.child({ component: 'tasks' }),
    });
    this.taskAgent = tasks;
    this.session = new DispatcherSession({
      onEstablished: (link) => tasks.attach(link),
      managers: () => this.knownManagers(),
      credentials: () => clientCredentials({ ...this.credentials, expectedClusterId: this.clusterId }),
      channelOptions: managerChannelOptions,
      description: () => describeNode({ hostname: options.hostname, engine, engineAddr: options.engineAddr, logger: options.logger.child({ component: 'description' }) }),
      onMessage: (message) => this.onSessionMessage(message),
      onRemoved: (reason) => {
        options.logger.error('this node was removed from the cluster; stopping', { reason });
        void this.stop(`removed from the cluster: ${reason}`);
      },
      logger: options.logger.child({ component: 'session' }),
    });
    this.session.start();
    this.logPublisher = new LogPublisher({
      nodeId: this.nodeId,
      managers: () => this.knownManagers(),
      credentials: () => clientCredentials({ ...this.credentials, expectedClusterId: this.clusterId }),
      channelOptions: managerChannelOptions,
      source: new DockerLogSource(engine),
      logger: options.logger.child({ component: 'logs' }),
    });
    this.logPublisher.start();
  }

  private onSessionMessage(message: SessionMessage): void {
    const managers = message.managers.map((peer) => peer.addr);
    if (managers.length > 0 && managers.join(',') !== this.state.managers.join(',')) {
      this.state = { ...this.state, managers };
      void writeNodeState(this.paths, this.state).catch((err: unknown) => {
        this.options.logger.warn('could not record the manager list', { error: err instanceof Error ? err.message : String(err) });
      });
    }
    // Also when the certificate already says so but the manager is not running (a failed start).
    if (message.role !== this.role || (message.role === 'manager') !== (this.manager !== undefined)) this.switchRole(message.role);
  }

  private async stopManager(): Promise<void> {
    const manager = this.manager;
    this.manager = undefined;
    this.announceStatus();
    await manager?.stop();
  }

  /**
   * Renews the certificate, which carries the role the cluster now gives this node, and becomes that:
   * a promoted node starts a manager and joins raft; a demoted one stops its manager and drops its
   * raft state and CA key. Serialized: one change at a time.
   *
   * The session's message comes from the leader, but the manager that renews the certificate may be a
   * follower that has not applied the role change yet and signs the old role again. So the node keeps
   * renewing (asking the session's manager first) until the certificate carries the wanted role, and a
   * failed step is retried: the session sends the role only when it changes, so nothing else would.
   */
  switchRole(wanted: NodeRole): void {
    this.wantedRole = wanted;
    this.roleChange = this.roleChange
      .then(() => this.becomeRole(wanted))
      .catch((err: unknown) => {
        this.options.logger.error('role change failed; retrying', { error: err instanceof Error ? err.message : String(err), retryInMs: ROLE_RETRY_MAX_MS });
        this.retryRoleChangeLater(wanted, ROLE_RETRY_MAX_MS);
      });
  }

  /** True while this node is not yet what the cluster last asked it to be. */
  private roleUnsettled(wanted: NodeRole): boolean {
    if (this.stopped || this.wantedRole !== wanted) return false;
    return this.role !== wanted || (wanted === 'manager') !== (this.manager !== undefined);
  }

  private retryRoleChangeLater(wanted: NodeRole, delayMs: number): void {
    clearTimeout(this.roleRetryTimer);
    this.roleRetryTimer = setTimeout(() => {
      if (this.roleUnsettled(wanted)) this.switchRole(wanted);
    }, delayMs);
    this.roleRetryTimer.unref();
  }

  private async becomeRole(wanted: NodeRole): Promise<void> {
    if (!this.roleUnsettled(wanted)) return;
    this.options.logger.info('changing role', { from: this.role, to: wanted });
    for (let attempt = 0; this.role !== wanted; attempt++) {
      await this.renewCertificate(this.session?.manager);
      if (!this.roleUnsettled(wanted) || this.role === wanted) break;
      const delayMs = Math.min(ROLE_RETRY_MIN_MS * 2 ** attempt, ROLE_RETRY_MAX_MS);
      this.options.logger.info('the renewed certificate still carries the old role (that manager has not applied the change yet); renewing again', { role: this.role, wanted, retryInMs: delayMs });
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
    if (!this.roleUnsettled(wanted)) return;
    if (this.role === 'manager' && this.manager === undefined) {
      await this.startManager();
    } else if (this.role === 'worker' && this.manager !== undefined) {
      await this.stopManager();
      await removeRaftState(this.paths);
      this.state = { ...this.state, raftId: undefined };
      await writeNodeState(this.paths, this.state);
    }
  }

  /** Gets a new certificate (and key) from a manager; the role in it is the cluster's current one. */
  async renewCertificate(preferred?: string): Promise<void> {
    const { credentials } = this;
    let lastError: unknown;
    const managers = this.knownManagers();
    for (const address of preferred === undefined ? managers : [...new Set([preferred, ...managers])]) {
      try {
        const renewed = await renewNodeCertificate({ address, rootCaPem: credentials.rootCaPem, certPem: credentials.certPem, keyPem: credentials.keyPem });
        this.credentials = { rootCaPem: renewed.rootCaPem, certPem: renewed.certPem, keyPem: renewed.keyPem, caKeyPem: renewed.caKeyPem ?? (renewed.role === 'manager' ? credentials.caKeyPem : undefined) };
        await writeCredentials(this.paths, this.credentials, renewed.role);
        this.options.logger.info('certificate renewed', { role: renewed.role, manager: address });
        this.announceStatus();
        this.scheduleRenewal();
        return;
      } catch (err) {
        lastError = err;
      }
    }
    throw lastError ?? new Error('no manager is known to renew the certificate with');
  }

  private scheduleRenewal(): void {
    clearTimeout(this.renewalTimer);
    if (this.stopped) return;
    const delay = renewalDelayMs(parseNodeCertificate(this.credentials.certPem));
    this.renewalTimer = setTimeout(() => {
      if (delay > MAX_TIMER_MS) {
        this.scheduleRenewal();
        return;
      }
      void this.renewAndRestartManager();
    }, Math.min(delay, MAX_TIMER_MS));
    this.renewalTimer.unref();
  }

  /** A manager serves with its certificate, so it restarts its services to pick up the new one. */
  private async renewAndRestartManager(): Promise<void> {
    try {
      await this.renewCertificate();
      if (this.manager !== undefined) {
        await this.stopManager();
        await this.startManager();
      }
    } catch (err) {
      this.options.logger.warn('certificate renewal failed; retrying in a minute', { error: err instanceof Error ? err.message : String(err) });
      this.renewalTimer = setTimeout(() => void this.renewAndRestartManager(), 60_000);
      this.renewalTimer.unref();
    }
  }

  async stop(reason?: string): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.renewalTimer);
    clearTimeout(this.roleRetryTimer);
    await this.session?.stop();
    // Containers keep running: the next agent on this node adopts them.
    await this.taskAgent?.stop();
    this.logPublisher?.stop();
    await this.roleChange;
    await this.stopManager();
    for (const resolve of this.stoppedWaiters.splice(0)) resolve(reason);
  }
}

/** Everything a new cluster's first manager needs, written before it starts. */
async function foundCluster(paths: StatePaths, advertise: string): Promise<{ credentials: StoredCredentials; state: PersistedNodeState }> {
  const rootCa = await createRootCa();
  const nodeId = newNodeId();
  const clusterId = newClusterId();
  const { keyPem, csrPem } = await createNodeCsr();
  const certPem = await signNodeCsr(rootCa, csrPem, { nodeId, role: 'manager', clusterId });
  const credentials: StoredCredentials = { rootCaPem: rootCa.certPem, certPem, keyPem, caKeyPem: await rootCaKeyPem(rootCa) };
  const state: PersistedNodeState = { nodeId, clusterId, raftId: randomInt(1, 2 ** 48), managers: [advertise], bootstrapPending: true };
  // State first: certificates without it would look like a finished node on the next start.
  await removeRaftState(paths);
  await writeNodeState(paths, state);
  await writeCredentials(paths, credentials, 'manager');
  return { credentials, state };
}
