/**
 * Whether a rolling update must replace a task — one rule for the orchestrators that act on it and the
 * desktop UI that shows update progress, so both agree on which tasks are out of date.
 */
import type { Service, Task } from './objects';
import { sameJson } from './same-json';

/**
 * The spec version is the fast path; when it differs, the task is still current if what it runs is what
 * the service asks for now. That keeps a scale (replicas change, same task spec) or a rollback to the
 * spec a task already runs from replacing it.
 */
export function isTaskDirty(service: Service, task: Task): boolean {
  if (task.specVersion === service.specVersion) return false;
  if (!sameJson(task.spec, service.spec.task)) return true;
  // Unallocated tasks get the service's current ports when the allocator gets to them.
  if (task.endpoint === undefined) return false;
  return !sameJson(task.endpoint.spec.ports, service.spec.endpoint?.ports ?? []);
}
