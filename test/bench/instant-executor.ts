/**
 * An executor that starts nothing, for bench:converge: a task's "container" exists once prepared and
 * runs as soon as it is started, at no cost, so the benchmark measures the managers and the task
 * channel, not Docker. It keeps running until the task is shut down or removed.
 */
import type { Task } from '../../agent/api/objects';
import { type ContainerExit, type Executor, ExecutorError, type RuntimeContainer, type RuntimeStatus } from '../../agent/worker/executor';

interface SimulatedContainer {
  readonly taskId: string;
  readonly name: string;
  readonly containerId: string;
  running: boolean;
  exitCode: number;
  /** Resolves the waiters of the current run when it ends. */
  readonly exited: Promise<ContainerExit>;
  readonly end: (exit: ContainerExit) => void;
}

export class InstantExecutor implements Executor {
  private readonly containers = new Map<string, SimulatedContainer>();
  private seq = 0;

  constructor(private readonly nodeId: string) {}

  /** Tasks whose container runs now. */
  get runningCount(): number {
    let n = 0;
    for (const c of this.containers.values()) if (c.running) n++;
    return n;
  }

  list(): Promise<RuntimeContainer[]> {
    return Promise.resolve([...this.containers.values()].map((c) => ({ taskId: c.taskId, containerId: c.containerId, name: c.name, running: c.running })));
  }

  prepare(task: Task): Promise<void> {
    if (!this.containers.has(task.id)) {
      let end!: (exit: ContainerExit) => void;
      const exited = new Promise<ContainerExit>((resolve) => (end = resolve));
      const container: SimulatedContainer = {
        taskId: task.id,
        name: task.name ?? task.id,
        containerId: `${this.nodeId}-${++this.seq}`,
        running: false,
        exitCode: 0,
        exited,
        end: (exit) => {
          container.running = false;
          container.exitCode = exit.exitCode;
          end(exit);
        },
      };
      this.containers.set(task.id, container);
    }
    return Promise.resolve();
  }

  start(task: Task): Promise<RuntimeStatus> {
    const c = this.containers.get(task.id);
    if (c === undefined) return Promise.reject(new ExecutorError(`No such container: ${task.name ?? task.id}`));
    c.running = true;
    return Promise.resolve(runtime(c));
  }

  wait(task: Task, signal: AbortSignal): Promise<ContainerExit> {
    const c = this.containers.get(task.id);
    if (c === undefined) return Promise.reject(new ExecutorError(`No such container: ${task.name ?? task.id}`));
    if (!c.running) return Promise.resolve({ exitCode: c.exitCode });
    return new Promise((resolve, reject) => {
      const onAbort = () => reject(new DOMException('aborted', 'AbortError'));
      if (signal.aborted) {
        onAbort();
        return;
      }
      signal.addEventListener('abort', onAbort, { once: true });
      void c.exited.then((exit) => {
        signal.removeEventListener('abort', onAbort);
        resolve(exit);
      });
    });
  }

  inspect(task: Task): Promise<(RuntimeStatus & { running: boolean }) | undefined> {
    const c = this.containers.get(task.id);
    return Promise.resolve(c === undefined ? undefined : { ...runtime(c), running: c.running });
  }

  shutdown(task: Task): Promise<void> {
    const c = this.containers.get(task.id);
    if (c?.running === true) c.end({ exitCode: 143 });
    return Promise.resolve();
  }

  remove(container: string): Promise<void> {
    for (const [taskId, c] of this.containers) {
      if (c.name !== container && c.containerId !== container) continue;
      if (c.running) c.end({ exitCode: 137 });
      this.containers.delete(taskId);
    }
    return Promise.resolve();
  }
}

function runtime(c: SimulatedContainer): RuntimeStatus {
  return { containerStatus: { containerId: c.containerId, pid: c.running ? 1 : 0, exitCode: c.exitCode }, ports: [] };
}
