/**
 * The node's tasks (SwarmKit's agent worker): keeps one TaskRunner per task the dispatcher assigned
 * here, and the engine free of containers of tasks that are not.
 *
 * A complete assignment set (the first message of every Assignments stream, so after every reconnect)
 * is the truth: runners of tasks not in it are ended and their containers removed, and so is any
 * container labelled with this node whose task is not assigned any more (left from before a restart).
 * Nothing is removed before the first complete set arrives: an agent that restarts without reaching
 * a manager leaves its containers running. Incremental messages add, update and remove single tasks.
 *
 * Stopping the task manager (the agent stops) leaves containers as they are: the next agent adopts them.
 */
import type { AssignmentsMessage } from '../api/dispatcher';
import type { Task, TaskStatus } from '../api/objects';
import { type Clock, type ComponentLogger, realClock, silentLogger } from '../runtime';
import type { Executor } from './executor';
import { TaskRunner } from './task-runner';

export interface TaskManagerOptions {
  executor: Executor;
  /** Where status changes go (TaskChannel.report). */
  report: (taskId: string, status: TaskStatus) => void;
  clock?: Clock;
  logger?: ComponentLogger;
  /** Passed to each TaskRunner: how long an unreachable engine is retried before a task fails. */
  engineRetryMs?: number;
  random?: () => number;
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export class TaskManager {
  private readonly runners = new Map<string, TaskRunner>();
  private readonly executor: Executor;
  private readonly options: TaskManagerOptions;
  private readonly logger: ComponentLogger;
  private readonly clock: Clock;
  private stopped = false;
  /** Removals and cleanups in progress, so stop() and settled() can wait for them. */
  private readonly background = new Set<Promise<void>>();

  constructor(options: TaskManagerOptions) {
    this.options = options;
    this.executor = options.executor;
    this.logger = options.logger ?? silentLogger;
    this.clock = options.clock ?? realClock;
  }

  /** IDs of the tasks this node runs now. */
  get taskIds(): string[] {
    return [...this.runners.keys()];
  }

  /** What this node last reported for a task. */
  statusOf(taskId: string): TaskStatus | undefined {
    return this.runners.get(taskId)?.status;
  }

  /** Applies one message of the Assignments stream. */
  apply(message: AssignmentsMessage): void {
    if (this.stopped) return;
    if (message.type === 'complete') {
      const assigned = new Set(message.updates.map((t) => t.id));
      for (const id of [...this.runners.keys()]) if (!assigned.has(id)) this.unassign(id);
      for (const task of message.updates) this.upsert(task);
      this.track(this.removeStrayContainers());
      return;
    }
    for (const id of message.removes) this.unassign(id);
    for (const task of message.updates) this.upsert(task);
  }

  /** Resolves when every runner is at rest and no removal is in progress (tests and diagnostics). */
  async settled(): Promise<void> {
    for (;;) {
      const pending = [...this.background];
      await Promise.all([...pending, ...[...this.runners.values()].map((r) => r.rested())]);
      if (this.background.size === 0) return;
    }
  }

  /** Ends every runner; containers keep running. */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all([...this.runners.values()].map((r) => r.stop()));
    this.runners.clear();
    await Promise.all([...this.background]);
  }

  private upsert(task: Task): void {
    const runner = this.runners.get(task.id);
    if (runner !== undefined) {
      runner.update(task);
      return;
    }
    const { report, engineRetryMs, random } = this.options;
    const created = new TaskRunner(task, { executor: this.executor, report, clock: this.clock, logger: this.logger, engineRetryMs, random });
    this.runners.set(task.id, created);
    created.start();
  }

  private unassign(taskId: string): void {
    const runner = this.runners.get(taskId);
    if (runner === undefined) return;
    this.runners.delete(taskId);
    this.logger.info('task no longer assigned, removing it', { taskId });
    this.track(runner.remove());
  }

  /** Containers of this node whose task is not assigned here (any more). */
  private async removeStrayContainers(): Promise<void> {
    let containers;
    try {
      containers = await this.executor.list();
    } catch (err) {
      this.logger.warn('could not list containers to clean up', { error: describe(err) });
      return;
    }
    // Checked against the runners now, not the set: tasks assigned meanwhile are kept.
    const strays = containers.filter((c) => !this.runners.has(c.taskId));
    await Promise.all(
      strays.map(async (c) => {
        this.logger.info('removing the container of a task not assigned here', { taskId: c.taskId, container: c.name });
        await this.executor.remove(c.containerId).catch((err: unknown) => {
          this.logger.warn('could not remove a stray container', { taskId: c.taskId, error: describe(err) });
        });
      }),
    );
  }

  private track(work: Promise<void>): void {
    const tracked = work.finally(() => this.background.delete(tracked));
    this.background.add(tracked);
  }
}
