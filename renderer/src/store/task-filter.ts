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

/** A filtered, sorted list of tasks and what it was made from, to be brought up to date cheaply. */
export interface TaskRows {
  tasks: ReadonlyMap<string, Task>;
  filter: TaskFilter;
  rows: Task[];
}

/**
 * `filterTasks` for a new copy of the tasks table, reusing the last list when only the table changed.
 * A burst of updates changes a few hundred of 10,000 tasks, and mostly their status, not their place in
 * the order: the last list in its order, each task replaced by its new copy, plus the tasks that start
 * to match, is nearly sorted, and sort (TimSort in V8) then costs about one comparison per row instead
 * of the n log n of sorting from scratch (identity checks tell what changed, since unchanged tasks keep
 * their object).
 */
export function updateTaskRows(previous: TaskRows | undefined, tasks: ReadonlyMap<string, Task>, filter: TaskFilter): TaskRows {
  if (previous === undefined || previous.filter !== filter) return { tasks, filter, rows: filterTasks(tasks.values(), filter) };
  if (previous.tasks === tasks) return previous;
  const rows: Task[] = [];
  for (const old of previous.rows) {
    const current = tasks.get(old.id);
    if (current !== undefined && (current === old || matchesTask(current, filter))) rows.push(current);
  }
  for (const task of tasks.values()) {
    const old = previous.tasks.get(task.id);
    // Listed already if its last copy matched (and it still does); an unchanged task did not move.
    if (old === task || !matchesTask(task, filter) || (old !== undefined && matchesTask(old, filter))) continue;
    rows.push(task);
  }
  return { tasks, filter, rows: rows.sort(compareTasks) };
}
