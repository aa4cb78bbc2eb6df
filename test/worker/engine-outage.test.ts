/**
 * An engine that is unreachable for a while (restarting, its socket gone, a 5xx on a status read) does
 * not fail a task: the runner retries with backoff for up to engineRetryMs since the engine last
 * answered, and fails the task with the engine's error only after that. What Docker says about the
 * container itself (no such image, a start refused) stays fatal at once. Time is a FakeClock.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type Task, TaskState } from '../../agent/api/objects';
import {
  type ContainerExit,
  EngineUnavailableError,
  type Executor,
  ExecutorError,
  type RuntimeContainer,
  type RuntimeStatus,
} from '../../agent/worker/executor';
import { isConnectionError } from '../../agent/worker/executor/docker-errors';
import { TaskManager } from '../../agent/worker/task-manager';
import { FakeClock } from '../support/fake-clock';
import { FakeExecutor } from './fake-executor';
import { assignedTask, complete, ReportLog } from './task-fixtures';

const RETRY_MS = 30_000;
const DOWN = 'cannot reach the Docker Engine: connect ENOENT /run/docker.sock';

/** A FakeExecutor behind an engine connection the test can cut: every call fails while it is down. */
class FlakyEngine implements Executor {
  readonly inner = new FakeExecutor();
  readonly calls: string[] = [];
  private down = false;
  private outage = new AbortController();
  startError: ExecutorError | undefined;

  cut(): void {
    this.down = true;
    this.outage.abort();
  }

  restore(): void {
    this.down = false;
    this.outage = new AbortController();
  }

  private call(name: string): void {
    this.calls.push(name);
    if (this.down) throw new EngineUnavailableError(DOWN);
  }

  async list(): Promise<RuntimeContainer[]> {
    this.call('list');
    return this.inner.list();
  }

  async prepare(task: Task): Promise<void> {
    this.call('prepare');
    return this.inner.prepare(task);
  }

  async start(task: Task): Promise<RuntimeStatus> {
    this.call('start');
    if (this.startError !== undefined) throw this.startError;
    return this.inner.start(task);
  }

  wait(task: Task, signal: AbortSignal): Promise<ContainerExit> {
    this.call('wait');
    const outage = this.outage.signal;
    return new Promise((resolve, reject) => {
      // A cut while waiting breaks the connection the wait was on.
      outage.addEventListener('abort', () => reject(new EngineUnavailableError(`${DOWN} (the connection to the engine was lost)`)), { once: true });
      this.inner.wait(task, signal).then(resolve, reject);
    });
  }

  async inspect(task: Task): Promise<(RuntimeStatus & { running: boolean }) | undefined> {
    this.call('inspect');
    return this.inner.inspect(task);
  }

  async shutdown(task: Task): Promise<void> {
    this.call('shutdown');
    return this.inner.shutdown(task);
  }

  async remove(container: string): Promise<void> {
    this.call('remove');
    return this.inner.remove(container);
  }
}

let manager: TaskManager | undefined;
afterEach(async () => {
  await manager?.stop();
  manager = undefined;
});

function setup(): { engine: FlakyEngine; clock: FakeClock; log: ReportLog; tm: TaskManager; pass: (ms: number) => Promise<void> } {
  const engine = new FlakyEngine();
  const clock = new FakeClock();
  const log = new ReportLog();
  const tm = new TaskManager({ executor: engine, report: log.report, clock, engineRetryMs: RETRY_MS, random: () => 0.5 });
  manager = tm;
  /** Lets `ms` of virtual time pass in 500 ms steps, the runners acting on every timer that falls due. */
  const pass = async (ms: number): Promise<void> => {
    await tm.settled();
    for (let t = 0; t < ms; t += 500) {
      clock.advance(Math.min(500, ms - t));
      await tm.settled();
    }
  };
  return { engine, clock, log, tm, pass };
}

describe('an engine unreachable for a while', () => {
  it('a running task rides out an outage shorter than the budget, and is watched again afterwards', async () => {
    const { engine, log, tm, pass } = setup();
    const task = assignedTask();
    tm.apply(complete(task));
    await tm.settled();
    expect(log.states(task.id)).toEqual(['ACCEPTED', 'PREPARING', 'READY', 'STARTING', 'RUNNING']);

    engine.cut();
    await pass(RETRY_MS - 5000);
    expect(log.states(task.id).at(-1)).toBe('RUNNING');
    const waitsDuringOutage = engine.calls.filter((c) => c === 'wait' || c === 'inspect').length;
    expect(waitsDuringOutage).toBeGreaterThan(3); // it kept trying, with backoff (not once, not a tight loop)
    expect(waitsDuringOutage).toBeLessThan(40);

    engine.restore();
    await pass(5000);
    expect(log.states(task.id).at(-1)).toBe('RUNNING');
    // The container's exit is seen: the wait was re-attached after the outage.
    engine.inner.exit(task.id, 3);
    await log.reached(task.id, TaskState.FAILED);
    expect(log.last(task.id)).toMatchObject({ state: TaskState.FAILED, err: 'task: non-zero exit (3)' });
  });

  it('fails the task with the engine\'s error once the outage outlasts the budget, not before', async () => {
    const { engine, log, tm, pass } = setup();
    const task = assignedTask();
    tm.apply(complete(task));
    await tm.settled();
    engine.cut();
    await pass(RETRY_MS - 1000);
    expect(log.states(task.id).at(-1)).toBe('RUNNING');
    await pass(10_000);
    expect(log.last(task.id)).toMatchObject({ state: TaskState.FAILED, message: 'started' });
    expect(log.last(task.id)?.err).toContain('cannot reach the Docker Engine');
  });

  it('a task being prepared waits for the engine and then starts', async () => {
    const { engine, log, tm, pass } = setup();
    engine.cut();
    const task = assignedTask();
    tm.apply(complete(task));
    await pass(10_000);
    expect(log.states(task.id)).toEqual(['ACCEPTED', 'PREPARING']);
    engine.restore();
    await pass(5000);
    expect(log.states(task.id)).toEqual(['ACCEPTED', 'PREPARING', 'READY', 'STARTING', 'RUNNING']);
  });

  it('every outage gets the whole budget again once the engine has answered in between', async () => {
    const { engine, log, tm, pass } = setup();
    const task = assignedTask();
    tm.apply(complete(task));
    await tm.settled();
    engine.cut();
    await pass(RETRY_MS - 5000);
    engine.restore();
    await pass(5000);
    engine.cut();
    await pass(RETRY_MS - 5000);
    expect(log.states(task.id).at(-1)).toBe('RUNNING');
    engine.restore();
    await pass(5000);
    expect(log.states(task.id).at(-1)).toBe('RUNNING');
  });

  it('a task told to stop during an outage is shut down once the engine is back', async () => {
    const { engine, log, tm, pass } = setup();
    const task = assignedTask();
    tm.apply(complete(task));
    await tm.settled();
    engine.cut();
    await pass(2000);
    tm.apply({ type: 'incremental', updates: [{ ...task, desiredState: TaskState.SHUTDOWN }], removes: [] });
    await pass(5000);
    expect(log.states(task.id).at(-1)).toBe('RUNNING');
    engine.restore();
    await pass(5000);
    expect(log.last(task.id)).toMatchObject({ state: TaskState.SHUTDOWN, message: 'shutdown' });
  });
});

describe('what Docker says about the container stays fatal at once', () => {
  it('a missing image is REJECTED on the first attempt', async () => {
    const { engine, log, tm } = setup();
    engine.inner.missingImages.add('nope:1');
    const task = assignedTask({ container: { image: 'nope:1' } });
    tm.apply(complete(task));
    await tm.settled();
    expect(log.last(task.id)).toMatchObject({ state: TaskState.REJECTED, message: 'preparing', err: 'No such image: nope:1' });
    expect(engine.calls.filter((c) => c === 'prepare')).toHaveLength(1);
  });

  it('a start the engine refuses is FAILED on the first attempt', async () => {
    const { engine, log, tm } = setup();
    engine.startError = new ExecutorError('failed to create task for container: exec: "nope": executable file not found in $PATH');
    const task = assignedTask();
    tm.apply(complete(task));
    await tm.settled();
    expect(log.last(task.id)).toMatchObject({ state: TaskState.FAILED, message: 'starting' });
    expect(log.last(task.id)?.err).toContain('executable file not found');
    expect(engine.calls.filter((c) => c === 'start')).toHaveLength(1);
  });
});

describe('which engine errors are an unavailable engine', () => {
  const errno = (code: string, message: string) => Object.assign(new Error(message), { code });
  const http = (statusCode: number, message: string) => Object.assign(new Error(`(HTTP code ${statusCode}) server error - ${message} `), { statusCode, json: { message } });

  it('socket-level failures are; answers with an HTTP status are not', () => {
    expect(isConnectionError(errno('ECONNREFUSED', 'connect ECONNREFUSED 10.0.0.1:2375'))).toBe(true);
    expect(isConnectionError(errno('ENOENT', 'connect ENOENT /run/docker.sock'))).toBe(true);
    expect(isConnectionError(errno('ECONNRESET', 'read ECONNRESET'))).toBe(true);
    expect(isConnectionError(new Error('socket hang up'))).toBe(true);
    expect(isConnectionError(http(500, 'OCI runtime create failed'))).toBe(false);
    expect(isConnectionError(http(404, 'No such image: nope:1'))).toBe(false);
    expect(isConnectionError(new Error('something else'))).toBe(false);
  });
});
