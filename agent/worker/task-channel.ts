/**
 * The node's side of the dispatcher's task channel, over each established session (SessionLink):
 * the Assignments stream feeds the task manager, and status reports go back with UpdateTaskStatus.
 *
 * Reports are batched: everything reported while a call is in flight goes in the next call (at most
 * MAX_TASK_STATUS_REPORTS each), and only the furthest status per task is kept. A report leaves the
 * queue only when the dispatcher answered that it was written, so reports survive a lost connection or
 * a leader change and go out again over the next session.
 *
 * A broken Assignments stream ends the session (link.fail), as in SwarmKit: the next session starts
 * with a complete assignment set again, so nothing can be missed between two streams.
 */
import * as grpc from '@grpc/grpc-js';
import {
  type AssignmentsMessage,
  type AssignmentsRequest,
  DISPATCHER_PATHS,
  MAX_TASK_STATUS_REPORTS,
  parseAssignmentsMessage,
  type TaskStatusReport,
  type UpdateTaskStatusRequest,
} from '../api/dispatcher';
import type { TaskStatus } from '../api/objects';
import { decodeMessage, encodeMessage } from '../rpc/json-codec';
import { fromServiceError } from '../rpc/status';
import { type Clock, type ComponentLogger, realClock, silentLogger } from '../runtime';
import type { SessionLink } from './session';

export const DEFAULT_REPORT_RETRY_MS = 1000;
export const DEFAULT_REPORT_TIMEOUT_MS = 10_000;

export interface TaskChannelOptions {
  /** Every assignments message, in order (TaskManager.apply). Must not throw. */
  onAssignments: (message: AssignmentsMessage) => void;
  clock?: Clock;
  logger?: ComponentLogger;
  /** Wait before sending a failed batch again over the same session (default 1 s). */
  retryMs?: number;
  /** Deadline of one UpdateTaskStatus call (real time; default 10 s). */
  reportTimeoutMs?: number;
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export class TaskChannel {
  private readonly options: TaskChannelOptions;
  private readonly clock: Clock;
  private readonly logger: ComponentLogger;
  private link: SessionLink | undefined;
  private readonly queue = new Map<string, TaskStatus>();
  private sending = false;
  private scheduled = false;
  private stopped = false;
  private readonly drainWaiters: (() => void)[] = [];
  private sentCalls = 0;

  constructor(options: TaskChannelOptions) {
    this.options = options;
    this.clock = options.clock ?? realClock;
    this.logger = options.logger ?? silentLogger;
  }

  /** Reports not yet acknowledged by the dispatcher. */
  get pendingReports(): number {
    return this.queue.size;
  }

  /** UpdateTaskStatus calls answered so far (diagnostics and tests). */
  get reportCalls(): number {
    return this.sentCalls;
  }

  /** For DispatcherSessionOptions.onEstablished: runs the channel over this session until it ends. */
  attach(link: SessionLink): void {
    if (this.stopped || link.signal.aborted) return;
    this.link = link;
    link.signal.addEventListener('abort', () => {
      if (this.link === link) this.link = undefined;
    });
    this.watchAssignments(link);
    this.schedule();
  }

  /** Queues a status report; a later one for the same task replaces it unless it goes backwards. */
  report(taskId: string, status: TaskStatus): void {
    if (this.stopped) return;
    const queued = this.queue.get(taskId);
    if (queued === undefined || status.state >= queued.state) this.queue.set(taskId, status);
    this.schedule();
  }

  /** Resolves once every queued report has been acknowledged. */
  drained(): Promise<void> {
    if (this.queue.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  stop(): void {
    this.stopped = true;
    this.link = undefined;
  }

  // ------------------------------------------------------------------------------------- assignments

  private watchAssignments(link: SessionLink): void {
    const request: AssignmentsRequest = { sessionId: link.sessionId };
    const stream = link.client.makeServerStreamRequest<AssignmentsRequest, unknown>(
      DISPATCHER_PATHS.assignments,
      encodeMessage,
      decodeMessage,
      request,
      new grpc.Metadata(),
      {},
    );
    let done = false;
    const end = (reason: string) => {
      if (done) return;
      done = true;
      stream.cancel();
      if (!link.signal.aborted && !this.stopped) link.fail(reason);
    };
    link.signal.addEventListener('abort', () => {
      done = true;
      stream.cancel();
    });
    stream.on('data', (raw: unknown) => {
      if (done || this.stopped) return;
      let message: AssignmentsMessage;
      try {
        message = parseAssignmentsMessage(raw);
      } catch (err) {
        end(`bad assignments message: ${describe(err)}`);
        return;
      }
      try {
        this.options.onAssignments(message);
      } catch (err) {
        this.logger.warn('assignments handler failed', { error: describe(err) });
      }
    });
    stream.on('error', (err: unknown) => end(`assignments: ${fromServiceError(err, link.manager).message}`));
    stream.on('status', () => end('the manager ended the assignments stream'));
  }

  // ----------------------------------------------------------------------------------------- reports

  private schedule(): void {
    if (this.scheduled || this.sending || this.stopped || this.queue.size === 0 || this.link === undefined) {
      if (this.queue.size === 0) this.notifyDrained();
      return;
    }
    this.scheduled = true;
    // Reports made in the same turn (a burst of transitions) share one call.
    setImmediate(() => {
      this.scheduled = false;
      void this.send();
    });
  }

  private async send(): Promise<void> {
    const link = this.link;
    if (link === undefined || this.sending || this.stopped || this.queue.size === 0) return;
    this.sending = true;
    const batch: TaskStatusReport[] = [];
    for (const [taskId, status] of this.queue) {
      batch.push({ taskId, status });
      if (batch.length >= MAX_TASK_STATUS_REPORTS) break;
    }
    let retry = false;
    try {
      await this.call(link, { sessionId: link.sessionId, updates: batch });
      this.sentCalls++;
      // Only what was sent leaves the queue: a newer status queued meanwhile goes in the next call.
      for (const { taskId, status } of batch) if (this.queue.get(taskId) === status) this.queue.delete(taskId);
    } catch (err) {
      const failure = fromServiceError(err, link.manager);
      if (!link.signal.aborted) {
        this.logger.warn('task status report failed', { reports: batch.length, error: failure.message });
        // The session is stale on the manager: reconnect, and send again over the new session.
        if (failure.code === 'NotFound') link.fail(`task status report: ${failure.message}`);
        else retry = true;
      }
    } finally {
      this.sending = false;
    }
    if (retry) {
      this.clock.setTimeout(() => this.schedule(), this.options.retryMs ?? DEFAULT_REPORT_RETRY_MS);
      return;
    }
    this.schedule();
  }

  private call(link: SessionLink, request: UpdateTaskStatusRequest): Promise<void> {
    return new Promise((resolve, reject) => {
      const deadline = Date.now() + (this.options.reportTimeoutMs ?? DEFAULT_REPORT_TIMEOUT_MS);
      const call = link.client.makeUnaryRequest<UpdateTaskStatusRequest, unknown>(
        DISPATCHER_PATHS.updateTaskStatus,
        encodeMessage,
        decodeMessage,
        request,
        new grpc.Metadata(),
        { deadline },
        (err) => {
          link.signal.removeEventListener('abort', cancel);
          if (err) reject(err);
          else resolve();
        },
      );
      const cancel = () => call.cancel();
      link.signal.addEventListener('abort', cancel, { once: true });
    });
  }

  private notifyDrained(): void {
    if (this.queue.size > 0) return;
    for (const resolve of this.drainWaiters.splice(0)) resolve();
  }
}
