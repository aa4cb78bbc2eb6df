/**
 * A rolling update as the service page shows it: the service's tasks that are meant to run, grouped by
 * the spec version they were created from, counted by state. Pure.
 */
import { TaskState } from '../../../agent/api/objects';
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
  /** Tasks of the current spec version that are running. */
  updatedRunning: number;
  /** Tasks still on an older spec version and desired running. */
  outdated: number;
  groups: VersionGroup[];
}

export function rolloutProgress(service: ServiceView, tasks: Iterable<Task>): RolloutProgress {
  const groups = new Map<number, Map<number, number>>();
  for (const task of tasks) {
    if (task.serviceId !== service.id || task.desiredState > TaskState.RUNNING) continue;
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
  const current = list.find((group) => group.specVersion === service.specVersion);
  return {
    specVersion: service.specVersion,
    desired: service.replicas.desired,
    updatedRunning: current?.running ?? 0,
    outdated: list.filter((group) => group.specVersion !== service.specVersion).reduce((sum, group) => sum + group.total, 0),
    groups: list,
  };
}
