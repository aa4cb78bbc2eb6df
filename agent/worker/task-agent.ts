/**
 * What a node runs for its tasks, in one piece for node.ts: the executor, the task manager and the
 * task channel, joined to the node's DispatcherSession through `onEstablished`:
 *
 *   const tasks = new TaskAgent({ executor: new DockerExecutor({ nodeId, engineAddr }), logger });
 *   const session = new DispatcherSession({ ..., onEstablished: (link) => tasks.attach(link) });
 *   session.start();            ...            await session.stop(); await tasks.stop();
 */
import type { Clock, ComponentLogger } from '../runtime';
import type { Executor } from './executor';
import type { SessionLink } from './session';
import { TaskChannel, type TaskChannelOptions } from './task-channel';
import { TaskManager } from './task-manager';

export interface TaskAgentOptions {
  executor: Executor;
  clock?: Clock;
  logger?: ComponentLogger;
  /** Passed to the task channel (report retry and timeout). */
  channel?: Pick<TaskChannelOptions, 'retryMs' | 'reportTimeoutMs'>;
  /** How long an unreachable engine is retried before a task fails (default 60 s). */
  engineRetryMs?: number;
}

export class TaskAgent {
  readonly manager: TaskManager;
  readonly channel: TaskChannel;

  constructor(options: TaskAgentOptions) {
    this.channel = new TaskChannel({
      ...options.channel,
      onAssignments: (message) => this.manager.apply(message),
      clock: options.clock,
      logger: options.logger,
    });
    this.manager = new TaskManager({
      executor: options.executor,
      report: (taskId, status) => this.channel.report(taskId, status),
      clock: options.clock,
      logger: options.logger,
      engineRetryMs: options.engineRetryMs,
    });
  }

  /** For DispatcherSessionOptions.onEstablished. */
  attach(link: SessionLink): void {
    this.channel.attach(link);
  }

  /** Stops driving tasks; their containers keep running for the next agent to adopt. */
  async stop(): Promise<void> {
    await this.manager.stop();
    this.channel.stop();
  }
}
