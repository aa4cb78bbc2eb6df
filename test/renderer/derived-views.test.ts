import { describe, expect, it } from 'vitest';
import { TaskState } from '../../agent/api/objects';
import type { LogLine } from '../../electron/contract';
import { since } from '../../renderer/src/format';
import { appendLines, filterLines, lineText } from '../../renderer/src/store/log-buffer';
import { nodeCounts, serviceHealth, taskCounts } from '../../renderer/src/store/overview';
import { rolloutProgress } from '../../renderer/src/store/rollout';
import { node, service, task } from './fixtures';

const running = (id: string, slot: number, specVersion: number) => task(id, 's1', slot, 1, { specVersion });

describe('rolloutProgress', () => {
  it('counts the tasks meant to run by spec version and state', () => {
    const web = service('s1', 'web', 1, { specVersion: 2, replicas: { running: 3, desired: 3 } });
    const tasks = [
      running('a', 1, 2),
      task('b', 's1', 2, 1, { specVersion: 2, status: { state: TaskState.PREPARING, message: '', timestamp: '' } }),
      running('c', 3, 1),
      task('old', 's1', 2, 1, { specVersion: 1, desiredState: TaskState.SHUTDOWN }),
      task('other', 's2', 1),
    ];
    const progress = rolloutProgress({ ...web, spec: { ...web.spec, task: { container: { image: 'nginx:2' } } } }, [
      ...tasks.slice(0, 2).map((t) => ({ ...t, spec: { container: { image: 'nginx:2' } } })),
      ...tasks.slice(2),
    ]);
    expect(progress).toMatchObject({ specVersion: 2, desired: 3, updatedRunning: 1, outdated: 1 });
    expect(progress.groups).toEqual([
      { specVersion: 2, total: 2, running: 1, states: [['PREPARING', 1], ['RUNNING', 1]] },
      { specVersion: 1, total: 1, running: 1, states: [['RUNNING', 1]] },
    ]);
  });

  it('does not count a task as out of date when only the spec version moved (a scale)', () => {
    const scaled = service('s1', 'web', 2, { specVersion: 2, replicas: { running: 2, desired: 2 } });
    const progress = rolloutProgress(scaled, [running('a', 1, 1), running('b', 2, 2)]);
    expect(progress).toMatchObject({ specVersion: 2, desired: 2, updatedRunning: 2, outdated: 0 });
  });
});

describe('overview counts', () => {
  it('counts nodes, tasks and service health', () => {
    expect(nodeCounts([node('n1', 1, { role: 'manager' }), node('n2', 1, { spec: { labels: {}, role: 'worker', availability: 'drain' }, status: { state: 'down', message: '', addr: '' } })])).toEqual({
      total: 2,
      ready: 1,
      managers: 1,
      workers: 1,
      drained: 1,
    });
    expect(taskCounts([task('a', 's', 1), task('b', 's', 2, 1, { status: { state: TaskState.REJECTED, message: '', timestamp: '' } }), task('c', 's', 3, 1, { desiredState: TaskState.SHUTDOWN })])).toEqual({ desired: 2, running: 1, failed: 1 });
    expect(serviceHealth(service('s', 'web', 1, { replicas: { running: 1, desired: 2 } }))).toBe('converging');
    expect(serviceHealth(service('s', 'web', 1, { replicas: { running: 0, desired: 2 } }))).toBe('down');
    expect(serviceHealth(service('s', 'web', 1, { status: { updateStatus: { state: 'paused', message: 'update paused' } } }))).toBe('paused');
    expect(serviceHealth(service('s', 'web'))).toBe('healthy');
  });
});

describe('log buffer', () => {
  const line = (taskId: string, data: string): LogLine => ({ serviceId: 's1', taskId, nodeId: 'n1', timestamp: '2026-11-26T20:00:00.000Z', stream: 'stdout', data });

  it('keeps the newest lines up to the cap', () => {
    const lines = appendLines([line('t1', 'a\n'), line('t1', 'b\n')], [line('t1', 'c\n')], 2);
    expect(lines.map((entry) => entry.data)).toEqual(['b\n', 'c\n']);
  });

  it('filters by text (any case) and task', () => {
    const lines = [line('t1', 'GET /index\n'), line('t2', 'get /health\n'), line('t2', 'POST /x\n')];
    expect(filterLines(lines, { search: 'get', taskId: '' })).toHaveLength(2);
    expect(filterLines(lines, { search: 'get', taskId: 't2' })).toEqual([lines[1]]);
    expect(filterLines(lines, { search: '', taskId: '' })).toBe(lines);
  });

  it('shows timestamps on request, without the trailing newline', () => {
    expect(lineText(line('t1', 'hello\n'), false)).toBe('hello');
    expect(lineText(line('t1', 'hello\n'), true)).toBe('2026-11-26T20:00:00.000Z  hello');
  });
});

describe('since', () => {
  it('never says "from now" and tolerates missing times', () => {
    const now = new Date('2026-11-26T20:00:00.000Z');
    expect(since('2026-11-26T19:55:00.000Z', now)).toBe('5 minutes ago');
    expect(since('2026-11-26T20:00:03.000Z', now)).toBe('now');
    expect(since(undefined, now)).toBe('');
    expect(since('not a time', now)).toBe('');
  });
});
