/**
 * The constraint enforcer and drain (SwarmKit's orchestrator/constraintenforcer, plus the drain and
 * node-down handling SwarmKit keeps in the replicated orchestrator): a replicated task whose node is
 * drained, down, removed, or no longer meets the task's placement constraints is told to stop
 * (desiredState SHUTDOWN). The replicated orchestrator then refills its slot and the scheduler places
 * the new task on a node that fits. A node in "unknown" state (right after a leader change) is not
 * lost: its tasks stay. Global services' tasks are the global orchestrator's business.
 */
import { TaskState } from '../../api/objects';
import type { Clock, ComponentLogger } from '../../runtime';
import type { ChangeEvent, MemoryStore, ReadTx, WriteTx } from '../../store';
import { evictionReason } from './node-fitness';
import { MORE, type ReconcileOutcome, reconcilePass } from './reconcile-pass';
import { isLive, raiseDesiredState } from './tasks';
import { WatchLoop } from './watch-loop';
import { WorkQueue } from './work-queue';

export interface ConstraintEnforcerOptions {
  store: MemoryStore;
  clock: Clock;
  logger: ComponentLogger;
}

export class ConstraintEnforcer {
  private readonly loop: WatchLoop;
  private readonly queue: WorkQueue;

  constructor(private readonly options: ConstraintEnforcerOptions) {
    this.loop = new WatchLoop(options.store, ['node'], { resync: (tx) => this.resync(tx), commit: (c) => this.commit(c) }, options.logger, 'constraint enforcer');
    this.queue = new WorkQueue((keys, current) => this.pass(keys, current), options.clock, options.logger, 'constraint enforcer');
  }

  start(): void {
    this.queue.start();
    this.loop.start();
  }

  stop(): void {
    this.loop.stop();
    this.queue.stop();
  }

  idle(): Promise<void> {
    return this.queue.idle();
  }

  private resync(tx: ReadTx): void {
    const nodeIds = new Set<string>();
    for (const node of tx.iterate('node')) nodeIds.add(node.id);
    // Tasks left on nodes that were removed while no leader was watching.
    for (const task of tx.find('task', 'desiredState', TaskState.RUNNING)) if (task.nodeId !== '') nodeIds.add(task.nodeId);
    this.queue.addAll(nodeIds);
  }

  private commit(changes: readonly ChangeEvent[]): void {
    for (const change of changes) {
      if (change.kind !== 'node') continue;
      const node = change.object;
      const old = change.oldObject;
      // Only what eviction depends on: heartbeats and certificate renewals do not matter here.
      if (
        change.action !== 'update' ||
        old === undefined ||
        old.status.state !== node.status.state ||
        old.spec.availability !== node.spec.availability ||
        old.role !== node.role ||
        JSON.stringify(old.spec.labels) !== JSON.stringify(node.spec.labels) ||
        JSON.stringify(old.description) !== JSON.stringify(node.description)
      ) {
        this.queue.add(node.id);
      }
    }
  }

  private pass(nodeIds: readonly string[], current: () => boolean): Promise<void> {
    return reconcilePass(this.options.store, nodeIds, (tx, nodeId, _effects, full) => this.enforce(tx, nodeId, full), this.options.logger, 'constraint enforcer', { current });
  }

  /** A node of thousands of tasks is handled over several transactions (MORE: run it again). */
  private enforce(tx: WriteTx, nodeId: string, full: () => boolean): ReconcileOutcome {
    const node = tx.get('node', nodeId);
    for (const task of tx.find('task', 'nodeId', nodeId)) {
      if (task.slot === 0 || !isLive(task)) continue;
      if (full()) return MORE;
      const reason = evictionReason(node, task.spec);
      if (reason === undefined) continue;
      if (raiseDesiredState(tx, task.id, TaskState.SHUTDOWN)) {
        this.options.logger.info('task moved off its node', { taskId: task.id, serviceId: task.serviceId, nodeId, reason });
      }
    }
  }
}
