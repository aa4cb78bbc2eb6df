/** swarmctl's service and task views, character for character. */
import { describe, expect, it } from 'vitest';
import { timeAgo } from '../../agent/cli/format/ago';
import { formatServiceInspect, formatServiceList } from '../../agent/cli/format/service';
import { formatTaskInspect, formatTaskList, nodeNameMap } from '../../agent/cli/format/task';
import { TaskState } from '../../agent/api/objects';
import { makeNode, makeService, makeTask, SERVICE_ID } from './fixtures';

const NOW = new Date('2025-03-01T12:00:00.000Z');
const MGMT = makeNode({ id: 'ea0b6125sx3ejdx7w1ne1mruk', hostname: 'mgmt-01', manager: { leader: true, reachability: 'reachable' } });
const WORK1 = makeNode({ id: 'lnxa1hn4q0dzg6bh1vlyf1k0q', hostname: 'work-01' });
const WORK2 = makeNode({ id: 'bhk2f1rcaaap2ny61yqyiw01i', hostname: 'work-02' });
const NODES = nodeNameMap([MGMT, WORK1, WORK2]);

function minutesAgo(minutes: number): string {
  return new Date(NOW.getTime() - minutes * 60_000).toISOString();
}

describe('service ls', () => {
  it('prints the seed\'s columns with running/desired replicas', () => {
    expect(formatServiceList([makeService({ replicas: 6 })])).toBe(
      [
        'ID                         Name   Image                Replicas',
        '--                         ----   -----                --------',
        't2neubvbyyqc8rynt09drjhl9  nginx  nginx:1.11.1-alpine  6/6',
        '',
      ].join('\n'),
    );
  });

  it('shows replicas not yet running, and marks global services', () => {
    const scaling = makeService({ replicas: 6, running: 2 });
    const global = { ...makeService({ id: 'x1', name: 'agent', image: 'busybox' }), replicas: { running: 3, desired: 3 } };
    global.spec = { ...global.spec, mode: { global: {} } };
    expect(formatServiceList([scaling, global]).split('\n').slice(2)).toEqual([
      't2neubvbyyqc8rynt09drjhl9  nginx  nginx:1.11.1-alpine  2/6',
      'x1                         agent  busybox              3/3 (global)',
      '',
    ]);
  });
});

describe('service inspect', () => {
  it("lays out the seed's example: settings aligned, a blank line, then the task table", () => {
    const service = makeService();
    const task = makeTask({ id: 'rrk1vhgqxm6wlt8fz0jzbplvc', service, slot: 1, nodeId: MGMT.id, at: minutesAgo(5) });
    expect(formatServiceInspect(service, [task], NODES, NOW)).toBe(
      [
        `ID                : ${SERVICE_ID}`,
        'Name              : nginx',
        'Replicas          : 1/1',
        'Template',
        ' Container',
        '  Image           : nginx:1.11.1-alpine',
        '',
        'Task ID                    Service  Slot  Image                Desired State  Last State             Node',
        '-------                    -------  ----  -----                -------------  ----------             ----',
        'rrk1vhgqxm6wlt8fz0jzbplvc  nginx    1     nginx:1.11.1-alpine  RUNNING        RUNNING 5 minutes ago  mgmt-01',
        '',
      ].join('\n'),
    );
  });

  it('prints no task table for a service without tasks', () => {
    expect(formatServiceInspect(makeService(), [], NODES, NOW)).toBe(
      [
        `ID                : ${SERVICE_ID}`,
        'Name              : nginx',
        'Replicas          : 1/1',
        'Template',
        ' Container',
        '  Image           : nginx:1.11.1-alpine',
        '',
      ].join('\n'),
    );
  });

  it('shows every setting the spec has, aligned on the longest label', () => {
    const service = makeService({
      replicas: 6,
      running: 4,
      spec: {
        labels: { tier: 'front' },
        task: {
          container: { image: 'nginx:1.11.3-alpine', command: ['nginx', '-g'], args: ['daemon off;'], env: ['A=1', 'B=2'], mounts: [{ type: 'bind', source: '/srv', target: '/www', readOnly: true }, { type: 'tmpfs', target: '/tmp' }] },
          placement: { constraints: ['node.role==worker', 'node.labels.zone==a'], preferences: [{ spread: { descriptor: 'node.labels.zone' } }] },
          resources: { reservations: { nanoCpus: 5e8, memoryBytes: 64 * 2 ** 20 }, limits: { memoryBytes: 2 ** 30 } },
          restart: { condition: 'on-failure', delayMs: 5000, maxAttempts: 3, windowMs: 120_000 },
        },
        update: { parallelism: 2, delayMs: 4000, failureAction: 'pause', monitorMs: 5000, maxFailureRatio: 0, order: 'stop-first' },
        endpoint: { mode: 'vip', ports: [{ protocol: 'tcp', targetPort: 80, publishedPort: 8080, publishMode: 'host' }] },
      },
    });
    service.status = { updateStatus: { state: 'updating', startedAt: minutesAgo(2), message: 'update in progress' } };
    expect(formatServiceInspect(service, [], NODES, NOW)).toBe(
      [
        `ID                       : ${SERVICE_ID}`,
        'Name                     : nginx',
        'Labels',
        '  tier                   : front',
        'Replicas                 : 4/6',
        'Update Status',
        ' State                   : updating',
        ' Started                 : 2 minutes ago',
        ' Message                 : update in progress',
        'Template',
        ' Container',
        '  Image                  : nginx:1.11.3-alpine',
        '  Command                : "nginx -g"',
        '  Args                   : [daemon off;]',
        '  Env                    : [A=1, B=2]',
        '  Mounts                 : bind /srv:/www:ro, tmpfs /tmp',
        '  Constraints            : node.role==worker, node.labels.zone==a',
        '  Preferences            : spread=node.labels.zone',
        '  Resources',
        '    Reservations:',
        '      CPU                : 0.5',
        '      Memory             : 64 MiB',
        '    Limits:',
        '      Memory             : 1.0 GiB',
        '  Restart                : on-failure, delay 5s, at most 3 attempts in 2m0s',
        'Ports                    : 8080:80/tcp',
        'Update                   : parallelism 2, delay 4s, on failure pause, monitor 5s, max failure ratio 0, stop-first',
        '',
      ].join('\n'),
    );
  });
});

describe('task ls', () => {
  it('sorts by slot, newest first within a slot, and names nodes by hostname', () => {
    const service = makeService({ replicas: 2 });
    const tasks = [
      makeTask({ id: 'task2aaaaaaaaaaaaaaaaaaaa', service, slot: 2, nodeId: WORK2.id, at: minutesAgo(90) }),
      makeTask({ id: 'task1oldaaaaaaaaaaaaaaaaa', service, slot: 1, nodeId: WORK1.id, state: 'FAILED', desired: 'SHUTDOWN', at: minutesAgo(3), createdAt: minutesAgo(200) }),
      makeTask({ id: 'task1newaaaaaaaaaaaaaaaaa', service, slot: 1, nodeId: '', state: 'PENDING', at: new Date(NOW.getTime() - 1500).toISOString(), createdAt: minutesAgo(3) }),
    ];
    expect(formatTaskList(tasks, NODES, NOW)).toBe(
      [
        'Task ID                    Service  Slot  Image                Desired State  Last State            Node',
        '-------                    -------  ----  -----                -------------  ----------            ----',
        'task1newaaaaaaaaaaaaaaaaa  nginx    1     nginx:1.11.1-alpine  RUNNING        PENDING 1 second ago',
        'task1oldaaaaaaaaaaaaaaaaa  nginx    1     nginx:1.11.1-alpine  SHUTDOWN       FAILED 3 minutes ago  work-01',
        'task2aaaaaaaaaaaaaaaaaaaa  nginx    2     nginx:1.11.1-alpine  RUNNING        RUNNING 1 hour ago    work-02',
        '',
      ].join('\n'),
    );
  });
});

describe('task inspect', () => {
  it('shows status, container, node and spec like SwarmKit', () => {
    const service = makeService({ spec: { task: { container: { image: 'nginx:1.11.1-alpine', args: ['-g', 'daemon off;'] } } } });
    const task = makeTask({ id: 'rrk1vhgqxm6wlt8fz0jzbplvc', service, slot: 3, nodeId: WORK1.id, state: 'FAILED', desired: 'SHUTDOWN', at: minutesAgo(1) });
    task.status = { ...task.status, message: 'started', err: 'task: non-zero exit (1)', containerStatus: { containerId: 'c0ffee', pid: 0, exitCode: 1 } };
    expect(formatTaskInspect(task, NODES, NOW)).toBe(
      [
        'ID                     : rrk1vhgqxm6wlt8fz0jzbplvc',
        'Name                   : nginx.3.rrk1vhgqxm6wlt8fz0jzbplvc',
        'Slot                   : 3',
        'Service                : nginx',
        'Status',
        '  Desired State        : SHUTDOWN',
        '  Last State           : FAILED',
        `  Timestamp            : ${minutesAgo(1)} (1 minute ago)`,
        '  Message              : started',
        '  Error                : task: non-zero exit (1)',
        '  ContainerID          : c0ffee',
        '  ExitCode             : 1',
        'Node                   : work-01',
        'Spec',
        '  Image                : nginx:1.11.1-alpine',
        '  Args                 : [-g, daemon off;]',
        '',
      ].join('\n'),
    );
    expect(task.desiredState).toBe(TaskState.SHUTDOWN);
  });
});

describe('time ago', () => {
  it('reads like go-humanize', () => {
    const at = (ms: number) => timeAgo(new Date(NOW.getTime() - ms), NOW);
    expect([0, 999, 1000, 59_000, 60_000, 119_000, 3_600_000, 86_400_000, 3 * 86_400_000, 14 * 86_400_000, 400 * 86_400_000].map(at)).toEqual([
      'now',
      'now',
      '1 second ago',
      '59 seconds ago',
      '1 minute ago',
      '1 minute ago',
      '1 hour ago',
      '1 day ago',
      '3 days ago',
      '2 weeks ago',
      '1 year ago',
    ]);
    expect(at(-90_000)).toBe('1 minute from now');
  });
});
