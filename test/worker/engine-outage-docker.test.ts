/**
 * A real Docker Engine that becomes unreachable for a while: the task manager talks to a private
 * dockerd through a Unix-socket relay the test can cut (the socket disappears and every open
 * connection breaks, as when dockerd restarts with live-restore) and restore. A running task is not
 * failed by the outage and is watched again after it; an outage longer than the budget fails the task
 * with the engine error; the container itself keeps running throughout.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TaskState } from '../../agent/api/objects';
import { DockerExecutor, EngineUnavailableError } from '../../agent/worker/executor';
import { TaskManager } from '../../agent/worker/task-manager';
import { dockerTestsSkipped, type PrivateDockerd, startPrivateDockerd } from '../support/private-dockerd';
import { importTestImage } from '../support/test-image';
import { assignedTask, complete, ReportLog } from './task-fixtures';

const NODE_ID = 'node0000000000000000000w02';
const sleepForever = ['/bin/sh', '-c', 'while true; do sleep 1; done'];

/** A Unix socket that relays to the engine's, and can be cut (socket removed, connections broken). */
class EngineRelay {
  private server: Server | undefined;
  private readonly open = new Set<Socket>();

  constructor(
    readonly path: string,
    private readonly target: string,
  ) {}

  get engineAddr(): string {
    return `unix://${this.path}`;
  }

  listen(): Promise<void> {
    const server = createServer((client) => {
      const upstream = createConnection(this.target);
      for (const s of [client, upstream]) {
        this.open.add(s);
        s.on('error', () => s.destroy());
        s.on('close', () => this.open.delete(s));
      }
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
      client.pipe(upstream);
      upstream.pipe(client);
    });
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.path, () => resolve());
    });
  }

  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.open) s.destroy();
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

let engine: PrivateDockerd;
let docker: Docker;
let dir: string;
const managers: TaskManager[] = [];
const relays: EngineRelay[] = [];

beforeAll(async () => {
  engine = await startPrivateDockerd();
  docker = engine.docker;
  await importTestImage(docker);
  dir = await mkdtemp(join(tmpdir(), 'swarmdesk-relay-'));
}, 120_000);

afterAll(async () => {
  await engine?.stop();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
}, 60_000);

afterEach(async () => {
  for (const r of relays.splice(0)) await r.cut();
  for (const m of managers.splice(0)) await m.stop();
  const containers = await docker.listContainers({ all: true });
  await Promise.all(containers.map((c) => docker.getContainer(c.Id).remove({ force: true })));
});

async function relay(): Promise<EngineRelay> {
  const r = new EngineRelay(join(dir, `relay-${relays.length}.sock`), engine.socketPath);
  await r.listen();
  relays.push(r);
  return r;
}

function taskManager(log: ReportLog, engineAddr: string, engineRetryMs: number): TaskManager {
  const manager = new TaskManager({ executor: new DockerExecutor({ nodeId: NODE_ID, engineAddr }), report: log.report, engineRetryMs });
  managers.push(manager);
  return manager;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.skipIf(dockerTestsSkipped())('an unreachable Docker Engine', () => {
  it('the executor says "unavailable" (not a task failure) when the engine cannot be reached', async () => {
    const r = await relay();
    await r.cut();
    const executor = new DockerExecutor({ nodeId: NODE_ID, engineAddr: r.engineAddr });
    const error = await executor.inspect(assignedTask()).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(EngineUnavailableError);
    expect(String(error)).toContain('cannot reach the Docker Engine');
  });

  it('a running task survives an outage of a few seconds, and its container\'s exit is seen afterwards', async () => {
    const r = await relay();
    const log = new ReportLog();
    const manager = taskManager(log, r.engineAddr, 60_000);
    const task = assignedTask({ container: { command: sleepForever } });
    manager.apply(complete(task));
    await log.reached(task.id, TaskState.RUNNING, 60_000);

    await r.cut();
    await sleep(3000);
    expect(log.states(task.id).at(-1)).toBe('RUNNING');
    // The container never noticed: it runs on the engine all along.
    expect((await docker.getContainer(task.name ?? '').inspect()).State.Running).toBe(true);

    await r.listen();
    await sleep(1000);
    expect(log.states(task.id).at(-1)).toBe('RUNNING');
    await docker.getContainer(task.name ?? '').kill();
    const failed = await log.reached(task.id, TaskState.FAILED, 60_000);
    expect(failed.err).toBe('task: non-zero exit (137)');
    expect(log.states(task.id)).toEqual(['ACCEPTED', 'PREPARING', 'READY', 'STARTING', 'RUNNING', 'FAILED']);
  }, 120_000);

  it('an outage longer than the budget fails the task with the engine error', async () => {
    const r = await relay();
    const log = new ReportLog();
    const manager = taskManager(log, r.engineAddr, 2000);
    const task = assignedTask({ container: { command: sleepForever } });
    manager.apply(complete(task));
    await log.reached(task.id, TaskState.RUNNING, 60_000);
    await r.cut();
    const failed = await log.reached(task.id, TaskState.FAILED, 60_000);
    expect(failed.message).toBe('started');
    expect(failed.err).toMatch(/^cannot reach the Docker Engine: /);
  }, 120_000);
});
