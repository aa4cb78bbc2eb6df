/**
 * The global orchestrator (SwarmKit's orchestrator/global): one live task of each global service on
 * every node that suits it, following the nodes.
 *
 * - A node that is ready, active and meets the service's constraints gets a task (nodeId preset; the
 *   scheduler only confirms it).
 * - A node that is down, drained, removed, or stops meeting the constraints has its tasks told to stop
 *   (desiredState SHUTDOWN).
 * - A node in between (state unknown right after a leader change, or paused) keeps what it runs and
 *   gets nothing new.
 * - A task that finished while desired RUNNING goes to the restart supervisor.
 * Nodes claimed by the restart supervisor or the updater are left to them. Removal of a deleted
 * service's tasks is the same as for replicated services.
 */
import type { Service, Task } from '../../api/objects';
import { TaskState } from '../../api/objects';
import { isTaskFinished, newTask } from '../../api/task-lifecycle';
import { type ChangeEvent, newId, type ReadTx, type WriteTx } from '../../store';
import { nodeFitness } from './node-fitness';
import { MORE, type ReconcileOutcome, reconcilePass } from './reconcile-pass';
import { type OrchestratorOptions, taskNeedsAttention } from './replicated';
import { removeServiceTasks } from './service-removal';
import { isGlobal, isLive, nodeKey, raiseDesiredState } from './tasks';
import type { TxEffects } from './tx-effects';
import { WatchLoop } from './watch-loop';
import { WorkQueue } from './work-queue';

export class GlobalOrchestrator {
  private readonly loop: WatchLoop;
  private readonly queue: WorkQueue;
  /** Ids of the global services, so a node change knows what to look at. */
  private readonly services = new Set<string>();
  private unlisten: (() => void) | undefined;

  constructor(private readonly options: OrchestratorOptions) {
    this.loop = new WatchLoop(options.store, ['service', 'node', 'task'], { resync: (tx) => this.resync(tx), commit: (c) => this.commit(c) }, options.logger, 'global orchestrator');
    this.queue = new WorkQueue((keys, current) => this.pass(keys, current), options.clock, options.logger, 'global orchestrator');
  }

  start(): void {
    this.queue.start();
    this.unlisten = this.options.claims.onRelease((serviceId) => {
      if (this.services.has(serviceId)) this.queue.add(serviceId);
    });
    this.loop.start();
  }

  stop(): void {
    this.loop.stop();
    this.queue.stop();
    this.services.clear();
    this.unlisten?.();
    this.unlisten = undefined;
  }

  idle(): Promise<void> {
    return this.queue.idle();
  }

  private resync(tx: ReadTx): void {
    this.services.clear();
    for (const service of tx.iterate('service')) if (isGlobal(service)) this.services.add(service.id);
    this.queue.addAll(this.services);
  }

  private commit(changes: readonly ChangeEvent[]): void {
    let nodesChanged = false;
    for (const change of changes) {
      if (change.kind === 'service') {
        const id = change.object.id;
        const wasGlobal = this.services.has(id);
        if (change.action !== 'delete' && isGlobal(change.object)) this.services.add(id);
        else this.services.delete(id);
        if (wasGlobal || this.services.has(id)) this.queue.add(id);
      } else if (change.kind === 'node') {
        nodesChanged = true;
      } else if (change.kind === 'task' && this.services.has(change.object.serviceId) && taskNeedsAttention(change)) {
        this.queue.add(change.object.serviceId);
      }
    }
    if (nodesChanged) this.queue.addAll(this.services);
  }

  private async pass(keys: readonly string[], current: () => boolean): Promise<void> {
    await reconcilePass(this.options.store, keys, (tx, id, effects, full) => this.reconcile(tx, id, effects, full), this.options.logger, 'global orchestrator', { current });
    for (const id of keys) if (this.services.has(id)) this.options.updates.ensure(id);
  }

  /** Returns MORE when `full()` stopped it part-way (many nodes are handled over several transactions). */
  private reconcile(tx: WriteTx, serviceId: string, effects: TxEffects, full: () => boolean): ReconcileOutcome {
    const { claims, restarts, logger, clock } = this.options;
    const service = tx.get('service', serviceId);
    if (service === undefined || service.pendingDelete === true) {
      // Deleted while global (the replicated orchestrator sweeps services whose mode is unknown).
      const { removed, done } = removeServiceTasks(tx, serviceId, claims, full);
      if (removed > 0) logger.info('service removed: its tasks are going away', { serviceId, tasks: removed });
      return done ? undefined : MORE;
    }
    if (!isGlobal(service)) return;

    const byNode = new Map<string, Task[]>();
    for (const task of tx.find('task', 'serviceId', serviceId)) {
      if (task.slot !== 0) continue;
      const list = byNode.get(task.nodeId);
      if (list === undefined) byNode.set(task.nodeId, [task]);
      else list.push(task);
    }

    for (const node of tx.iterate('node')) {
      if (full()) return MORE;
      const tasks = byNode.get(node.id) ?? [];
      byNode.delete(node.id);
      const key = nodeKey(node.id);
      const fitness = nodeFitness(node, service.spec.task);
      if (fitness === 'evict') {
        this.shutDown(tx, service, node.id, tasks);
        continue;
      }
      if (claims.isClaimed(serviceId, key)) continue;
      for (const task of tasks) {
        if (isLive(task) && isTaskFinished(task.status.state)) restarts.restart(tx, service, task, effects);
      }
      if (fitness !== 'run' || claims.isClaimed(serviceId, key)) continue;
      const live = tasks.some((t) => { const now = tx.get('task', t.id); return now !== undefined && isLive(now); });
      if (!live) {
        tx.create('task', newTask(service, { nodeId: node.id }, newId(), new Date(clock.now())));
        logger.debug('global orchestrator created a task', { serviceId, nodeId: node.id });
      }
    }
    // Tasks on nodes that no longer exist.
    for (const [nodeId, tasks] of byNode) {
      if (full()) return MORE;
      this.shutDown(tx, service, nodeId, tasks);
    }
  }

  private shutDown(tx: WriteTx, service: Service, nodeId: string, tasks: readonly Task[]): void {
    this.options.claims.cancel(service.id, nodeKey(nodeId));
    let n = 0;
    for (const task of tasks) if (raiseDesiredState(tx, task.id, TaskState.SHUTDOWN)) n++;
    if (n > 0) this.options.logger.info('global service leaves a node', { serviceId: service.id, nodeId, tasks: n });
  }
}
