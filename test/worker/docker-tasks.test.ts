/**
 * Tasks on a real Docker Engine (a private dockerd, the busybox test image): the task manager and the
 * Docker executor together, with the reports a node would send to the dispatcher recorded.
 */
import { createServer } from 'node:net';
import type Docker from 'dockerode';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TaskState } from '../../agent/api/objects';
import {
  DockerExecutor,
  LABEL_NODE_ID,
  LABEL_SERVICE_ID,
  LABEL_SERVICE_NAME,
  LABEL_TASK_ID,
  LABEL_TASK_NAME,
  LABEL_TASK_SLOT,
  type LogLine,
} from '../../agent/worker/executor';
import { clientCredentials, managerChannelOptions } from '../../agent/ca';
import { DispatcherSession } from '../../agent/worker/session';
import { TaskAgent } from '../../agent/worker/task-agent';
import { TaskManager } from '../../agent/worker/task-manager';
import { description, eventually, startHarness } from '../dispatcher/fixtures';
import { dockerTestsSkipped, type PrivateDockerd, startPrivateDockerd } from '../support/private-dockerd';
import { httpdCommand, importTestImage, MISSING_IMAGE } from '../support/test-image';
import { assignedTask, complete, incremental, ReportLog, withStatus } from './task-fixtures';

const NODE_ID = 'node0000000000000000000w01';

let engine: PrivateDockerd;
let docker: Docker;
const managers: TaskManager[] = [];

beforeAll(async () => {
  engine = await startPrivateDockerd();
  docker = engine.docker;
  await importTestImage(docker);
}, 120_000);

afterAll(async () => {
  await engine?.stop();
}, 60_000);

afterEach(async () => {
  for (const m of managers.splice(0)) await m.stop();
  const containers = await docker.listContainers({ all: true });
  await Promise.all(containers.map((c) => docker.getContainer(c.Id).remove({ force: true })));
});

function executor(): DockerExecutor {
  return new DockerExecutor({ nodeId: NODE_ID, engineAddr: engine.engineAddr });
}

function taskManager(log: ReportLog, exec = executor()): TaskManager {
  const manager = new TaskManager({ executor: exec, report: log.report });
  managers.push(manager);
  return manager;
}

async function inspectByName(name: string): Promise<Docker.ContainerInspectInfo> {
  return docker.getContainer(name).inspect();
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

const sleepForever = ['/bin/sh', '-c', 'while true; do sleep 1; done'];

describe.skipIf(dockerTestsSkipped())('tasks on a real Docker Engine', () => {
  it('runs a task to RUNNING in a container named <service>.<slot>.<task id>, labelled with task, service and node', async () => {
    const log = new ReportLog();
    const task = assignedTask({ service: 'nginx', slot: 3, nodeId: NODE_ID, container: { command: sleepForever, env: ['GREETING=hi'], dir: '/tmp', hostname: 'box' } });
    taskManager(log).apply(complete(task));

    const running = await log.reached(task.id, TaskState.RUNNING);
    expect(log.states(task.id)).toEqual(['ACCEPTED', 'PREPARING', 'READY', 'STARTING', 'RUNNING']);
    expect(running.message).toBe('started');

    const name = `nginx.3.${task.id}`;
    const info = await inspectByName(name);
    expect(info.Name).toBe(`/${name}`);
    expect(info.State.Running).toBe(true);
    expect(running.containerStatus?.containerId).toBe(info.Id);
    expect(info.Config.Labels).toMatchObject({
      [LABEL_TASK_ID]: task.id,
      [LABEL_TASK_NAME]: name,
      [LABEL_SERVICE_ID]: task.serviceId,
      [LABEL_SERVICE_NAME]: 'nginx',
      [LABEL_NODE_ID]: NODE_ID,
      [LABEL_TASK_SLOT]: '3',
    });
    expect(info.Config.Env).toContain('GREETING=hi');
    expect(info.Config.WorkingDir).toBe('/tmp');
    expect(info.Config.Hostname).toBe('box');
  });

  it('applies resource limits, user and mounts', async () => {
    const log = new ReportLog();
    const task = assignedTask({
      nodeId: NODE_ID,
      container: {
        command: sleepForever,
        user: 'nobody',
        mounts: [
          { type: 'tmpfs', target: '/scratch' },
          { type: 'volume', source: 'swarmdesk-test-data', target: '/data' },
          { type: 'bind', source: '/tmp', target: '/host-tmp', readOnly: true },
        ],
      },
      resources: { limits: { nanoCpus: 500_000_000, memoryBytes: 64 * 2 ** 20 } },
    });
    taskManager(log).apply(complete(task));
    await log.reached(task.id, TaskState.RUNNING);
    const info = await inspectByName(task.name ?? '');
    expect(info.HostConfig.NanoCpus).toBe(500_000_000);
    expect(info.HostConfig.Memory).toBe(64 * 2 ** 20);
    expect(info.Config.User).toBe('nobody');
    const mounts = info.Mounts.map((m) => ({ type: m.Type, destination: m.Destination, rw: m.RW }));
    expect(mounts).toEqual(
      expect.arrayContaining([
        { type: 'volume', destination: '/data', rw: true },
        { type: 'bind', destination: '/host-tmp', rw: false },
      ]),
    );
    expect(info.HostConfig.Mounts?.some((m) => m.Type === 'tmpfs' && m.Target === '/scratch')).toBe(true);
  });

  it('reports a non-zero exit as FAILED with the exit code, and a clean one as COMPLETE', async () => {
    const log = new ReportLog();
    const failing = assignedTask({ slot: 1, nodeId: NODE_ID, container: { command: ['/bin/sh', '-c', 'echo bye; exit 3'] } });
    const finishing = assignedTask({ slot: 2, nodeId: NODE_ID, container: { command: ['/bin/true'] } });
    taskManager(log).apply(complete(failing, finishing));

    const failed = await log.reached(failing.id, TaskState.FAILED);
    expect(failed.err).toBe('task: non-zero exit (3)');
    expect(failed.containerStatus?.exitCode).toBe(3);
    expect(failed.message).toBe('started');
    const done = await log.reached(finishing.id, TaskState.COMPLETE);
    expect(done.message).toBe('finished');
    expect(done.containerStatus?.exitCode).toBe(0);
  });

  it('rejects a task whose image cannot be had, with Docker\'s message', async () => {
    const log = new ReportLog();
    const task = assignedTask({ nodeId: NODE_ID, container: { image: MISSING_IMAGE } });
    taskManager(log).apply(complete(task));
    const rejected = await log.reached(task.id, TaskState.REJECTED);
    expect(log.states(task.id)).toEqual(['ACCEPTED', 'PREPARING', 'REJECTED']);
    expect(rejected.message).toBe('preparing');
    expect(rejected.err).toContain(`No such image: ${MISSING_IMAGE}`);
    // The pull's own failure is named too: the registry could not be reached.
    expect(rejected.err).toMatch(/pull failed: .*127\.0\.0\.1:9/);
  });

  it('stops a task with its stop signal, and kills it once the grace period is over', async () => {
    const log = new ReportLog();
    const polite = assignedTask({
      slot: 1,
      nodeId: NODE_ID,
      container: { command: ['/bin/sh', '-c', "trap 'echo got USR1; exit 0' USR1; while true; do sleep 0.1; done"], stopSignal: 'SIGUSR1', stopGracePeriodMs: 30_000 },
    });
    const stubborn = assignedTask({
      slot: 2,
      nodeId: NODE_ID,
      container: { command: ['/bin/sh', '-c', "trap '' TERM; while true; do sleep 0.1; done"], stopGracePeriodMs: 1000 },
    });
    const manager = taskManager(log);
    manager.apply(complete(polite, stubborn));
    await log.reached(polite.id, TaskState.RUNNING);
    await log.reached(stubborn.id, TaskState.RUNNING);

    const started = Date.now();
    manager.apply(incremental([{ ...polite, desiredState: TaskState.SHUTDOWN }, { ...stubborn, desiredState: TaskState.SHUTDOWN }]));
    const politeDown = await log.reached(polite.id, TaskState.SHUTDOWN);
    const politeMs = Date.now() - started;
    const stubbornDown = await log.reached(stubborn.id, TaskState.SHUTDOWN);
    const stubbornMs = Date.now() - started;

    expect(politeDown.message).toBe('shutdown');
    // Its handler ran (exit 0) well before its 30 s grace.
    expect(politeDown.containerStatus?.exitCode).toBe(0);
    expect(politeMs).toBeLessThan(15_000);
    // Ignored SIGTERM: killed (137) after the 1 s grace, not before.
    expect(stubbornDown.containerStatus?.exitCode).toBe(137);
    expect(stubbornMs).toBeGreaterThanOrEqual(1000);
    // The containers stay (for logs) until the task is removed.
    expect((await inspectByName(polite.name ?? '')).State.Running).toBe(false);
  });

  it('reads container logs as lines', async () => {
    const log = new ReportLog();
    const exec = executor();
    const task = assignedTask({ nodeId: NODE_ID, container: { command: ['/bin/sh', '-c', 'echo one; echo two >&2; echo three'] } });
    taskManager(log, exec).apply(complete(task));
    await log.reached(task.id, TaskState.COMPLETE);
    const lines: LogLine[] = [];
    for await (const line of await exec.logs(task, { timestamps: true })) lines.push(line);
    expect(lines.map((l) => [l.stream, l.text])).toEqual(
      expect.arrayContaining([
        ['stdout', 'one'],
        ['stderr', 'two'],
        ['stdout', 'three'],
      ]),
    );
    expect(lines.every((l) => l.timestamp !== undefined && !Number.isNaN(Date.parse(l.timestamp)))).toBe(true);
  });

  it('adopts running containers after the task manager restarts, and removes those of tasks no longer assigned', async () => {
    const log = new ReportLog();
    const kept = assignedTask({ slot: 1, nodeId: NODE_ID, container: { command: sleepForever } });
    const dropped = assignedTask({ slot: 2, nodeId: NODE_ID, container: { command: sleepForever } });
    const first = taskManager(log);
    first.apply(complete(kept, dropped));
    const running = await log.reached(kept.id, TaskState.RUNNING);
    await log.reached(dropped.id, TaskState.RUNNING);
    const before = await inspectByName(kept.name ?? '');
    await first.stop();
    // The agent stopped: its containers did not.
    expect((await inspectByName(kept.name ?? '')).State.Running).toBe(true);

    // The restarted agent is sent what the store recorded: `kept` RUNNING, `dropped` gone meanwhile.
    const after = new ReportLog();
    const second = taskManager(after);
    second.apply(complete(withStatus(kept, running)));
    await second.settled();

    const adopted = await inspectByName(kept.name ?? '');
    expect(adopted.Id).toBe(before.Id);
    expect(adopted.State.StartedAt).toBe(before.State.StartedAt);
    expect(adopted.State.Running).toBe(true);
    expect(after.states(kept.id)).toEqual([]);
    await expect(inspectByName(dropped.name ?? '')).rejects.toMatchObject({ statusCode: 404 });

    // Adopted means watched: its exit is still seen.
    await docker.getContainer(adopted.Id).kill({ signal: 'SIGKILL' });
    const failed = await after.reached(kept.id, TaskState.FAILED);
    expect(failed.containerStatus?.exitCode).toBe(137);
  });

  it('removes the container of a task that is unassigned or desired REMOVE', async () => {
    const log = new ReportLog();
    const a = assignedTask({ slot: 1, nodeId: NODE_ID, container: { command: sleepForever } });
    const b = assignedTask({ slot: 2, nodeId: NODE_ID, container: { command: sleepForever, stopGracePeriodMs: 0 } });
    const manager = taskManager(log);
    manager.apply(complete(a, b));
    await log.reached(a.id, TaskState.RUNNING);
    await log.reached(b.id, TaskState.RUNNING);

    manager.apply(incremental([{ ...b, desiredState: TaskState.REMOVE }], [a.id]));
    await log.reached(b.id, TaskState.SHUTDOWN);
    await manager.settled();
    await expect(inspectByName(a.name ?? '')).rejects.toMatchObject({ statusCode: 404 });
    await expect(inspectByName(b.name ?? '')).rejects.toMatchObject({ statusCode: 404 });
    expect(manager.taskIds).toEqual([b.id]);
  });

  it('publishes a host-mode port: a busybox httpd task answers on it', async () => {
    const log = new ReportLog();
    const port = await freePort();
    const task = assignedTask({
      nodeId: NODE_ID,
      container: { image: 'swarmdesk-test:2', command: httpdCommand(80) },
      ports: [{ protocol: 'tcp', targetPort: 80, publishedPort: port, publishMode: 'host' }],
    });
    taskManager(log).apply(complete(task));
    const running = await log.reached(task.id, TaskState.RUNNING);
    expect(running.portStatus?.ports).toEqual([{ protocol: 'tcp', targetPort: 80, publishedPort: port, publishMode: 'host' }]);
    const body = await (async () => {
      for (let i = 0; ; i++) {
        try {
          return await (await fetch(`http://${engine.hostIp}:${port}/version`)).text();
        } catch (err) {
          if (i >= 50) throw err; // httpd may need a moment after the container started
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
    })();
    expect(body).toBe('2\n');
  });

  it('runs a task the store assigns, end to end: dispatcher over mutual TLS, worker session, Docker', async () => {
    const h = await startHarness();
    const worker = await h.addNode('worker');
    const agent = new TaskAgent({ executor: new DockerExecutor({ nodeId: worker.nodeId, engineAddr: engine.engineAddr }) });
    const session = new DispatcherSession({
      managers: () => [h.manager.addr],
      credentials: () => clientCredentials({ rootCaPem: h.tc.rootCa.certPem, certPem: worker.certPem, keyPem: worker.keyPem }),
      channelOptions: managerChannelOptions,
      description: async () => description('docker-worker'),
      onEstablished: (link) => agent.attach(link),
    });
    try {
      const task = assignedTask({ service: 'web', slot: 1, nodeId: worker.nodeId, container: { command: httpdCommand(80) } });
      const { meta: _meta, ...fields } = task;
      await h.store.createObject('task', fields);
      session.start();
      const running = await eventually(() => {
        const t = h.store.get('task', task.id);
        expect(t?.status.state).toBe(TaskState.RUNNING);
        return t;
      });
      const info = await inspectByName(`web.1.${task.id}`);
      expect(running?.status.containerStatus?.containerId).toBe(info.Id);
      expect(info.Config.Labels[LABEL_NODE_ID]).toBe(worker.nodeId);
    } finally {
      await session.stop();
      await agent.stop();
      h.close();
    }
  });
});
