/** The control API's service and task rules on a real store (no raft). */
import { beforeEach, describe, expect, it } from 'vitest';
import type { ServiceSpec, Task, TaskStateName } from '../../agent/api/objects';
import { TaskState } from '../../agent/api/objects';
import { newTask } from '../../agent/api/task-lifecycle';
import { newNodeObject } from '../../agent/manager/cluster-objects';
import { MANUAL_ROLLBACK_MESSAGE, ServiceHandlers } from '../../agent/manager/controlapi/services';
import { TaskHandlers } from '../../agent/manager/controlapi/tasks';
import { createLocalStore, type MemoryStore, newId } from '../../agent/store';

const NOW = new Date('2025-03-01T10:00:00.000Z');

function webSpec(overrides: Partial<ServiceSpec> = {}): ServiceSpec {
  return {
    name: 'web',
    labels: {},
    mode: { replicated: { replicas: 3 } },
    task: { container: { image: 'nginx:1.11.1-alpine' } },
    ...overrides,
  };
}

let store: MemoryStore;
let services: ServiceHandlers;
let tasks: TaskHandlers;

beforeEach(async () => {
  ({ store } = createLocalStore());
  services = new ServiceHandlers({ store, now: () => NOW });
  tasks = new TaskHandlers(store);
  for (const [id, state] of [['n1', 'ready'], ['n2', 'ready'], ['n3', 'down']] as const) {
    const node = newNodeObject(id, 'worker', `10.0.0.${id.slice(1)}:4242`);
    await store.createObject('node', { ...node, status: { ...node.status, state } });
  }
});

/** A task of `serviceId` in `slot`, placed on `nodeId`, observed in `state`. */
async function addTask(serviceId: string, slot: number, nodeId: string, state: TaskStateName, desired: TaskStateName = 'RUNNING'): Promise<Task> {
  const service = store.get('service', serviceId);
  if (service === undefined) throw new Error(`no service ${serviceId}`);
  const task = newTask(service, { slot }, newId(), NOW);
  return store.createObject('task', {
    ...task,
    nodeId,
    desiredState: TaskState[desired],
    status: { ...task.status, state: TaskState[state] },
  });
}

describe('createService', () => {
  it('stores the spec at specVersion 1 and shows 0 of N replicas running', async () => {
    const { service } = await services.createService({ spec: webSpec() });
    expect(service.id).toMatch(/^[0-9a-z]{25}$/);
    expect(service).toMatchObject({ specVersion: 1, spec: webSpec(), replicas: { running: 0, desired: 3 } });
    expect(service.previousSpec).toBeUndefined();
    expect(store.get('service', service.id)?.spec).toEqual(webSpec());
  });

  it('refuses a name already in use, whatever its case', async () => {
    const { service } = await services.createService({ spec: webSpec() });
    await expect(services.createService({ spec: webSpec({ name: 'WEB' }) })).rejects.toMatchObject({
      code: 'AlreadyExists',
      message: `service name "WEB" is already in use by service ${service.id}`,
    });
    expect(store.view((tx) => tx.count('service'))).toBe(1);
  });
});

describe('replica counts', () => {
  it('counts RUNNING tasks meant to run, on nodes that are not down', async () => {
    const { service } = await services.createService({ spec: webSpec() });
    await addTask(service.id, 1, 'n1', 'RUNNING');
    await addTask(service.id, 2, 'n2', 'STARTING');
    // The last word from a down node is stale: not counted as running.
    await addTask(service.id, 3, 'n3', 'RUNNING');
    // Being shut down (an update replacing it): neither running nor wanted.
    await addTask(service.id, 1, 'n2', 'RUNNING', 'SHUTDOWN');
    expect((await services.getService({ serviceId: service.id })).service.replicas).toEqual({ running: 1, desired: 3 });
    const { services: listed } = await services.listServices();
    expect(listed.map((s) => [s.spec.name, s.replicas])).toEqual([['web', { running: 1, desired: 3 }]]);
  });

  it('a global service wants the tasks it keeps running', async () => {
    const { service } = await services.createService({ spec: webSpec({ name: 'agent', mode: { global: {} } }) });
    await addTask(service.id, 0, 'n1', 'RUNNING');
    await addTask(service.id, 0, 'n2', 'PREPARING');
    await addTask(service.id, 0, 'n1', 'FAILED', 'SHUTDOWN');
    expect((await services.getService({ serviceId: service.id })).service.replicas).toEqual({ running: 1, desired: 2 });
  });
});

describe('updateService', () => {
  it('bumps specVersion and keeps the replaced spec for rollback', async () => {
    const { service } = await services.createService({ spec: webSpec() });
    const next = webSpec({ task: { container: { image: 'nginx:1.11.3-alpine' } } });
    const { service: updated } = await services.updateService({ serviceId: service.id, version: service.meta.version, spec: next });
    expect(updated).toMatchObject({ specVersion: 2, spec: next, previousSpec: webSpec() });
  });

  it('refuses a stale version with Conflict and leaves the service alone', async () => {
    const { service } = await services.createService({ spec: webSpec() });
    await services.updateService({ serviceId: service.id, version: service.meta.version, spec: webSpec({ mode: { replicated: { replicas: 6 } } }) });
    await expect(
      services.updateService({ serviceId: service.id, version: service.meta.version, spec: webSpec({ mode: { replicated: { replicas: 1 } } }) }),
    ).rejects.toMatchObject({ code: 'Conflict' });
    expect(store.get('service', service.id)?.spec.mode).toEqual({ replicated: { replicas: 6 } });
  });

  it('refuses renaming and switching between replicated and global', async () => {
    const { service } = await services.createService({ spec: webSpec() });
    const version = service.meta.version;
    await expect(services.updateService({ serviceId: service.id, version, spec: webSpec({ name: 'www' }) })).rejects.toMatchObject({
      code: 'InvalidArgument',
      message: 'spec.name: a service cannot be renamed (it is "web")',
    });
    await expect(services.updateService({ serviceId: service.id, version, spec: webSpec({ mode: { global: {} } }) })).rejects.toMatchObject({
      code: 'InvalidArgument',
      message: 'spec.mode: a replicated service cannot become global',
    });
  });

  it('an unchanged spec is a no-op; --force bumps forceUpdate and the specVersion', async () => {
    const { service } = await services.createService({ spec: webSpec() });
    const same = await services.updateService({ serviceId: service.id, version: service.meta.version, spec: webSpec() });
    expect(same.service.specVersion).toBe(1);
    expect(same.service.meta.version).toBe(service.meta.version);
    const forced = await services.updateService({ serviceId: service.id, version: service.meta.version, spec: webSpec(), force: true });
    expect(forced.service.specVersion).toBe(2);
    expect(forced.service.spec.task.forceUpdate).toBe(1);
    const again = await services.updateService({ serviceId: service.id, version: forced.service.meta.version, spec: forced.service.spec, force: true });
    expect(again.service.spec.task.forceUpdate).toBe(2);
  });

  it('clears the previous update status: a new spec is a new update', async () => {
    const { service } = await services.createService({ spec: webSpec() });
    const paused = await store.updateObject('service', { ...store.get('service', service.id)!, status: { updateStatus: { state: 'paused', message: 'update paused' } } });
    const { service: updated } = await services.updateService({ serviceId: service.id, version: paused.meta.version, spec: webSpec({ labels: { tier: 'front' } }) });
    expect(updated.status.updateStatus).toBeUndefined();
  });

  it('NotFound for a service that does not exist', async () => {
    await expect(services.updateService({ serviceId: 'nosuch', version: 1, spec: webSpec() })).rejects.toMatchObject({ code: 'NotFound' });
  });
});

describe('rollbackService', () => {
  it('refuses a service that was never updated (FailedPrecondition)', async () => {
    const { service } = await services.createService({ spec: webSpec() });
    await expect(services.rollbackService({ serviceId: service.id, version: service.meta.version })).rejects.toMatchObject({
      code: 'FailedPrecondition',
      message: 'service web has no previous spec to roll back to',
    });
  });

  it('goes back to the previous spec with a new specVersion and says it was asked for', async () => {
    const { service } = await services.createService({ spec: webSpec() });
    const next = webSpec({ task: { container: { image: 'nginx:broken' } } });
    const { service: updated } = await services.updateService({ serviceId: service.id, version: service.meta.version, spec: next });
    const { service: rolled } = await services.rollbackService({ serviceId: service.id, version: updated.meta.version });
    expect(rolled).toMatchObject({
      specVersion: 3,
      spec: webSpec(),
      previousSpec: next,
      status: { updateStatus: { state: 'rollback_started', startedAt: NOW.toISOString(), message: MANUAL_ROLLBACK_MESSAGE } },
    });
    await expect(services.rollbackService({ serviceId: service.id, version: updated.meta.version })).rejects.toMatchObject({ code: 'Conflict' });
  });
});

describe('removeService', () => {
  it('deletes the service and leaves its tasks to the orchestrators and the reaper', async () => {
    const { service } = await services.createService({ spec: webSpec() });
    await addTask(service.id, 1, 'n1', 'RUNNING');
    await services.removeService({ serviceId: service.id });
    expect(store.get('service', service.id)).toBeUndefined();
    expect((await tasks.listTasks({ serviceId: service.id })).tasks).toHaveLength(1);
    await expect(services.removeService({ serviceId: service.id })).rejects.toMatchObject({ code: 'NotFound' });
    // The name is free again.
    await services.createService({ spec: webSpec() });
  });
});

describe('tasks', () => {
  it('lists with filters that combine, gets and removes', async () => {
    const { service: web } = await services.createService({ spec: webSpec() });
    const { service: db } = await services.createService({ spec: webSpec({ name: 'db' }) });
    const a = await addTask(web.id, 1, 'n1', 'RUNNING');
    const b = await addTask(web.id, 2, 'n2', 'RUNNING');
    const c = await addTask(web.id, 1, 'n1', 'FAILED', 'SHUTDOWN');
    const d = await addTask(db.id, 1, 'n1', 'RUNNING');
    const ids = async (request: Parameters<TaskHandlers['listTasks']>[0]) => (await tasks.listTasks(request)).tasks.map((t) => t.id).sort();
    expect(await ids({})).toEqual([a.id, b.id, c.id, d.id].sort());
    expect(await ids({ serviceId: web.id })).toEqual([a.id, b.id, c.id].sort());
    expect(await ids({ nodeId: 'n1' })).toEqual([a.id, c.id, d.id].sort());
    expect(await ids({ serviceId: web.id, nodeId: 'n1', desiredState: TaskState.RUNNING })).toEqual([a.id]);
    expect(await ids({ desiredState: TaskState.SHUTDOWN })).toEqual([c.id]);
    expect((await tasks.getTask({ taskId: b.id })).task.slot).toBe(2);
    await tasks.removeTask({ taskId: b.id });
    await expect(tasks.getTask({ taskId: b.id })).rejects.toMatchObject({ code: 'NotFound', message: `task ${b.id} not found` });
    await expect(tasks.removeTask({ taskId: b.id })).rejects.toMatchObject({ code: 'NotFound' });
  });
});
