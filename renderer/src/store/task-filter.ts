/** Which tasks a table shows and in what order. Pure: the Tasks page and the service page use it. */
import type { Task } from '../../../electron/contract';

export interface TaskFilter {
  serviceId: string;
  nodeId: string;
  /** A TaskState number as text, or '' for any. */
  desiredState: string;
  state: string;
}

export const NO_TASK_FILTER: TaskFilter = { serviceId: '', nodeId: '', desiredState: '', state: '' };

export function matchesTask(task: Task, filter: TaskFilter): boolean {
  return (
    (filter.serviceId === '' || task.serviceId === filter.serviceId) &&
    (filter.nodeId === '' || task.nodeId === filter.nodeId) &&
    (filter.desiredState === '' || task.desiredState === Number(filter.desiredState)) &&
    (filter.state === '' || task.status.state === Number(filter.state))
  );
}

/** By service name, then slot (global tasks by node), newest first within a slot, as swarmctl lists them. */
export function compareTasks(a: Task, b: Task): number {
  return (
    a.serviceAnnotations.name.localeCompare(b.serviceAnnotations.name) ||
    a.serviceId.localeCompare(b.serviceId) ||
    a.slot - b.slot ||
    a.nodeId.localeCompare(b.nodeId) ||
    b.meta.createdAt.localeCompare(a.meta.createdAt) ||
    a.id.localeCompare(b.id)
  );
}

export function filterTasks(tasks: Iterable<Task>, filter: TaskFilter): Task[] {
  const result: Task[] = [];
  for (const task of tasks) if (matchesTask(task, filter)) result.push(task);
  return result.sort(compareTasks);
}
