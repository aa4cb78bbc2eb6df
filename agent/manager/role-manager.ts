/**
 * Makes node roles real (SwarmKit's roleManager), on the leader only. A promotion is a spec change
 * (`node promote` sets spec.role); this loop then:
 * - promotion: sets the node's current role to manager, so its next certificate renewal (which the
 *   node starts when its session reports the new role) carries the manager role; the node then asks
 *   to join raft (raft-join.ts);
 * - demotion: removes the node's raft member first (transferring leadership away if the leader itself
 *   is being demoted: the next leader finishes the job), then sets the role to worker;
 * - learners that have caught up with the leader's log become voters.
 * Every step is idempotent and retried on the next pass, so a failed or interrupted step (lost
 * leadership, a crash) is finished by whichever manager leads next.
 */
import type { Logger } from '../log';
import type { RaftRunner } from '../raft/runner';
import type { MemoryStore, Subscription } from '../store';
import type { Node } from '../api/objects';
import { membershipOf, removalWouldLoseQuorum } from './raft-membership';

export interface RoleManagerOptions {
  store: MemoryStore;
  runner: RaftRunner;
  logger: Logger;
  /** Pass period when nothing changes (retries, learner catch-up). */
  intervalMs?: number;
}

export class RoleManager {
  private subscription: Subscription | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = true;

  constructor(private readonly options: RoleManagerOptions) {}

  start(): void {
    this.stopped = false;
    this.subscription = this.options.store.subscribe({ kinds: ['node'] }, () => this.kick());
    this.timer = setInterval(() => this.kick(), this.options.intervalMs ?? 500);
    this.kick();
  }

  stop(): void {
    this.stopped = true;
    this.subscription?.close();
    clearInterval(this.timer);
  }

  /** Runs a pass now, or right after the current one. */
  private kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.pass()
      .catch((err: unknown) => this.options.logger.warn('role reconciliation failed; retrying', { error: err instanceof Error ? err.message : String(err) }))
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  private async pass(): Promise<void> {
    const { store, runner } = this.options;
    if (!runner.isLeader) return;
    await this.promoteCaughtUpLearners();
    for (const node of store.view((tx) => tx.list('node'))) {
      if (this.stopped || !runner.isLeader) return;
      if (node.spec.role === 'manager' && node.role === 'worker') await this.promote(node);
      else if (node.spec.role === 'worker' && node.role === 'manager') await this.demote(node);
    }
  }

  private async promoteCaughtUpLearners(): Promise<void> {
    const { runner, logger } = this.options;
    const status = runner.status();
    for (const learner of status.learners) {
      const match = status.progress?.get(learner)?.match ?? 0;
      if (match < status.commit) continue;
      logger.info('learner caught up; promoting it to voter', { raftId: learner });
      await runner.promoteLearner(learner);
    }
  }

  private async promote(node: Node): Promise<void> {
    this.options.logger.info('promoting node to manager', { nodeId: node.id });
    await this.options.store.updateObject('node', { ...node, role: 'manager' });
  }

  private async demote(node: Node): Promise<void> {
    const { runner, store, logger } = this.options;
    const raftId = node.managerStatus?.raftId;
    const membership = membershipOf(runner);
    const isMember = raftId !== undefined && (membership.voters.includes(raftId) || membership.learners.includes(raftId));
    if (raftId !== undefined && isMember) {
      const why = removalWouldLoseQuorum(membership, raftId);
      if (why !== undefined) {
        logger.warn('demotion waits: removing the member now would lose quorum', { nodeId: node.id, reason: why });
        return;
      }
      if (raftId === membership.selfId) {
        const successor = membership.voters.find((id) => id !== raftId && membership.reachable.has(id));
        if (successor === undefined) return;
        logger.info('the leader is being demoted: transferring leadership first', { nodeId: node.id, to: successor });
        await runner.transferLeadership(successor);
        return;
      }
      logger.info('removing demoted manager from raft', { nodeId: node.id, raftId });
      await runner.removeMember(raftId);
    }
    const current = store.get('node', node.id);
    if (current === undefined) return;
    const { managerStatus: _removed, ...rest } = current;
    await store.updateObject('node', { ...rest, role: 'worker' });
  }
}
