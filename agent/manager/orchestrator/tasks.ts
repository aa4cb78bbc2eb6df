/**
 * What the orchestrators ask of a task and a service, in one place so every piece answers the same
 * way: is the task meant to run, has it stopped, was it made from the service's current spec, which
 * slot does it belong to.
 */
import type { Node, RestartPolicy, Service, Task, TaskSpec, TaskState as TaskStateT } from '../../api/objects';
import { TaskState } from '../../api/objects';
import { DEFAULT_RESTART_POLICY } from '../../api/service-spec';
import { isTaskFinished } from '../../api/task-lifecycle';
import type { ReadTx, WriteTx } from '../../store';

/** The task's restart policy, SwarmKit's defaults (defined with the spec, in agent/api) filling what it leaves out. */
export function restartPolicyOf(spec: TaskSpec): RestartPolicy {
  return { ...DEFAULT_RESTART_POLICY, ...spec.restart };
}

export function isReplicated(service: Service): service is Service & { spec: { mode: { replicated: { replicas: number } } } } {
  return 'replicated' in service.spec.mode;
}

export function isGlobal(service: Service): boolean {
  return 'global' in service.spec.mode;
}

export function replicasOf(service: Service): number {
  return 'replicated' in service.spec.mode ? service.spec.mode.replicated.replicas : 0;
}

/** Meant to run (or to get ready to): the orchestrators have not asked it to stop. */
export function isLive(task: Task): boolean {
  return task.desiredState <= TaskState.RUNNING;
}

/**
 * Nothing of the task is running anywhere: it reached a terminal state, or it was told to stop before
 * any node was given it (no worker will ever report on it then).
 */
export function isStopped(task: Task): boolean {
  return isTaskFinished(task.status.state) || (task.desiredState > TaskState.RUNNING && task.status.state < TaskState.ASSIGNED);
}

/** When the task reached its current state, in ms (for ordering history and restart windows). */
export function stateTime(task: Task): number {
  const t = Date.parse(task.status.timestamp);
  return Number.isNaN(t) ? Date.parse(task.meta.createdAt) : t;
}

/** Oldest first: by the time of the last state change, then by creation. */
export function byAge(a: Task, b: Task): number {
  return stateTime(a) - stateTime(b) || Date.parse(a.meta.createdAt) - Date.parse(b.meta.createdAt) || (a.id < b.id ? -1 : 1);
}

export { isTaskDirty } from '../../api/task-dirty';

/** The key of the instance a task fills: its slot (replicated) or its node (global). */
export type InstanceKey = string;

export function slotKey(slot: number): InstanceKey {
  return `slot:${slot}`;
}

export function nodeKey(nodeId: string): InstanceKey {
  return `node:${nodeId}`;
}

export function instanceKeyOf(task: Task): InstanceKey {
  return task.slot > 0 ? slotKey(task.slot) : nodeKey(task.nodeId);
}

/** The placement argument of newTask for an instance key. */
export function placementOf(key: InstanceKey): { slot: number } | { nodeId: string } {
  return key.startsWith('slot:') ? { slot: Number(key.slice(5)) } : { nodeId: key.slice(5) };
}

/** The service's tasks that fill one instance (slot or node). */
export function instanceTasks(tx: ReadTx, serviceId: string, key: InstanceKey): Task[] {
  const placement = placementOf(key);
  if ('slot' in placement) return tx.find('task', 'slot', serviceId, placement.slot);
  return tx.find('task', 'nodeId', placement.nodeId).filter((t) => t.serviceId === serviceId && t.slot === 0);
}

/** Groups tasks by instance key. */
export function groupByInstance(tasks: readonly Task[]): Map<InstanceKey, Task[]> {
  const groups = new Map<InstanceKey, Task[]>();
  for (const task of tasks) {
    const key = instanceKeyOf(task);
    const group = groups.get(key);
    if (group === undefined) groups.set(key, [task]);
    else group.push(task);
  }
  return groups;
}

/**
 * Raises the task's desired state to `state` inside `tx` (never lowers it: see task-lifecycle.ts).
 * Reads the task again so a stale copy cannot cause a conflict. Returns whether it wrote.
 */
export function raiseDesiredState(tx: WriteTx, taskId: string, state: TaskStateT): boolean {
  const current = tx.get('task', taskId);
  if (current === undefined || current.desiredState >= state) return false;
  tx.update('task', { ...current, desiredState: state });
  return true;
}

/** A node that is gone for good or for now: its tasks must run elsewhere. */
export function isNodeLost(node: Node | undefined): boolean {
  return node === undefined || node.status.state === 'down';
}
