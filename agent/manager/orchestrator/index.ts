/**
 * Orchestration, as one leader duty: the allocator, the replicated and global orchestrators, the
 * restart and update supervisors, the constraint enforcer and the task reaper, sharing one set of
 * instance claims. Start it when this manager becomes leader and stop it when it stops leading; every
 * piece rebuilds what it needs from the store on start, so nothing is carried across leaders.
 */
import { type Clock, type ComponentLogger, realClock, silentLogger } from '../../runtime';
import type { MemoryStore } from '../../store';
import { Allocator } from '../allocator';
import { InstanceClaims } from './claims';
import { ConstraintEnforcer } from './constraint-enforcer';
import { GlobalOrchestrator } from './global';
import { ReplicatedOrchestrator } from './replicated';
import { RestartSupervisor } from './restart-supervisor';
import { TaskReaper } from './task-reaper';
import { UpdateSupervisor } from './update/supervisor';

export interface OrchestrationOptions {
  store: MemoryStore;
  clock?: Clock;
  logger?: ComponentLogger;
}

export class Orchestration {
  readonly claims = new InstanceClaims();
  readonly allocator: Allocator;
  readonly restarts: RestartSupervisor;
  readonly updates: UpdateSupervisor;
  readonly replicated: ReplicatedOrchestrator;
  readonly global: GlobalOrchestrator;
  readonly enforcer: ConstraintEnforcer;
  readonly reaper: TaskReaper;
  private running = false;

  constructor(options: OrchestrationOptions) {
    const store = options.store;
    const clock = options.clock ?? realClock;
    const logger = options.logger ?? silentLogger;
    const claims = this.claims;
    this.allocator = new Allocator({ store, clock, logger });
    this.restarts = new RestartSupervisor({ store, clock, logger, claims });
    this.updates = new UpdateSupervisor({ store, clock, logger, claims });
    const orchestrator = { store, clock, logger, claims, restarts: this.restarts, updates: this.updates };
    this.replicated = new ReplicatedOrchestrator(orchestrator);
    this.global = new GlobalOrchestrator(orchestrator);
    this.enforcer = new ConstraintEnforcer({ store, clock, logger });
    this.reaper = new TaskReaper({ store, clock, logger });
  }

  get isRunning(): boolean {
    return this.running;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.restarts.start();
    this.updates.start();
    this.allocator.start();
    this.enforcer.start();
    this.replicated.start();
    this.global.start();
    this.reaper.start();
  }

  stop(): void {
    if (!this.running) return;
    this.running = false;
    this.reaper.stop();
    this.global.stop();
    this.replicated.stop();
    this.enforcer.stop();
    this.allocator.stop();
    this.updates.stop();
    this.restarts.stop();
    this.claims.cancelAll();
  }
}

/** The orchestration duty for Manager's `extend` (start on winning leadership, stop on losing it). */
export function createOrchestration(options: OrchestrationOptions): Orchestration {
  return new Orchestration(options);
}

export { rolledBackService } from './update/rollback';
export { isTaskDirty } from './tasks';
