/**
 * One renderer's connection to the main-process services (the Electron window, or one browser-mode
 * WebSocket): a handler for every contract method, argument validation before any work, errors as
 * ContractError values, and the session's own live feeds (cluster changes, log streams).
 */
import { networkInterfaces } from 'node:os';
import type { Node } from '../../agent/api/objects';
import { ApiError } from '../../agent/api/errors';
import type { ControlClient } from '../../agent/api/control-client';
import { SWARMDESK_VERSION } from '../../agent/version';
import type { ApiHandlers, ApiMethod, ClusterSnapshot, IpcResult, JoinTokensView, NetworkAddress, NodeView, ServiceView, SwarmdeskEvent } from '../contract';
import { toContractError } from './errors';
import type { LocalNodeHost } from './local-node-host';
import type { RemoteFeed } from './node-worker/node-worker';
import { LogStreams } from './log-streams';
import type { Machines } from './machines';
import { provisioningHandlers } from './provision/ipc';
import type { Settings } from './settings';
import { validateArgument } from './validation';

export interface SessionContext {
  host: LocalNodeHost;
  /** Provisioning: shared by every session (jobs outlive a window; their events go to all). */
  machines: Machines;
  settings: Settings;
  mode: 'electron' | 'web';
  appName: string;
  appVersion: string;
  feed?: { flushMs?: number; healthCheckMs?: number; maxChangesPerEvent?: number };
}

/**
 * Takes an event already encoded as UTF-8 JSON (the cluster feed's, encoded in the node's worker): a
 * transport that writes JSON anyway (browser mode's WebSocket) sends the bytes as they are. Without
 * one, the session decodes them.
 */
export type EncodedEventSink = (json: Uint8Array) => void;

/** A successful answer whose value is already UTF-8 JSON (the cluster snapshot, encoded in the node's worker). */
export interface EncodedAnswer {
  ok: true;
  valueJson: Uint8Array;
}

const decoder = new TextDecoder();

export class ApiSession {
  readonly handlers: ApiHandlers;
  private feed: RemoteFeed | undefined;
  private readonly logs: LogStreams;
  private readonly emitEncoded: EncodedEventSink;
  private closed = false;

  constructor(
    private readonly context: SessionContext,
    private readonly emit: (event: SwarmdeskEvent) => void,
    private readonly onClose: (session: ApiSession) => void = () => undefined,
    emitEncoded?: EncodedEventSink,
  ) {
    this.logs = new LogStreams(emit);
    this.emitEncoded = emitEncoded ?? ((json) => emit(JSON.parse(decoder.decode(json)) as SwarmdeskEvent));
    this.handlers = this.createHandlers();
  }

  /** Validates the argument, runs the handler, and answers with a result (never throws). */
  async call(method: ApiMethod, argument: unknown): Promise<IpcResult<unknown>> {
    if (this.closed) return { ok: false, error: { code: 'Unavailable', message: 'this session is closed' } };
    if (!Object.prototype.hasOwnProperty.call(this.handlers, method)) return { ok: false, error: { code: 'InvalidArgument', message: `unknown method ${String(method)}` } };
    const checked = validateArgument(method, argument);
    if (!checked.ok) return checked;
    try {
      const handler = this.handlers[method] as (argument: unknown) => Promise<unknown>;
      const value = await handler(checked.value);
      return { ok: true, value };
    } catch (err) {
      return { ok: false, error: toContractError(err) };
    }
  }

  /**
   * As `call`, for a transport that writes JSON anyway (browser mode's WebSocket): the cluster snapshot
   * comes back as the bytes the worker encoded, to be written as they are, not decoded here and encoded
   * again (for 10,000 tasks, ~7 MB: a few hundred milliseconds of this thread).
   */
  async callEncoded(method: ApiMethod, argument: unknown): Promise<IpcResult<unknown> | EncodedAnswer> {
    if (method !== 'subscribeCluster' || this.closed) return this.call(method, argument);
    const checked = validateArgument(method, argument);
    if (!checked.ok) return checked;
    try {
      return { ok: true, valueJson: await this.subscribeCluster() };
    } catch (err) {
      return { ok: false, error: toContractError(err) };
    }
  }

  /** Opens this session's feed (closing any earlier one): its snapshot as UTF-8 JSON. */
  private subscribeCluster(): Promise<Uint8Array> {
    this.feed?.close();
    const feed = this.context.host.openFeed(this.context.feed ?? {}, this.emitEncoded);
    this.feed = feed;
    return feed.start();
  }

  /** Called when the local node stops or changes: a feed on the old store is useless now. */
  onLocalNodeChanged(): void {
    const feed = this.feed;
    // A feed lives in the node's worker: it stays live through a change of setting, not a restart.
    if (feed === undefined || feed.live) return;
    feed.close();
    this.feed = undefined;
    this.emit({ kind: 'resync', reason: 'the local manager stopped or restarted' });
  }

  emitEvent(event: SwarmdeskEvent): void {
    if (!this.closed) this.emit(event);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.onClose(this);
    this.feed?.close();
    this.feed = undefined;
    this.logs.closeAll();
  }

  private control(): ControlClient {
    return this.context.host.control();
  }

  private async nodeView(node: Node): Promise<NodeView> {
    return { ...node, taskCount: await this.context.host.nodeTaskCount(node.id) };
  }

  private async updateNodeSpec(nodeId: string, change: (spec: Node['spec']) => Node['spec']): Promise<NodeView> {
    const client = this.control();
    const { node } = await client.getNode({ nodeId });
    const updated = await client.updateNode({ nodeId, version: node.meta.version, spec: change(node.spec) });
    return this.nodeView(updated.node);
  }

  private async joinTokens(): Promise<JoinTokensView> {
    const host = this.context.host;
    const { clusterId, advertiseAddress: own } = host.snapshot();
    const { cluster } = await this.control().getCluster({ clusterId: clusterId ?? '' });
    const managers = await host.managerAddresses();
    const managerAddresses = [...new Set([...(own === undefined ? [] : [own]), ...managers])];
    const first = managerAddresses[0] ?? '';
    const { worker, manager } = cluster.rootCa.joinTokens;
    return {
      worker,
      manager,
      managerAddresses,
      workerCommand: `swarmd --join-addr ${first} --join-token ${worker}`,
      managerCommand: `swarmd --join-addr ${first} --join-token ${manager}`,
    };
  }

  private async service(serviceId: string): Promise<ServiceView> {
    return (await this.control().getService({ serviceId })).service;
  }

  private createHandlers(): ApiHandlers {
    const { host, settings, context } = { host: this.context.host, settings: this.context.settings, context: this.context };
    return {
      getAppInfo: async () => ({
        name: context.appName,
        version: context.appVersion,
        platform: process.platform,
        mode: context.mode,
        agent: { version: SWARMDESK_VERSION, runtime: process.version },
      }),
      getLocalNode: async () => host.snapshot(),
      listAddresses: async () => {
        const out: NetworkAddress[] = [];
        for (const [interfaceName, addresses] of Object.entries(networkInterfaces())) {
          for (const entry of addresses ?? []) {
            if (entry.family !== 'IPv4' && entry.family !== 'IPv6') continue;
            out.push({ interfaceName, address: entry.address, family: entry.family, internal: entry.internal });
          }
        }
        // Addresses other machines can reach first: external IPv4, external IPv6, then loopback.
        const rank = (a: NetworkAddress) => (a.internal ? 2 : 0) + (a.family === 'IPv6' ? 1 : 0);
        return out.sort((a, b) => rank(a) - rank(b));
      },
      createCluster: (request) => host.createCluster(request),
      joinCluster: (request) => host.joinCluster(request),
      setRunTasks: (request) => host.setRunTasks(request.runTasks),

      subscribeCluster: async () => JSON.parse(decoder.decode(await this.subscribeCluster())) as ClusterSnapshot,
      unsubscribeCluster: async () => {
        this.feed?.close();
        this.feed = undefined;
      },

      getJoinTokens: () => this.joinTokens(),
      rotateJoinToken: async (request) => {
        const client = this.control();
        const clusterId = host.snapshot().clusterId ?? '';
        const { cluster } = await client.getCluster({ clusterId });
        await client.updateCluster({
          clusterId,
          version: cluster.meta.version,
          spec: cluster.spec,
          ...(request.role === 'worker' ? { rotateWorkerToken: true } : { rotateManagerToken: true }),
        });
        return this.joinTokens();
      },

      setNodeAvailability: (request) => this.updateNodeSpec(request.nodeId, (spec) => ({ ...spec, availability: request.availability })),
      setNodeRole: (request) => this.updateNodeSpec(request.nodeId, (spec) => ({ ...spec, role: request.role })),
      setNodeLabels: (request) => this.updateNodeSpec(request.nodeId, (spec) => ({ ...spec, labels: request.labels })),
      removeNode: async (request) => {
        await this.control().removeNode({ nodeId: request.nodeId, force: request.force });
      },

      createService: async (request) => (await this.control().createService({ spec: request.spec })).service,
      updateService: async (request) =>
        (await this.control().updateService({ serviceId: request.serviceId, version: request.version, spec: request.spec, ...(request.force === undefined ? {} : { force: request.force }) })).service,
      scaleService: async (request) => {
        const current = await this.service(request.serviceId);
        if (!('replicated' in current.spec.mode)) throw new ApiError('FailedPrecondition', `service ${current.spec.name} is global: it runs one task per node and cannot be scaled`);
        const spec = { ...current.spec, mode: { replicated: { replicas: request.replicas } } };
        return (await this.control().updateService({ serviceId: current.id, version: current.meta.version, spec })).service;
      },
      rollbackService: async (request) => {
        const current = await this.service(request.serviceId);
        return (await this.control().rollbackService({ serviceId: current.id, version: current.meta.version })).service;
      },
      removeService: async (request) => {
        await this.control().removeService({ serviceId: request.serviceId });
      },

      startLogs: async (request) => {
        const client = this.control();
        await this.service(request.serviceId); // NotFound now, rather than an empty stream
        return { subscriptionId: this.logs.start(client, request) };
      },
      stopLogs: async (request) => {
        this.logs.stop(request.subscriptionId);
      },

      getSettings: async () => settings.ui(),
      updateSettings: async (request) => settings.updateUi(Object.fromEntries(Object.entries(request).filter(([, v]) => v !== undefined))),

      ...provisioningHandlers(context.machines),
    };
  }
}
