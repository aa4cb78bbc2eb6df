/**
 * One assigned task driven through its states on the executor (SwarmKit's agent/exec.Do, as a loop).
 * Each turn compares the task's desired state with the state it has reached and takes one step:
 *
 *   desired >= SHUTDOWN   stop the container (grace, signal) -> SHUTDOWN "shutdown"; once finished and
 *                         desired REMOVE, remove the container
 *   ASSIGNED -> ACCEPTED "accepted" -> PREPARING "preparing" -> (pull, create) READY "prepared"
 *            -> STARTING "starting" -> (start) RUNNING "started" -> (wait) COMPLETE "finished"
 *   a step that fails: before STARTING the task is REJECTED, from STARTING on FAILED, with the
 *   executor's (Docker's) message in `err` and the message of the state it failed in kept;
 *   a non-zero exit is FAILED with "task: non-zero exit (N)" and the exit code.
 *
 * The state it starts from is what the manager last recorded; since every executor step is idempotent
 * against the engine, a container found running after an agent restart is waited on, never restarted.
 * Every transition is reported through `report` (the task channel batches and retries them).
 *
 * An engine that cannot be reached for a moment (restarting, its socket gone, a 5xx answering a
 * status read: EngineUnavailableError) does not fail the task: the step is tried again after a
 * jittered, growing backoff, for up to `engineRetryMs` (60 s) since the engine last answered. Only
 * then does the task fail with that error. What Docker says about the container itself (no such image,
 * a start refused, a non-zero exit) is the task's failure at once, as before.
 */
import { type Task, TaskState, type TaskStatus } from '../api/objects';
import { isTaskFinished } from '../api/task-lifecycle';
import { type Clock, type ComponentLogger, realClock, silentLogger } from '../runtime';
import { Backoff } from './backoff';
import { EngineUnavailableError, type Executor, ExecutorError, type RuntimeStatus } from './executor';

export const TASK_STATUS_MESSAGES = {
  accepted: 'accepted',
  preparing: 'preparing',
  prepared: 'prepared',
  starting: 'starting',
  started: 'started',
  finished: 'finished',
  shutdown: 'shutdown',
} as const;

/** How long a task waits out an engine it cannot reach before it fails with that error. */
export const DEFAULT_ENGINE_RETRY_MS = 60_000;
/** Backoff between attempts while the engine is unreachable: ceilings 250 ms, 750 ms, 1.75 s, ... 5 s. */
export const ENGINE_RETRY_INITIAL_MS = 250;
export const ENGINE_RETRY_MAX_MS = 5000;

export interface TaskRunnerOptions {
  executor: Executor;
  report: (taskId: string, status: TaskStatus) => void;
  clock?: Clock;
  logger?: ComponentLogger;
  /** How long to retry an unreachable engine before the task fails (default 60 s). */
  engineRetryMs?: number;
  /** For the backoff's jitter (tests pass a fixed one). */
  random?: () => number;
}

export function exitError(exitCode: number, cause?: string): string {
  return cause === undefined ? `task: non-zero exit (${exitCode})` : `task: non-zero exit (${exitCode}): ${cause}`;
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function isAbort(err: unknown): boolean {
  return err instanceof Error && err.name === 'AbortError';
}

type Step = () => Promise<void>;

export class TaskRunner {
  private task: Task;
  private current: TaskStatus;
  private readonly executor: Executor;
  private readonly report: (taskId: string, status: TaskStatus) => void;
  private readonly clock: Clock;
  private readonly logger: ComponentLogger;
  private readonly engineRetryMs: number;
  private readonly engineBackoff: Backoff;
  /** When the engine first failed to answer in the current streak of failures. */
  private unreachableSince: number | undefined;

  private ended = false;
  private removed = false;
  private wake: (() => void) | undefined;
  private step: AbortController | undefined;
  private loop: Promise<void> | undefined;
  private restingWaiters: (() => void)[] = [];
  private resting = false;

  constructor(task: Task, options: TaskRunnerOptions) {
    this.task = task;
    this.current = task.status;
    this.executor = options.executor;
    this.report = options.report;
    this.clock = options.clock ?? realClock;
    this.logger = options.logger ?? silentLogger;
    this.engineRetryMs = options.engineRetryMs ?? DEFAULT_ENGINE_RETRY_MS;
    this.engineBackoff = new Backoff(options.random ?? Math.random, ENGINE_RETRY_INITIAL_MS, ENGINE_RETRY_MAX_MS);
  }

  get id(): string {
    return this.task.id;
  }

  /** The state this node has brought the task to (what it reported last). */
  get status(): TaskStatus {
    return this.current;
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** The manager sent the task again (its desired state changed, or a complete set after a reconnect). */
  update(task: Task): void {
    const raised = task.desiredState !== this.task.desiredState;
    this.task = task;
    // The manager may know a further state (one this node reported before it restarted): never go back.
    if (task.status.state > this.current.state) this.current = task.status;
    if (raised) this.step?.abort();
    this.kick();
  }

  /** The agent stops: the loop ends, the container is left as it is (adopted after the restart). */
  async stop(): Promise<void> {
    this.ended = true;
    this.step?.abort();
    this.kick();
    await this.loop;
  }

  /** The task is no longer assigned here: the loop ends and its container is removed. */
  async remove(): Promise<void> {
    await this.stop();
    await this.removeContainer();
  }

  /** Resolves once the loop waits on the task only: for a change, or for its container to exit (tests and diagnostics). */
  rested(): Promise<void> {
    if (this.resting || this.ended) return Promise.resolve();
    return new Promise((resolve) => this.restingWaiters.push(resolve));
  }

  // -------------------------------------------------------------------------------------------- loop

  private kick(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  private async run(): Promise<void> {
    while (!this.ended) {
      const next = this.decide();
      if (next === undefined) {
        await this.rest();
        continue;
      }
      this.step = new AbortController();
      try {
        await next();
      } catch (err) {
        if (!isAbort(err)) this.logger.warn('task step failed unexpectedly', { taskId: this.task.id, error: describe(err) });
      } finally {
        this.step = undefined;
      }
    }
    this.settle();
  }

  private rest(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.wake = resolve;
      this.resting = true;
      this.settle();
    }).then(() => {
      this.resting = false;
    });
  }

  private settle(): void {
    for (const resolve of this.restingWaiters.splice(0)) resolve();
  }

  /** One step towards the desired state, or undefined when there is nothing to do (SwarmKit's Do). */
  private decide(): Step | undefined {
    const desired = this.task.desiredState;
    const state = this.current.state;
    if (desired >= TaskState.SHUTDOWN) {
      if (!isTaskFinished(state)) return () => this.shutdown();
      if (desired >= TaskState.REMOVE && !this.removed) return () => this.removeContainer();
      return undefined;
    }
    if (state > desired) return undefined;
    // These proceed up to the desired state on their own.
    switch (state) {
      case TaskState.PREPARING:
        return () => this.prepare();
      case TaskState.STARTING:
        return () => this.startContainer();
      case TaskState.RUNNING:
        return () => this.waitForExit();
    }
    if (state >= desired) return undefined;
    switch (state) {
      case TaskState.NEW:
      case TaskState.PENDING:
      case TaskState.ASSIGNED:
        return () => this.transition(TaskState.ACCEPTED, TASK_STATUS_MESSAGES.accepted);
      case TaskState.ACCEPTED:
        return () => this.transition(TaskState.PREPARING, TASK_STATUS_MESSAGES.preparing);
      case TaskState.READY:
        return () => this.transition(TaskState.STARTING, TASK_STATUS_MESSAGES.starting);
      default:
        return undefined;
    }
  }

  // ------------------------------------------------------------------------------------------- steps

  private async prepare(): Promise<void> {
    try {
      await this.executor.prepare(this.task, this.step?.signal);
    } catch (err) {
      if (isAbort(err) || this.ended || (await this.retryLater(err))) return;
      this.fatal(err);
      return;
    }
    this.engineAnswered();
    this.transition(TaskState.READY, TASK_STATUS_MESSAGES.prepared);
  }

  private async startContainer(): Promise<void> {
    let runtime: RuntimeStatus;
    try {
      runtime = await this.executor.start(this.task);
    } catch (err) {
      if (this.ended || (await this.retryLater(err))) return;
      this.fatal(err);
      return;
    }
    this.engineAnswered();
    this.transition(TaskState.RUNNING, TASK_STATUS_MESSAGES.started, runtime);
  }

  private async waitForExit(): Promise<void> {
    const signal = this.step?.signal ?? new AbortController().signal;
    let exit;
    try {
      this.resting = true;
      this.settle();
      if (this.unreachableSince !== undefined) {
        // Retrying after the engine failed us: a wait can block for hours, so the engine answering a
        // read now is what ends the streak (a later break gets the whole budget again).
        await this.executor.inspect(this.task);
        this.engineAnswered();
      }
      exit = await this.executor.wait(this.task, signal);
    } catch (err) {
      if (isAbort(err) || signal.aborted || this.ended || (await this.retryLater(err))) return;
      this.fatal(err);
      return;
    } finally {
      this.resting = false;
    }
    this.engineAnswered();
    if (signal.aborted || this.ended) return; // stopped because the task must stop: that is SHUTDOWN, not an exit
    const runtime = await this.executor.inspect(this.task).catch(() => undefined);
    const containerStatus = { ...(runtime?.containerStatus ?? { containerId: '', pid: 0 }), exitCode: exit.exitCode, pid: 0 };
    if (exit.exitCode === 0) {
      this.set({ state: TaskState.COMPLETE, message: TASK_STATUS_MESSAGES.finished, containerStatus });
      return;
    }
    this.set({ state: TaskState.FAILED, message: this.current.message, err: exitError(exit.exitCode, exit.error), containerStatus });
  }

  private async shutdown(): Promise<void> {
    try {
      await this.executor.shutdown(this.task);
    } catch (err) {
      if (this.ended || (await this.retryLater(err))) return;
      this.fatal(err);
      return;
    }
    this.engineAnswered();
    if (this.ended) return;
    const runtime = await this.executor.inspect(this.task).catch(() => undefined);
    const status: Omit<TaskStatus, 'timestamp'> = { state: TaskState.SHUTDOWN, message: TASK_STATUS_MESSAGES.shutdown };
    if (runtime !== undefined) status.containerStatus = { ...runtime.containerStatus, pid: 0 };
    this.set(status);
  }

  private async removeContainer(): Promise<void> {
    try {
      await this.executor.remove(this.containerRef());
      this.removed = true;
    } catch (err) {
      // Once the runner has ended (unassigned), one attempt only: the agent must not hang on it.
      if (!this.ended && (await this.retryLater(err))) return;
      // Left for the next complete assignment set's cleanup; nothing to report (the task is finished).
      this.removed = true;
      this.logger.warn('could not remove a task container', { taskId: this.task.id, error: describe(err) });
    }
  }

  /**
   * After a failed step: when the engine was only unavailable and has been for less than
   * `engineRetryMs`, waits a backoff (cut short if the task changes or the runner stops) and returns
   * true, so the loop decides again and retries the step. False: the error is the task's.
   */
  private async retryLater(err: unknown): Promise<boolean> {
    if (!(err instanceof EngineUnavailableError)) return false;
    const now = this.clock.now();
    this.unreachableSince ??= now;
    const waited = now - this.unreachableSince;
    if (waited >= this.engineRetryMs) {
      this.logger.warn('Docker Engine unavailable for too long, the task fails', { taskId: this.task.id, waitedMs: waited, error: err.message });
      return false;
    }
    const delay = this.engineBackoff.next();
    this.logger.warn('Docker Engine unavailable, retrying', { taskId: this.task.id, state: this.current.state, retryInMs: delay, error: err.message });
    await this.pause(delay);
    return true;
  }

  /** The engine answered: the next unavailability starts a new streak (and a new budget). */
  private engineAnswered(): void {
    this.unreachableSince = undefined;
    this.engineBackoff.reset();
  }

  /** Waits `ms` on the clock, resting meanwhile; ends early when the current step is aborted. */
  private pause(ms: number): Promise<void> {
    const signal = this.step?.signal;
    if (signal?.aborted === true || this.ended) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = (): void => {
        this.clock.clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        this.resting = false;
        resolve();
      };
      const timer = this.clock.setTimeout(done, ms);
      signal?.addEventListener('abort', done, { once: true });
      this.resting = true;
      this.settle();
    });
  }

  private containerRef(): string {
    return this.task.name ?? this.current.containerStatus?.containerId ?? this.task.id;
  }

  // ----------------------------------------------------------------------------------------- reports

  private transition(state: TaskState, message: string, runtime?: RuntimeStatus): Promise<void> {
    const status: Omit<TaskStatus, 'timestamp'> = { state, message };
    if (runtime !== undefined) {
      status.containerStatus = runtime.containerStatus;
      if (runtime.ports.length > 0) status.portStatus = { ports: runtime.ports };
    } else if (this.current.containerStatus !== undefined) status.containerStatus = this.current.containerStatus;
    this.set(status);
    return Promise.resolve();
  }

  /** A failed step: REJECTED before STARTING, FAILED from there on; the state's message is kept. */
  private fatal(err: unknown): void {
    const state = this.current.state < TaskState.STARTING ? TaskState.REJECTED : TaskState.FAILED;
    const status: Omit<TaskStatus, 'timestamp'> = { state, message: this.current.message, err: describe(err) };
    if (err instanceof ExecutorError && err.runtimeStatus !== undefined) status.containerStatus = err.runtimeStatus.containerStatus;
    this.logger.info('task failed', { taskId: this.task.id, state, error: status.err });
    this.set(status);
  }

  private set(status: Omit<TaskStatus, 'timestamp'>): void {
    const full: TaskStatus = { ...status, timestamp: new Date(this.clock.now()).toISOString() };
    if (full.err === undefined) delete full.err;
    this.current = full;
    this.report(this.task.id, full);
  }
}
