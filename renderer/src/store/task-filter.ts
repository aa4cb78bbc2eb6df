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
    compareText(a.serviceAnnotations.name, b.serviceAnnotations.name) ||
    compareText(a.serviceId, b.serviceId) ||
    a.slot - b.slot ||
    compareText(a.nodeId, b.nodeId) ||
    compareText(b.meta.createdAt, a.meta.createdAt) ||
    compareText(a.id, b.id)
  );
}

/** Code-unit order: names and IDs are ASCII, and localeCompare is ten times slower on 10,000 rows. */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function filterTasks(tasks: Iterable<Task>, filter: TaskFilter): Task[] {
  const result: Task[] = [];
  for (const task of tasks) if (matchesTask(task, filter)) result.push(task);
  return result.sort(compareTasks);
}
