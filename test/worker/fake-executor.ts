/**
 * An executor without containers, scripted by the test: prepare fails for images listed as missing,
 * a started task runs until the test ends it with exit(), shutdown ends it with 143 (SIGTERM).
 */
import type { Task } from '../../agent/api/objects';
import { type ContainerExit, type Executor, ExecutorError, type RuntimeContainer, type RuntimeStatus } from '../../agent/worker/executor';

interface FakeContainer {
  taskId: string;
  name: string;
  containerId: string;
  running: boolean;
  exitCode: number;
  starts: number;
  exited: Promise<ContainerExit>;
  exit(result: ContainerExit): void;
}

export class FakeExecutor implements Executor {
  readonly containers = new Map<string, FakeContainer>();
  readonly removed: string[] = [];
  readonly missingImages = new Set<string>();
  private seq = 0;

  async list(): Promise<RuntimeContainer[]> {
    return [...this.containers.values()].map((c) => ({ taskId: c.taskId, containerId: c.containerId, name: c.name, running: c.running }));
  }

  async prepare(task: Task): Promise<void> {
    if (this.containers.has(task.id)) return;
    if (this.missingImages.has(task.spec.container.image)) throw new ExecutorError(`No such image: ${task.spec.container.image}`);
    let exit!: (result: ContainerExit) => void;
    const exited = new Promise<ContainerExit>((resolve) => (exit = resolve));
    const container: FakeContainer = {
      taskId: task.id,
      name: task.name ?? task.id,
      containerId: `c${++this.seq}`,
      running: false,
      exitCode: 0,
      starts: 0,
      exited,
      exit: (result) => {
        container.running = false;
        container.exitCode = result.exitCode;
        exit(result);
      },
    };
    this.containers.set(task.id, container);
  }

  async start(task: Task): Promise<RuntimeStatus> {
    const c = this.get(task);
    if (!c.running) {
      c.running = true;
      c.starts++;
    }
    return this.runtime(c);
  }

  async wait(task: Task, signal: AbortSignal): Promise<ContainerExit> {
    const c = this.get(task);
    return new Promise((resolve, reject) => {
      const onAbort = () => reject(new DOMException('aborted', 'AbortError'));
      if (signal.aborted) onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      void c.exited.then((r) => {
        signal.removeEventListener('abort', onAbort);
        resolve(r);
      });
    });
  }

  async inspect(task: Task): Promise<(RuntimeStatus & { running: boolean }) | undefined> {
    const c = this.containers.get(task.id);
    return c === undefined ? undefined : { ...this.runtime(c), running: c.running };
  }

  async shutdown(task: Task): Promise<void> {
    const c = this.containers.get(task.id);
    if (c?.running === true) c.exit({ exitCode: 143 });
  }

  async remove(container: string): Promise<void> {
    for (const [id, c] of this.containers) {
      if (c.name === container || c.containerId === container) {
        c.exit({ exitCode: 137 });
        this.containers.delete(id);
        this.removed.push(id);
      }
    }
  }

  /** The task's process ends with `exitCode`. */
  exit(taskId: string, exitCode: number): void {
    const c = this.containers.get(taskId);
    if (c === undefined) throw new Error(`no container for task ${taskId}`);
    c.exit({ exitCode });
  }

  private get(task: Task): FakeContainer {
    const c = this.containers.get(task.id);
    if (c === undefined) throw new ExecutorError(`No such container: ${task.name ?? task.id}`);
    return c;
  }

  private runtime(c: FakeContainer): RuntimeStatus {
    return { containerStatus: { containerId: c.containerId, pid: c.running ? 4242 : 0, exitCode: c.exitCode }, ports: [] };
  }
}
