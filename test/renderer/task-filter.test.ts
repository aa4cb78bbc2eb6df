import { describe, expect, it } from 'vitest';
import { TaskState } from '../../agent/api/objects';
import type { Task } from '../../electron/contract';
import { filterTasks, NO_TASK_FILTER, type TaskFilter, updateTaskRows } from '../../renderer/src/store/task-filter';
import { task } from './fixtures';

describe('filterTasks', () => {
  const tasks = [
    task('a', 's2', 1, 1, { serviceAnnotations: { name: 'web', labels: {} } }),
    task('b', 's1', 2, 1, { serviceAnnotations: { name: 'api', labels: {} }, nodeId: 'n2' }),
    task('c', 's1', 1, 1, { serviceAnnotations: { name: 'api', labels: {} }, desiredState: TaskState.SHUTDOWN, status: { state: TaskState.FAILED, message: '', timestamp: '' } }),
  ];

  it('sorts by service name, then slot', () => {
    expect(filterTasks(tasks, NO_TASK_FILTER).map((t) => t.id)).toEqual(['c', 'b', 'a']);
  });

  it('combines filters', () => {
    expect(filterTasks(tasks, { ...NO_TASK_FILTER, serviceId: 's1' }).map((t) => t.id)).toEqual(['c', 'b']);
    expect(filterTasks(tasks, { ...NO_TASK_FILTER, nodeId: 'n2' }).map((t) => t.id)).toEqual(['b']);
    expect(filterTasks(tasks, { ...NO_TASK_FILTER, desiredState: String(TaskState.RUNNING) }).map((t) => t.id)).toEqual(['b', 'a']);
    expect(filterTasks(tasks, { ...NO_TASK_FILTER, serviceId: 's1', state: String(TaskState.FAILED) }).map((t) => t.id)).toEqual(['c']);
  });
});

describe('updateTaskRows', () => {
  /** Deterministic pseudo-random numbers (a linear congruential generator), so a failure replays. */
  function random(seed: number): (n: number) => number {
    let state = seed;
    return (n) => {
      state = (state * 1103515245 + 12345) % 2 ** 31;
      return state % n;
    };
  }

  const states = [TaskState.NEW, TaskState.ASSIGNED, TaskState.RUNNING, TaskState.FAILED];

  function randomTask(pick: (n: number) => number, id: string, version: number): Task {
    return task(id, `s${pick(3)}`, pick(20), version, {
      nodeId: pick(4) === 0 ? '' : `n${pick(3)}`,
      desiredState: pick(5) === 0 ? TaskState.SHUTDOWN : TaskState.RUNNING,
      status: { state: states[pick(states.length)], message: '', timestamp: '' },
      serviceAnnotations: { name: `svc-${pick(3)}`, labels: {} },
    });
  }

  it('gives what filterTasks gives, through bursts of upserts, moves and deletes, under each filter', () => {
    const filters: TaskFilter[] = [
      NO_TASK_FILTER,
      { ...NO_TASK_FILTER, serviceId: 's1' },
      { ...NO_TASK_FILTER, nodeId: 'n2' },
      { ...NO_TASK_FILTER, state: String(TaskState.RUNNING) },
      { ...NO_TASK_FILTER, desiredState: String(TaskState.RUNNING), state: String(TaskState.FAILED) },
    ];
    for (const filter of filters) {
      const pick = random(7);
      let tasks = new Map<string, Task>();
      for (let i = 0; i < 300; i++) tasks.set(`t${i}`, randomTask(pick, `t${i}`, 1));
      let rows = updateTaskRows(undefined, tasks, filter);
      expect(rows.rows).toEqual(filterTasks(tasks.values(), filter));
      for (let round = 0; round < 30; round++) {
        tasks = new Map(tasks);
        for (let change = 0; change < 25; change++) {
          const id = `t${pick(360)}`;
          if (pick(6) === 0) tasks.delete(id);
          else tasks.set(id, randomTask(pick, id, round + 2));
        }
        rows = updateTaskRows(rows, tasks, filter);
        expect(rows.rows.map((t) => t.id)).toEqual(filterTasks(tasks.values(), filter).map((t) => t.id));
        for (const row of rows.rows) expect(row).toBe(tasks.get(row.id));
      }
    }
  });

  it('reuses the last result for the same table and filter, and starts over for another filter', () => {
    const tasks = new Map([['a', task('a', 's1', 1)], ['b', task('b', 's2', 1)]]);
    const first = updateTaskRows(undefined, tasks, NO_TASK_FILTER);
    expect(updateTaskRows(first, tasks, NO_TASK_FILTER)).toBe(first);
    const other = { ...NO_TASK_FILTER, serviceId: 's2' };
    expect(updateTaskRows(first, tasks, other).rows.map((t) => t.id)).toEqual(['b']);
  });
});
