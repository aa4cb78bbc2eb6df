/**
 * One manager: the raft member, the replicated store, and the services other nodes and users call
 * (CA, raft membership, control API, dispatcher), all on one mutual-TLS gRPC port, plus the control
 * API on the local Unix socket. Leader-only duties (role changes, the dispatcher, creating the
 * cluster's first objects) start when this member becomes leader and stop when it loses leadership.
 */
import * as grpc from '@grpc/grpc-js';
import { ControlClient } from '../api/control-client';
import type { VersionInfo } from '../api/control';
import { ApiError } from '../api/errors';
import { addNodeCaService } from '../ca/ca-service';
import type { RootCa } from '../ca/root-ca';
import type { SecretSealer } from '../ca/sealing';
import { clientCredentials, type ClientTlsMaterial, listenMutualTls, managerChannelOptions, type MutualTlsListener, peerIdentity, requireRole, withoutChannelz } from '../ca/tls-credentials';
import type { Logger } from '../log';
import { RaftRunner } from '../raft/runner';
import type { Proposer } from '../raft/state-machine';
import { NodeFs } from '../raft/storage/node-fs';
import { DurableRaftStorage } from '../raft/storage/raft-storage';
import { GrpcRaftTransport } from '../raft/transport/grpc-transport';
import type { NodeId } from '../raft/types';
import { MemoryStore } from '../store';
import { newClusterObject, newNodeObject } from './cluster-objects';
import { closeControlSocket, listenControlSocket } from './control-socket';
import { leaderOnlyControlApi, leaderRoutedControlApi, type LeaderRouting } from './controlapi/forwarder';
import { ControlHandlers } from './controlapi/handlers';
import { addControlService } from './controlapi/service';
import { addRaftJoinService } from './raft-join';
import { membershipOf } from './raft-membership';
import { RoleManager } from './role-manager';
import { StoreJoinAuthority } from './store-authority';

/** Something that runs only while this manager leads (the dispatcher, for one). */
export interface LeaderDuty {
  start(): void;
  stop(): void;
}

export interface RaftTiming {
  tickMs: number;
  electionTick: number;
  heartbeatTick: number;
}

export interface ManagerOptions {
  nodeId: string;
  clusterId: string;
  raftId: NodeId;
  raftDir: string;
  /** host:port other managers and nodes dial. */
  advertiseAddress: string;
  listenHost: string;
  listenPort: number;
  controlSocket: string;
  /** This node's TLS material; the manager's certificate and the root. */
  tls: { rootCaPem: string; certPem: string; keyPem: string };
  /** The root CA with its signing key. */
  rootCa: RootCa;
  sealer: SecretSealer;
  /** 'bootstrap' founds a cluster; 'join' starts a learner the leader has added; 'restart' resumes from disk. */
  start: { kind: 'bootstrap' } | { kind: 'join'; members: ReadonlyMap<NodeId, string> } | { kind: 'restart' };
  forceNewCluster?: boolean;
  raft: RaftTiming;
  version: VersionInfo;
  logger: Logger;
  /** Adds more services (the dispatcher) to the TCP server and returns the duties to run while leading. */
  extend?: (context: {
    server: grpc.Server;
    socketServer: grpc.Server;
    store: MemoryStore;
    runner: () => RaftRunner | undefined;
    routing: LeaderRouting;
    peerTls: ClientTlsMaterial;
  }) => LeaderDuty[];
}

export class Manager {
  private duties: LeaderDuty[] = [];
  private leading = false;
  private readonly forwardClients = new Map<string, ControlClient>();
  private readonly removedListeners = new Set<() => void>();
  private stopping: Promise<void> | undefined;

  private constructor(
    private readonly options: ManagerOptions,
    readonly store: MemoryStore,
    readonly runner: RaftRunner,
    private readonly server: grpc.Server,
    private readonly listener: MutualTlsListener,
    private readonly socketServer: grpc.Server,
    private readonly roleManager: RoleManager,
  ) {}

  static async start(options: ManagerOptions): Promise<Manager> {
    const { logger } = options;
    const late: { runner?: RaftRunner } = {};
    const runnerNow = (): RaftRunner => {
      if (late.runner === undefined) throw new ApiError('Unavailable', 'the manager is still starting');
      return late.runner;
    };
    const proposer: Proposer = {
      propose: (data, signal) => runnerNow().propose(data, signal),
      linearizableBarrier: (signal) => runnerNow().linearizableBarrier(signal),
    };
    const store = new MemoryStore(proposer);
    const peerTls: ClientTlsMaterial = { ...options.tls, expectedClusterId: options.clusterId };
    const routing: LeaderRouting = {
      isLeader: () => late.runner?.isLeader ?? false,
      leaderAddress: () => {
        const runner = late.runner;
        if (runner === undefined) return undefined;
        const status = runner.status();
        return status.leaderId === 0 ? undefined : status.members.get(status.leaderId);
      },
    };
    const peerCheck = { rootCaPem: options.tls.rootCaPem, clusterId: options.clusterId };

    const server = new grpc.Server(withoutChannelz);
    const transport = new GrpcRaftTransport({
      server,
      channelCredentials: clientCredentials(peerTls),
      channelOptions: managerChannelOptions,
      authorizeStream: (call) => peerIdentity(call, peerCheck)?.role === 'manager',
    });
    addNodeCaService(server, new StoreJoinAuthority(store, options.rootCa, options.clusterId, options.sealer));
    addRaftJoinService(server, { store, runner: () => late.runner, ...peerCheck });
    const handlers = new ControlHandlers({
      store,
      rootCa: options.rootCa,
      sealer: options.sealer,
      membership: () => membershipOf(runnerNow()),
      version: options.version,
    });
    const reportBug = (method: string, err: unknown) => logger.error('control API call failed unexpectedly', { method, error: err instanceof Error ? err.stack : String(err) });
    addControlService(server, leaderOnlyControlApi(handlers, routing), {
      authorize: (call) => {
        const caller = requireRole(call, ['manager'], peerCheck);
        if (store.get('node', caller.nodeId) === undefined) throw new ApiError('PermissionDenied', `node ${caller.nodeId} was removed from the cluster`);
      },
      onInternalError: reportBug,
    });
    const socketServer = new grpc.Server(withoutChannelz);
    const duties = options.extend?.({ server, socketServer, store, runner: () => late.runner, routing, peerTls }) ?? [];

    const listener = await listenMutualTls(server, options.listenHost, options.listenPort, options.tls);
    let runner: RaftRunner;
    try {
      const { storage, state } = await DurableRaftStorage.open(options.raftDir, new NodeFs());
      runner = await RaftRunner.start({
        id: options.raftId,
        address: options.advertiseAddress,
        durable: storage,
        restored: state,
        transport,
        stateMachine: store,
        bootstrap: options.start.kind === 'bootstrap',
        peers: options.start.kind === 'join' ? new Map([...options.start.members].filter(([id]) => id !== options.raftId)) : undefined,
        forceNewCluster: options.forceNewCluster,
        ...options.raft,
        logger: logger.child({ component: 'raft' }),
      });
    } catch (err) {
      await listener.close();
      server.forceShutdown();
      throw err;
    }
    late.runner = runner;

    const manager: Manager = new Manager(
      options,
      store,
      runner,
      server,
      listener,
      socketServer,
      new RoleManager({ store, runner, logger: logger.child({ component: 'roles' }) }),
    );
    manager.duties = duties;
    addControlService(socketServer, leaderRoutedControlApi(handlers, routing, (address) => manager.forwardClient(address, peerTls)), { onInternalError: reportBug });
    await listenControlSocket(socketServer, options.controlSocket);

    runner.onLeaderChange((leaderId) => manager.onLeaderChange(leaderId));
    runner.onRemoved(() => {
      for (const listener of manager.removedListeners) listener();
    });
    if (runner.isLeader) manager.onLeaderChange(options.raftId);
    logger.info('manager started', { raftId: options.raftId, advertise: options.advertiseAddress, port: listener.port });
    return manager;
  }

  /**
   * Resolves true once a leader is known and the cluster object is in the local store (the control API
   * can answer), false if that does not happen within `timeoutMs` (e.g. quorum is lost).
   */
  async waitUntilServing(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && !this.stopping) {
      if (this.runner.status().leaderId !== 0 && this.store.get('cluster', this.options.clusterId) !== undefined) return true;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return false;
  }

  /** The TCP port actually bound (useful when asked for port 0). */
  get port(): number {
    return this.listener.port;
  }

  /** Called once if this manager's raft member is removed (it was demoted). */
  onRemoved(listener: () => void): void {
    this.removedListeners.add(listener);
  }

  private forwardClient(address: string, tls: ClientTlsMaterial): ControlClient {
    let client = this.forwardClients.get(address);
    if (client === undefined) {
      client = new ControlClient(address, { credentials: clientCredentials(tls), channelOptions: managerChannelOptions, describe: `the leader at ${address}` });
      this.forwardClients.set(address, client);
    }
    return client;
  }

  private onLeaderChange(leaderId: NodeId): void {
    const leading = leaderId === this.options.raftId;
    if (leading === this.leading || this.stopping) return;
    this.leading = leading;
    if (leading) {
      this.options.logger.info('this manager is the leader');
      void this.ensureClusterObjects().then(() => {
        if (!this.leading) return;
        this.roleManager.start();
        for (const duty of this.duties) duty.start();
      });
    } else {
      this.options.logger.info('this manager is no longer the leader', { leader: leaderId });
      this.roleManager.stop();
      for (const duty of this.duties) duty.stop();
    }
  }

  /**
   * A new cluster's first objects, written by its first leader. Idempotent: a leader holds every
   * committed entry, so it finds them unless they were never written (a crash right after founding).
   */
  private async ensureClusterObjects(): Promise<void> {
    const { store, options } = this;
    for (let attempt = 0; this.leading; attempt++) {
      try {
        await store.update((tx) => {
          if (tx.get('cluster', options.clusterId) !== undefined) return;
          tx.create('cluster', newClusterObject(options.clusterId, options.rootCa, options.sealer));
          if (tx.get('node', options.nodeId) === undefined) {
            tx.create('node', {
              ...newNodeObject(options.nodeId, 'manager', options.advertiseAddress),
              managerStatus: { raftId: options.raftId, addr: options.advertiseAddress, leader: true, reachability: 'reachable' },
            });
          }
        });
        return;
      } catch (err) {
        options.logger.warn('could not write the cluster object yet; retrying', { error: err instanceof Error ? err.message : String(err), attempt });
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.roleManager.stop();
      for (const duty of this.duties) duty.stop();
      for (const client of this.forwardClients.values()) client.close();
      await closeControlSocket(this.socketServer, this.options.controlSocket);
      await this.runner.stop();
      await this.listener.close();
      this.server.forceShutdown();
    })();
    return this.stopping;
  }
}
