/**
 * Live cluster data for one renderer: a snapshot of the in-process manager's store, then the store's
 * watch events turned into batched `changes` events. Events are coalesced per object (the latest version
 * wins), flushed at most every `flushMs`, and split into chunks so one large burst never becomes one
 * huge message. Counts the UI shows (a node's tasks, a service's running/desired replicas) are kept
 * incrementally: an event costs O(1), whatever the number of tasks.
 *
 * Cluster health (leader, reachable managers) comes from raft, not the store, so it is re-read on each
 * flush and on a slow timer, and sent only when it changed.
 */
import { TaskState, type Node, type Service, type Task } from '../../agent/api/objects';
import { withLiveManagerStatus } from '../../agent/manager/controlapi/handlers';
import { type MembershipSnapshot, quorumOf } from '../../agent/manager/raft-membership';
import type { MemoryStore } from '../../agent/store/memory-store';
import type { ChangeEvent, StoreEvent, Subscription } from '../../agent/store/watch';
import type { ClusterSnapshot, ClusterSummary, NodeView, ObjectChange, ServiceView, SwarmdeskEvent } from '../contract';

export interface ClusterFeedOptions {
  /** The in-process manager's replicated store. */
  store: MemoryStore;
  /** Raft membership right now (this.options.membership()). */
  membership(): MembershipSnapshot;
  clusterId: string;
  emit(event: SwarmdeskEvent): void;
  /** Longest a change waits before it is sent (default 150 ms). */
  flushMs?: number;
  /** Most object changes in one event (default 2000). */
  maxChangesPerEvent?: number;
  /** How often cluster health is re-read when nothing else happens (default 2000 ms). */
  healthCheckMs?: number;
}

/** Store events handled before yielding to the event loop. */
const EVENTS_PER_SLICE = 500;
/** Queue bound of the store subscription: large enough for any burst the feed drains in slices. */
const WATCH_BUFFER = 1_000_000;

interface ServiceCounts {
  wanted: number;
  running: number;
}

type Pending = { kind: 'node' | 'service' | 'task'; id: string };

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** The node as the UI gets it: no certificate material (large and of no use to it). */
function slimNode(node: Node): Node {
  if (node.certificate === undefined) return node;
  const { certificatePem: _cert, csrPem: _csr, ...certificate } = node.certificate;
  return { ...node, certificate };
}

export class ClusterFeed {
  private readonly nodes = new Map<string, Node>();
  private readonly services = new Map<string, Service>();
  private readonly tasks = new Map<string, Task>();
  private readonly tasksByNode = new Map<string, Set<string>>();
  private readonly nodeTaskCounts = new Map<string, number>();
  private readonly serviceCounts = new Map<string, ServiceCounts>();
  private clusterName = '';
  private subscription: Subscription | undefined;
  private pending = new Map<string, Pending>();
  private revision = 0;
  private sentRevision = 0;
  private lastSummary = '';
  private readonly lastManagerStatus = new Map<string, string>();
  private flushTimer: NodeJS.Timeout | undefined;
  private healthTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly flushMs: number;
  private readonly maxChanges: number;

  constructor(private readonly options: ClusterFeedOptions) {
    this.flushMs = options.flushMs ?? 150;
    this.maxChanges = options.maxChangesPerEvent ?? 2000;
  }

  /** The snapshot; `changes` events follow from its revision on. */
  start(): ClusterSnapshot {
    const { store, clusterId } = this.options;
    const { value, version, subscription } = store.viewAndWatch(
      (tx) => ({ nodes: tx.list('node'), services: tx.list('service'), tasks: tx.list('task'), cluster: tx.get('cluster', clusterId) }),
      { kinds: ['node', 'service', 'task', 'cluster'], bufferSize: WATCH_BUFFER },
    );
    this.subscription = subscription;
    this.clusterName = value.cluster?.spec.name ?? '';
    for (const node of value.nodes) this.nodes.set(node.id, node);
    for (const service of value.services) this.services.set(service.id, service);
    for (const task of value.tasks) this.addTask(task);
    this.revision = version;
    this.sentRevision = version;
    const membership = this.options.membership();
    const cluster = this.summary(membership);
    this.lastSummary = JSON.stringify(cluster);
    const nodes = value.nodes.map((node) => this.nodeView(node, membership));
    for (const node of nodes) this.rememberManagerStatus(node);
    const snapshot: ClusterSnapshot = {
      revision: version,
      cluster,
      nodes,
      services: value.services.map((service) => this.serviceView(service)),
      tasks: value.tasks,
    };
    // Building the counts marked every object; the snapshot already carries them.
    this.pending = new Map();
    void this.consume(subscription);
    this.healthTimer = setInterval(() => this.checkHealth(), this.options.healthCheckMs ?? 2000);
    this.healthTimer.unref();
    return snapshot;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.flushTimer);
    clearInterval(this.healthTimer);
    this.subscription?.close();
  }

  // -------------------------------------------------------------------------------------- the stream

  private async consume(subscription: Subscription): Promise<void> {
    let handled = 0;
    try {
      for await (const event of subscription) {
        if (this.closed) return;
        if (!this.onStoreEvent(event)) return;
        if (++handled % EVENTS_PER_SLICE === 0) await yieldToEventLoop();
      }
    } catch (err) {
      this.resync(`the store's change stream broke: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private onStoreEvent(event: StoreEvent): boolean {
    if (event.type === 'restored') {
      this.resync('this manager replaced its store from a snapshot');
      return false;
    }
    if (event.type === 'commit') {
      this.revision = event.version;
      this.scheduleFlush();
      return true;
    }
    this.applyChange(event);
    return true;
  }

  private resync(reason: string): void {
    if (this.closed) return;
    this.close();
    this.options.emit({ kind: 'resync', reason });
  }

  private mark(kind: Pending['kind'], id: string): void {
    this.pending.set(`${kind}/${id}`, { kind, id });
  }

  private applyChange(event: ChangeEvent): void {
    switch (event.kind) {
      case 'task': {
        const previous = this.tasks.get(event.object.id);
        if (previous !== undefined) this.removeTask(previous);
        if (event.action !== 'delete') this.addTask(event.object);
        this.mark('task', event.object.id);
        return;
      }
      case 'service':
        if (event.action === 'delete') this.services.delete(event.object.id);
        else this.services.set(event.object.id, event.object);
        this.mark('service', event.object.id);
        return;
      case 'node': {
        const previous = this.nodes.get(event.object.id);
        const wasDown = previous?.status.state === 'down';
        const isDown = event.action !== 'delete' && event.object.status.state === 'down';
        // A down node's tasks do not count as running (as in the control API's replica counts).
        const onNode = wasDown !== isDown ? [...(this.tasksByNode.get(event.object.id) ?? [])].map((id) => this.tasks.get(id)).filter((t): t is Task => t !== undefined) : [];
        for (const task of onNode) this.count(task, -1);
        if (event.action === 'delete') this.nodes.delete(event.object.id);
        else this.nodes.set(event.object.id, event.object);
        for (const task of onNode) this.count(task, 1);
        this.mark('node', event.object.id);
        return;
      }
      case 'cluster':
        if (event.object.id === this.options.clusterId && event.action !== 'delete') this.clusterName = event.object.spec.name;
        return;
      default:
        return;
    }
  }

  // ---------------------------------------------------------------------------------------- counting

  private addTask(task: Task): void {
    this.tasks.set(task.id, task);
    if (task.nodeId !== '') {
      let ids = this.tasksByNode.get(task.nodeId);
      if (ids === undefined) this.tasksByNode.set(task.nodeId, (ids = new Set()));
      ids.add(task.id);
    }
    this.count(task, 1);
  }

  private removeTask(task: Task): void {
    this.count(task, -1);
    this.tasks.delete(task.id);
    if (task.nodeId !== '') {
      const ids = this.tasksByNode.get(task.nodeId);
      ids?.delete(task.id);
      if (ids?.size === 0) this.tasksByNode.delete(task.nodeId);
    }
  }

  /** Adds (or with -1 removes) one task's part of its service's and node's counts. */
  private count(task: Task, sign: 1 | -1): void {
    if (task.desiredState > TaskState.RUNNING) return;
    let counts = this.serviceCounts.get(task.serviceId);
    if (counts === undefined) this.serviceCounts.set(task.serviceId, (counts = { wanted: 0, running: 0 }));
    counts.wanted += sign;
    if (task.status.state === TaskState.RUNNING && this.nodes.get(task.nodeId)?.status.state !== 'down') counts.running += sign;
    this.mark('service', task.serviceId);
    if (task.nodeId !== '') {
      this.nodeTaskCounts.set(task.nodeId, (this.nodeTaskCounts.get(task.nodeId) ?? 0) + sign);
      this.mark('node', task.nodeId);
    }
  }

  private serviceView(service: Service): ServiceView {
    const counts = this.serviceCounts.get(service.id) ?? { wanted: 0, running: 0 };
    const desired = 'replicated' in service.spec.mode ? service.spec.mode.replicated.replicas : counts.wanted;
    return { ...service, replicas: { running: counts.running, desired } };
  }

  private nodeView(node: Node, membership: MembershipSnapshot): NodeView {
    return { ...slimNode(withLiveManagerStatus(node, membership)), taskCount: this.nodeTaskCounts.get(node.id) ?? 0 };
  }

  // ---------------------------------------------------------------------------------- cluster health

  private summary(membership: MembershipSnapshot): ClusterSummary {
    let leaderNodeId: string | undefined;
    for (const node of this.nodes.values()) {
      if (node.managerStatus !== undefined && node.managerStatus.raftId === membership.leaderId && membership.leaderId !== 0) leaderNodeId = node.id;
    }
    const total = membership.voters.length;
    const reachable = membership.voters.filter((id) => membership.reachable.has(id)).length;
    const quorum = quorumOf(total);
    return {
      id: this.options.clusterId,
      name: this.clusterName,
      ...(leaderNodeId === undefined ? {} : { leaderNodeId }),
      managers: { total, reachable, quorum },
      hasQuorum: total > 0 && reachable >= quorum && membership.leaderId !== 0,
    };
  }

  private rememberManagerStatus(node: NodeView): void {
    if (node.managerStatus !== undefined) this.lastManagerStatus.set(node.id, `${node.managerStatus.leader}/${node.managerStatus.reachability}`);
  }

  /** Manager nodes whose live status (leader, reachable) changed since last sent, marked for sending. */
  private markChangedManagers(membership: MembershipSnapshot): void {
    for (const node of this.nodes.values()) {
      if (node.managerStatus === undefined) continue;
      const live = withLiveManagerStatus(node, membership).managerStatus;
      const key = live === undefined ? '' : `${live.leader}/${live.reachability}`;
      if (this.lastManagerStatus.get(node.id) !== key) this.mark('node', node.id);
    }
  }

  private checkHealth(): void {
    if (this.closed || this.flushTimer !== undefined) return;
    const membership = this.options.membership();
    this.markChangedManagers(membership);
    const summary = JSON.stringify(this.summary(membership));
    if (this.pending.size > 0 || summary !== this.lastSummary) this.scheduleFlush();
  }

  // ---------------------------------------------------------------------------------------- flushing

  private scheduleFlush(): void {
    if (this.flushTimer !== undefined || this.closed) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      void this.flush();
    }, this.flushMs);
  }

  private async flush(): Promise<void> {
    if (this.closed) return;
    const membership = this.options.membership();
    this.markChangedManagers(membership);
    const pending = [...this.pending.values()];
    this.pending = new Map();
    const summary = this.summary(membership);
    const summaryText = JSON.stringify(summary);
    const clusterChanged = summaryText !== this.lastSummary;
    if (pending.length === 0 && !clusterChanged && this.revision === this.sentRevision) return;
    this.lastSummary = summaryText;

    const fromRevision = this.sentRevision;
    const revision = this.revision;
    this.sentRevision = revision;
    // Chunks: all but the last say revision === fromRevision (part of the range, more to come); the last
    // one carries the new revision, so "holding revision R" always means every change up to R is applied.
    for (let start = 0, chunk = 0; start < pending.length || chunk === 0; start += this.maxChanges, chunk++) {
      const last = start + this.maxChanges >= pending.length;
      const changes: ObjectChange[] = [];
      for (const { kind, id } of pending.slice(start, start + this.maxChanges)) changes.push(this.describe(kind, id, membership));
      this.options.emit({
        kind: 'changes',
        fromRevision,
        revision: last ? revision : fromRevision,
        ...(chunk === 0 && clusterChanged ? { cluster: summary } : {}),
        changes,
      });
      if (last || this.closed) return;
      await yieldToEventLoop();
      if (this.closed) return;
    }
  }

  private describe(kind: Pending['kind'], id: string, membership: MembershipSnapshot): ObjectChange {
    if (kind === 'task') {
      const task = this.tasks.get(id);
      return task === undefined ? { kind, action: 'delete', id } : { kind, action: 'upsert', object: task };
    }
    if (kind === 'service') {
      const service = this.services.get(id);
      return service === undefined ? { kind, action: 'delete', id } : { kind, action: 'upsert', object: this.serviceView(service) };
    }
    const node = this.nodes.get(id);
    if (node === undefined) {
      this.lastManagerStatus.delete(id);
      return { kind, action: 'delete', id };
    }
    const view = this.nodeView(node, membership);
    this.rememberManagerStatus(view);
    return { kind, action: 'upsert', object: view };
  }
}
