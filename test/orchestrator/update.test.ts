import { afterEach, describe, expect, it } from 'vitest';
import { type Service, TaskState, type UpdateConfig } from '../../agent/api/objects';
import { rolledBackService } from '../../agent/manager/orchestrator';
import type { ChangeEvent } from '../../agent/store';
import { BROKEN_IMAGE, type World, createWorld, updateConfig } from './fixtures';

let world: World;
afterEach(() => world?.stop());

/** Three nodes and a service of `replicas` tasks of busybox:1, all running. */
async function runningService(replicas: number, update: Partial<UpdateConfig>, extra: Partial<Service['spec']> = {}): Promise<Service> {
  world = await createWorld();
  for (const id of ['n1', 'n2', 'n3']) await world.addNode(id);
  const service = await world.createService({ replicas, image: 'busybox:1', update: updateConfig(update), ...extra });
  await world.converge();
  expect(world.running(service.id)).toHaveLength(replicas);
  return service;
}

/** `+3@4000` (task created in slot 3 at 4 s) and `-3@4000` (slot 3's old task told to stop), relative to `t0`. */
function recordTimeline(t0: number): string[] {
  const timeline: string[] = [];
  world.store.subscribe({ kinds: ['task'] }, (event) => {
    if (event.type !== 'change') return;
    const change = event as ChangeEvent & { kind: 'task' };
    const at = world.clock.now() - t0;
    if (change.action === 'create') timeline.push(`+${change.object.slot}@${at}`);
    else if (change.action === 'update' && change.oldObject?.desiredState === TaskState.RUNNING && change.object.desiredState === TaskState.SHUTDOWN) {
      timeline.push(`-${change.object.slot}@${at}`);
    }
  });
  return timeline;
}

/** The timeline as batches: when, which slots' old tasks were stopped and which got new ones (order within a batch is free). */
function batchesOf(timeline: readonly string[]): { at: number; stopped: number[]; started: number[] }[] {
  const batches: { at: number; stopped: number[]; started: number[] }[] = [];
  for (const entry of timeline) {
    const [, sign, slot, at] = /^([+-])(\d+)@(\d+)$/.exec(entry) ?? [];
    let batch = batches[batches.length - 1];
    if (batch === undefined || batch.at !== Number(at)) {
      batch = { at: Number(at), stopped: [], started: [] };
      batches.push(batch);
    }
    (sign === '-' ? batch.stopped : batch.started).push(Number(slot));
  }
  for (const b of batches) {
    b.stopped.sort((x, y) => x - y);
    b.started.sort((x, y) => x - y);
  }
  return batches;
}

/** Lets `ms` of virtual time pass in steps, the simulated cluster converging after each. */
async function runFor(ms: number, step = 500): Promise<void> {
  for (let t = 0; t < ms; t += step) {
    world.clock.advance(step);
    await world.converge();
  }
}

function image(service: Service | undefined): string | undefined {
  return service?.spec.task.container.image;
}

describe('rolling update', () => {
  it('replaces tasks two at a time with 4 s between batches (parallelism 2, delay 4s, stop-first)', async () => {
    const service = await runningService(6, { parallelism: 2, delayMs: 4000, monitorMs: 5000 });
    const t0 = world.clock.now();
    const timeline = recordTimeline(t0);
    await world.updateService(service.id, (s) => ({ ...s, task: { ...s.task, container: { image: 'busybox:2' } } }));
    await world.converge();
    expect(world.store.get('service', service.id)?.status.updateStatus).toEqual({ state: 'updating', startedAt: new Date(t0).toISOString(), message: 'update in progress' });

    await runFor(20_000);
    // Two slots per batch, the next batch 4 s later.
    expect(batchesOf(timeline)).toEqual([
      { at: 0, stopped: [1, 2], started: [1, 2] },
      { at: 4000, stopped: [3, 4], started: [3, 4] },
      { at: 8000, stopped: [5, 6], started: [5, 6] },
    ]);
    // Stop-first: in each slot the old task was told to stop before the new one was created.
    for (const slot of [1, 2, 3, 4, 5, 6]) expect(timeline.indexOf(`-${slot}@${Math.floor((slot - 1) / 2) * 4000}`)).toBeLessThan(timeline.findIndex((e) => e.startsWith(`+${slot}@`)));

    const running = world.running(service.id);
    expect(running.map((t) => [t.slot, t.spec.container.image, t.specVersion])).toEqual([1, 2, 3, 4, 5, 6].map((slot) => [slot, 'busybox:2', 2]));
    // Completed one monitor window (5 s) after the last batch started running.
    expect(world.store.get('service', service.id)?.status.updateStatus).toEqual({
      state: 'completed',
      startedAt: new Date(t0).toISOString(),
      completedAt: new Date(t0 + 8000 + 5000).toISOString(),
      message: 'update completed',
    });
  });

  it('parallelism 0 replaces every task at once', async () => {
    const service = await runningService(4, { parallelism: 0, delayMs: 10_000 });
    const timeline = recordTimeline(world.clock.now());
    await world.updateService(service.id, (s) => ({ ...s, task: { ...s.task, container: { image: 'busybox:2' } } }));
    await world.converge();
    expect(batchesOf(timeline)).toEqual([{ at: 0, stopped: [1, 2, 3, 4], started: [1, 2, 3, 4] }]);
  });

  it('start-first starts the new task and stops the old one only once the new one runs', async () => {
    const service = await runningService(2, { parallelism: 1, order: 'start-first', monitorMs: 1000 });
    const old = new Map(world.running(service.id).map((t) => [t.slot, t.id]));
    await world.updateService(service.id, (s) => ({ ...s, task: { ...s.task, container: { image: 'busybox:2' } } }));
    await world.settle();
    await world.simulate({ run: false });
    await world.settle();
    // Slot 1: old still running and wanted, new placed beside it.
    const slot1 = world.tasks(service.id).filter((t) => t.slot === 1);
    expect(slot1.map((t) => [t.spec.container.image, t.status.state, t.desiredState]).sort()).toEqual([
      ['busybox:1', TaskState.RUNNING, TaskState.RUNNING],
      ['busybox:2', TaskState.ASSIGNED, TaskState.RUNNING],
    ]);
    await world.converge();
    expect(world.store.get('task', old.get(1) ?? '')?.desiredState).toBe(TaskState.SHUTDOWN);
    await runFor(2000);
    expect(world.running(service.id).map((t) => t.spec.container.image)).toEqual(['busybox:2', 'busybox:2']);
    expect(world.store.get('service', service.id)?.status.updateStatus?.state).toBe('completed');
  });

  it('scaling is not an update: no task is replaced and no update status appears', async () => {
    const service = await runningService(2, { parallelism: 1 });
    const before = world.running(service.id).map((t) => t.id);
    await world.updateService(service.id, (s) => ({ ...s, mode: { replicated: { replicas: 3 } } }));
    await world.converge();
    await runFor(10_000);
    expect(world.running(service.id).slice(0, 2).map((t) => t.id)).toEqual(before);
    expect(world.store.get('service', service.id)?.status.updateStatus).toBeUndefined();
  });

  it('updates a global service node by node', async () => {
    world = await createWorld();
    for (const id of ['n1', 'n2', 'n3']) await world.addNode(id);
    const service = await world.createService({ global: true, image: 'agent:1', update: updateConfig({ parallelism: 1, delayMs: 1000, monitorMs: 0 }) });
    await world.converge();
    await world.updateService(service.id, (s) => ({ ...s, task: { ...s.task, container: { image: 'agent:2' } } }));
    await world.converge();
    expect(world.running(service.id).map((t) => t.spec.container.image).sort()).toEqual(['agent:1', 'agent:1', 'agent:2']);
    await runFor(2000);
    expect(world.running(service.id).map((t) => [t.nodeId, t.spec.container.image])).toEqual([['n1', 'agent:2'], ['n2', 'agent:2'], ['n3', 'agent:2']]);
    expect(world.store.get('service', service.id)?.status.updateStatus?.state).toBe('completed');
  });
});

describe('update failures', () => {
  it('pauses on a failed task (failureAction pause); a later spec change starts the update over', async () => {
    const service = await runningService(3, { parallelism: 1, failureAction: 'pause' });
    await world.updateService(service.id, (s) => ({ ...s, task: { ...s.task, container: { image: BROKEN_IMAGE } } }));
    await runFor(30_000);
    const status = world.store.get('service', service.id)?.status.updateStatus;
    expect(status?.state).toBe('paused');
    expect(status?.message).toMatch(/^update paused due to failure or early termination of task \w+$/);
    // Only slot 1 was tried; the others still run the old image.
    expect(world.running(service.id).map((t) => [t.slot, t.spec.container.image])).toEqual([[2, 'busybox:1'], [3, 'busybox:1']]);

    // Updated again while paused (here the update status is left as it was): the update starts over.
    await world.updateService(service.id, (s) => ({ ...s, task: { ...s.task, container: { image: 'busybox:3' } } }));
    await runFor(30_000);
    expect(world.running(service.id).map((t) => [t.slot, t.spec.container.image])).toEqual([1, 2, 3].map((slot) => [slot, 'busybox:3']));
    expect(world.store.get('service', service.id)?.status.updateStatus?.state).toBe('completed');
  });

  it('rolls back automatically on an image that cannot be had (failureAction rollback)', async () => {
    const service = await runningService(6, { parallelism: 2, delayMs: 4000, failureAction: 'rollback' });
    const untouched = world.running(service.id).filter((t) => t.slot > 2).map((t) => t.id);
    const states: string[] = [];
    world.store.subscribe({ kinds: ['service'] }, (event) => {
      if (event.type !== 'change' || event.kind !== 'service') return;
      const state = event.object.status.updateStatus?.state;
      if (state !== undefined && states[states.length - 1] !== state) states.push(state);
    });
    await world.updateService(service.id, (s) => ({ ...s, task: { ...s.task, container: { image: BROKEN_IMAGE } } }));
    await runFor(30_000);

    const after = world.store.get('service', service.id);
    expect(states).toEqual(['updating', 'rollback_started', 'rollback_completed']);
    expect(after?.status.updateStatus?.message).toBe('rollback completed');
    expect(image(after)).toBe('busybox:1');
    expect(after?.previousSpec?.task.container.image).toBe(BROKEN_IMAGE);
    expect(after?.specVersion).toBe(3);
    // The first batch (slots 1 and 2) was refused by the workers and replaced with the old image again;
    // the tasks that were never updated kept running.
    const running = world.running(service.id);
    expect(running.map((t) => [t.slot, t.spec.container.image])).toEqual([1, 2, 3, 4, 5, 6].map((slot) => [slot, 'busybox:1']));
    expect(running.filter((t) => t.slot > 2).map((t) => t.id)).toEqual(untouched);
    const rejected = world.tasks(service.id).filter((t) => t.status.state === TaskState.REJECTED);
    expect(rejected.map((t) => t.slot).sort()).toEqual([1, 2]);
    expect(rejected[0].status.err).toContain('No such image');
  });

  it('tolerates failures up to maxFailureRatio', async () => {
    const service = await runningService(4, { parallelism: 1, failureAction: 'pause', maxFailureRatio: 0.5, monitorMs: 1000 });
    await world.updateService(service.id, (s) => ({ ...s, task: { ...s.task, container: { image: 'busybox:2' } } }));
    await world.settle();
    // The first new task dies right after starting: 1 of 4 is within the ratio.
    await world.simulate();
    await world.settle();
    const [first] = world.tasks(service.id).filter((t) => t.spec.container.image === 'busybox:2');
    await world.setState(first.id, TaskState.FAILED, 'exit 1');
    await runFor(30_000);
    expect(world.store.get('service', service.id)?.status.updateStatus?.state).toBe('completed');
    expect(world.running(service.id).every((t) => t.spec.container.image === 'busybox:2')).toBe(true);
  });

  it('a requested rollback (as the control API makes it) uses the rollback config and completes', async () => {
    const rollback = updateConfig({ parallelism: 3, monitorMs: 0 });
    const service = await runningService(3, { parallelism: 0, monitorMs: 0 }, { rollback });
    await world.updateService(service.id, (s) => ({ ...s, task: { ...s.task, container: { image: 'busybox:2' } } }));
    await runFor(1000);
    expect(world.running(service.id).every((t) => t.spec.container.image === 'busybox:2')).toBe(true);

    const timeline = recordTimeline(world.clock.now());
    const current = world.store.get('service', service.id);
    if (current === undefined) throw new Error('service missing');
    await world.store.updateObject('service', rolledBackService(current, 'manually requested rollback', new Date(world.clock.now())));
    await world.converge();
    // The rollback config's parallelism (3), not the update's.
    expect(batchesOf(timeline)).toEqual([{ at: 0, stopped: [1, 2, 3], started: [1, 2, 3] }]);
    expect(world.running(service.id).every((t) => t.spec.container.image === 'busybox:1')).toBe(true);
    expect(world.store.get('service', service.id)?.status.updateStatus?.state).toBe('rollback_completed');
  });
});

describe('updates across changes', () => {
  it('a newer spec during an update takes over: every task ends on the newest spec', async () => {
    const service = await runningService(4, { parallelism: 1, delayMs: 10_000, monitorMs: 0 });
    await world.updateService(service.id, (s) => ({ ...s, task: { ...s.task, container: { image: 'busybox:2' } } }));
    await world.converge();
    await runFor(10_000);
    expect(world.running(service.id).map((t) => t.spec.container.image)).toEqual(['busybox:2', 'busybox:2', 'busybox:1', 'busybox:1']);
    await world.updateService(service.id, (s) => ({ ...s, task: { ...s.task, container: { image: 'busybox:3' } } }));
    await runFor(40_000);
    expect(world.running(service.id).map((t) => t.spec.container.image)).toEqual(['busybox:3', 'busybox:3', 'busybox:3', 'busybox:3']);
    expect(world.store.get('service', service.id)?.status.updateStatus?.state).toBe('completed');
  });

  it('a new leader carries on with an update in progress', async () => {
    const service = await runningService(4, { parallelism: 1, delayMs: 10_000, monitorMs: 0 });
    await world.updateService(service.id, (s) => ({ ...s, task: { ...s.task, container: { image: 'busybox:2' } } }));
    await world.converge();
    world.orchestration.stop();
    await runFor(30_000);
    expect(world.running(service.id).filter((t) => t.spec.container.image === 'busybox:2')).toHaveLength(1);
    world.orchestration.start();
    await runFor(40_000);
    expect(world.running(service.id).map((t) => t.spec.container.image)).toEqual(['busybox:2', 'busybox:2', 'busybox:2', 'busybox:2']);
    expect(world.store.get('service', service.id)?.status.updateStatus?.state).toBe('completed');
  });
});
