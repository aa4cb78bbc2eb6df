/**
 * A rolling update as the service page shows it: the service's tasks that are meant to run, grouped by
 * the spec version they were created from, counted by state. Pure.
 */
import { TaskState } from '../../../agent/api/objects';
import { isTaskDirty } from '../../../agent/api/task-dirty';
import type { ServiceView, Task } from '../../../electron/contract';
import { stateName } from '../format';

export interface VersionGroup {
  specVersion: number;
  /** Tasks desired running. */
  total: number;
  running: number;
  /** State name -> count, states in ascending order. */
  states: [string, number][];
}

export interface RolloutProgress {
  specVersion: number;
  desired: number;
  /** Running tasks that already run what the service asks for now. */
  updatedRunning: number;
  /**
   * Tasks desired running that a rolling update still has to replace: the orchestrator's own rule, so a
   * scale (new spec version, same task spec) leaves none.
   */
  outdated: number;
  groups: VersionGroup[];
}

export function rolloutProgress(service: ServiceView, tasks: Iterable<Task>): RolloutProgress {
  const groups = new Map<number, Map<number, number>>();
  let updatedRunning = 0;
  let outdated = 0;
  for (const task of tasks) {
    if (task.serviceId !== service.id || task.desiredState > TaskState.RUNNING) continue;
    if (isTaskDirty(service, task)) outdated++;
    else if (task.status.state === TaskState.RUNNING) updatedRunning++;
    const version = task.specVersion ?? 0;
    let states = groups.get(version);
    if (states === undefined) groups.set(version, (states = new Map()));
    states.set(task.status.state, (states.get(task.status.state) ?? 0) + 1);
  }
  const list: VersionGroup[] = [...groups.entries()]
    .sort(([a], [b]) => b - a)
    .map(([specVersion, states]) => {
      const entries = [...states.entries()].sort(([a], [b]) => a - b);
      return {
        specVersion,
        total: entries.reduce((sum, [, count]) => sum + count, 0),
        running: states.get(TaskState.RUNNING) ?? 0,
        states: entries.map(([state, count]): [string, number] => [stateName(state as TaskState), count]),
      };
    });
  return { specVersion: service.specVersion, desired: service.replicas.desired, updatedRunning, outdated, groups: list };
}
