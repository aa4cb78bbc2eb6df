import { describe, expect, it } from 'vitest';
import { TaskState } from '../../agent/api/objects';
import { filterTasks, NO_TASK_FILTER } from '../../renderer/src/store/task-filter';
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
