/**
 * What the task manager needs from a container runtime (SwarmKit's exec.Controller, folded into one
 * object keyed by task). Every step is idempotent against the runtime's real state, because after an
 * agent restart the task manager only knows what the manager last recorded: preparing a task whose
 * container exists, starting one that runs, or stopping one that is gone must all succeed quietly.
 *
 * The Docker implementation is docker-executor.ts; a benchmark may plug in one that starts nothing.
 */
import type { ContainerStatus, PortConfig, Task } from '../../api/objects';

/** A container found on the runtime that belongs to this node's tasks. */
export interface RuntimeContainer {
  taskId: string;
  containerId: string;
  name: string;
  running: boolean;
}

/** How a task's container ended. */
export interface ContainerExit {
  exitCode: number;
  /** The runtime's own error for the exit (for example an OOM kill), if it gave one. */
  error?: string;
}

/** The container as the runtime sees it, for the task's status. */
export interface RuntimeStatus {
  containerStatus: ContainerStatus;
  /** Host-mode ports as actually bound (a port published as 0 gets one chosen by the engine). */
  ports: PortConfig[];
}

/** A step failed for a reason the task's status should show (Docker's own message). */
export class ExecutorError extends Error {
  constructor(
    message: string,
    /** The container's runtime status when the failure has one (an exit). */
    readonly runtimeStatus?: RuntimeStatus,
  ) {
    super(message);
    this.name = 'ExecutorError';
  }
}

/**
 * The engine could not be reached, the connection broke, or it failed to answer a read (5xx): nothing
 * was said about the task's container, and the same call may well work in a moment (the engine is
 * restarting, its socket is being recreated). The task runner retries these for a bounded time.
 */
export class EngineUnavailableError extends ExecutorError {
  constructor(message: string) {
    super(message);
    this.name = 'EngineUnavailableError';
  }
}

export interface Executor {
  /** Every container of this node's tasks on the runtime, running or not. */
  list(): Promise<RuntimeContainer[]>;
  /** Makes the task's container exist (pulling its image if absent); done if it already exists. */
  prepare(task: Task, signal?: AbortSignal): Promise<void>;
  /** Starts the container; done if it runs already. Resolves with what it runs as. */
  start(task: Task): Promise<RuntimeStatus>;
  /** Resolves when the container exits (at once if it has). Rejects with AbortError when `signal` fires. */
  wait(task: Task, signal: AbortSignal): Promise<ContainerExit>;
  /** The container's current state, undefined if it does not exist. */
  inspect(task: Task): Promise<(RuntimeStatus & { running: boolean }) | undefined>;
  /** Stops the container with the task's stop signal and grace period; done if it is not running or gone. */
  shutdown(task: Task): Promise<void>;
  /** Removes the container (by container ID or task name), stopping it first if needed; done if gone. */
  remove(container: string): Promise<void>;
}
