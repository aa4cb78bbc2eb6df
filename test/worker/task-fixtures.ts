/** Tasks as the dispatcher sends them, and a recorder of what a node reports about them. */
import { vi } from 'vitest';
import type { AssignmentsMessage } from '../../agent/api/dispatcher';
import { type ContainerSpec, type PortConfig, type Task, TaskState, type TaskStatus, taskStateName } from '../../agent/api/objects';
import { taskName } from '../../agent/api/task-lifecycle';
import { newId } from '../../agent/store';

export interface TaskOptions {
  service?: string;
  slot?: number;
  nodeId?: string;
  container?: Partial<ContainerSpec>;
  ports?: PortConfig[];
  desiredState?: TaskState;
  state?: TaskState;
  resources?: Task['spec']['resources'];
}

export function assignedTask(options: TaskOptions = {}): Task {
  const id = newId();
  const service = options.service ?? 'web';
  const slot = options.slot ?? 1;
  const nodeId = options.nodeId ?? 'node00000000000000000000001';
  const now = new Date().toISOString();
  const task: Task = {
    id,
    meta: { version: 1, createdAt: now, updatedAt: now },
    serviceId: `svc-${service}`,
    slot,
    nodeId,
    desiredState: options.desiredState ?? TaskState.RUNNING,
    serviceAnnotations: { name: service, labels: {} },
    spec: { container: { image: 'swarmdesk-test:1', ...options.container } },
    status: { state: options.state ?? TaskState.ASSIGNED, message: 'scheduler assigned task to node', timestamp: now },
    name: taskName(service, slot, id),
  };
  if (options.resources !== undefined) task.spec.resources = options.resources;
  if (options.ports !== undefined) task.endpoint = { spec: { mode: 'vip', ports: options.ports }, ports: options.ports, virtualIps: [] };
  return task;
}

export function complete(...tasks: Task[]): AssignmentsMessage {
  return { type: 'complete', updates: tasks, removes: [] };
}

export function incremental(updates: Task[], removes: string[] = []): AssignmentsMessage {
  return { type: 'incremental', updates, removes };
}

/** Every status a node reported, per task, in order. */
export class ReportLog {
  readonly byTask = new Map<string, TaskStatus[]>();

  readonly report = (taskId: string, status: TaskStatus): void => {
    const list = this.byTask.get(taskId) ?? [];
    list.push(status);
    this.byTask.set(taskId, list);
  };

  states(taskId: string): string[] {
    return (this.byTask.get(taskId) ?? []).map((s) => taskStateName(s.state));
  }

  last(taskId: string): TaskStatus | undefined {
    const list = this.byTask.get(taskId);
    return list?.[list.length - 1];
  }

  /** Waits (real time: the engine is real) until the task's last report is `state`. */
  async reached(taskId: string, state: TaskState, timeout = 20_000): Promise<TaskStatus> {
    return vi.waitFor(
      () => {
        const last = this.last(taskId);
        if (last?.state !== state) {
          throw new Error(`task ${taskId} is ${last === undefined ? 'unreported' : taskStateName(last.state)}, waiting for ${taskStateName(state)} (${this.states(taskId).join(' ')}${last?.err === undefined ? '' : `; err: ${last.err}`})`);
        }
        return last;
      },
      { timeout, interval: 20 },
    );
  }
}

/** A task as the store has it after the node's reports (what a restarted agent is sent). */
export function withStatus(task: Task, status: TaskStatus, desiredState = task.desiredState): Task {
  return { ...task, status, desiredState };
}
