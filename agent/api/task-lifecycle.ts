/**
 * The life of a task, and who moves it (SwarmKit's model; every component follows these rules):
 *
 *   orchestrator  creates the task: state NEW, desiredState RUNNING, spec copied from the service,
 *                 `specVersion` = the service's, slot 1..N (replicated) or nodeId preset (global);
 *   allocator     NEW -> PENDING once its resources (ports, later networks) are settled;
 *   scheduler     PENDING (nodeId empty, or preset for global) -> ASSIGNED with a nodeId, or leaves it
 *                 PENDING with `status.err` saying why no node fits; only tasks still desired RUNNING:
 *                 a task told to stop before any node got it is never reported on by a worker, so the
 *                 updater and the reaper treat it as stopped;
 *   dispatcher    streams each node the tasks assigned to it; writes what the node reports, in batches;
 *   worker        ACCEPTED -> PREPARING -> READY -> STARTING -> RUNNING -> COMPLETE | FAILED, or
 *                 REJECTED (e.g. image missing), or SHUTDOWN once desiredState asks it to stop; a task
 *                 desired REMOVE also has its container removed once it has stopped;
 *   orchestrator  stops a task by raising desiredState to SHUTDOWN when the instance lives on (restart,
 *                 update, node drained), to REMOVE when the instance goes away for good (its service
 *                 deleted, its slot retired by a scale-down); it never lowers desiredState and never
 *                 edits a task's spec;
 *   task reaper   deletes finished tasks beyond the cluster's history limit per slot, and tasks desired
 *                 REMOVE once they have stopped (or were never given to a node).
 * The observed state only moves forward (see advanceStatus): a late or repeated report can never
 * bring a finished task back.
 */
import type { Service, Task, TaskStatus } from './objects';
import { TaskState, taskStateName } from './objects';
import type { NewObject } from '../store';

export const TASK_MESSAGES = {
  created: 'created',
  pending: 'pending task scheduling',
  assigned: 'scheduler assigned task to node',
} as const;

/** Docker's container name for a task, as in the seed: `nginx.1.<task id>` (global: node ID for slot). */
export function taskName(serviceName: string, slotOrNodeId: number | string, taskId: string): string {
  return `${serviceName}.${slotOrNodeId}.${taskId}`;
}

/** The task an orchestrator creates for `service` in `slot` (replicated) or on `nodeId` (global). */
export function newTask(service: Service, placement: { slot: number } | { nodeId: string }, taskId: string, now: Date): NewObject<'task'> {
  const slot = 'slot' in placement ? placement.slot : 0;
  const nodeId = 'nodeId' in placement ? placement.nodeId : '';
  return {
    id: taskId,
    serviceId: service.id,
    slot,
    nodeId,
    desiredState: TaskState.RUNNING,
    spec: service.spec.task,
    specVersion: service.specVersion,
    serviceAnnotations: { name: service.spec.name, labels: service.spec.labels },
    status: { state: TaskState.NEW, message: TASK_MESSAGES.created, timestamp: now.toISOString() },
    name: taskName(service.spec.name, slot === 0 ? nodeId : slot, taskId),
  };
}

/** Terminal states: the task will not run again (a restart is a new task). */
export function isTaskFinished(state: TaskState): boolean {
  return state > TaskState.RUNNING;
}

/**
 * `task` with `status` applied if it moves the task forward; undefined when the report is stale or a
 * repeat (same state and message), so callers can skip the write.
 */
export function advanceStatus(task: Task, status: TaskStatus): Task | undefined {
  if (status.state < task.status.state) return undefined;
  if (status.state === task.status.state && status.message === task.status.message && status.err === task.status.err) return undefined;
  return { ...task, status };
}

export function describeTaskState(state: TaskState): string {
  return taskStateName(state);
}
