import { describe, expect, it } from 'vitest';
import { TaskState } from '../../agent/api/objects';
import { ClusterStore } from '../../renderer/src/store/cluster-store';
import { node, service, snapshot, task } from './fixtures';

describe('ClusterStore', () => {
  it('loads a snapshot and applies later changes', () => {
    const store = new ClusterStore();
    store.beginLoading();
    store.applySnapshot(snapshot(10, { nodes: [node('n1')], services: [service('s1', 'web')], tasks: [task('t1', 's1', 1)] }));
    expect(store.getState().phase).toBe('live');
    expect(store.applyChanges({ kind: 'changes', fromRevision: 10, revision: 12, changes: [{ kind: 'task', action: 'upsert', object: task('t2', 's1', 2) }, { kind: 'node', action: 'delete', id: 'n1' }] })).toBe('applied');
    const state = store.getState();
    expect(state.revision).toBe(12);
    expect([...state.tasks.keys()]).toEqual(['t1', 't2']);
    expect(state.nodes.size).toBe(0);
  });

  it('ignores changes at or before the snapshot revision', () => {
    const store = new ClusterStore();
    store.beginLoading();
    store.applySnapshot(snapshot(10, { tasks: [task('t1', 's1', 1, 5)] }));
    expect(store.applyChanges({ kind: 'changes', fromRevision: 8, revision: 10, changes: [{ kind: 'task', action: 'delete', id: 't1' }] })).toBe('stale');
    expect(store.getState().tasks.has('t1')).toBe(true);
  });

  it('applies every chunk of a large batch: the chunks before the last keep revision === fromRevision', () => {
    const store = new ClusterStore();
    store.beginLoading();
    store.applySnapshot(snapshot(10));
    expect(store.applyChanges({ kind: 'changes', fromRevision: 10, revision: 10, changes: [{ kind: 'task', action: 'upsert', object: task('t1', 's1', 1) }] })).toBe('applied');
    expect(store.applyChanges({ kind: 'changes', fromRevision: 10, revision: 10, changes: [{ kind: 'task', action: 'upsert', object: task('t2', 's1', 2) }] })).toBe('applied');
    expect(store.applyChanges({ kind: 'changes', fromRevision: 10, revision: 14, changes: [{ kind: 'task', action: 'upsert', object: task('t3', 's1', 3) }] })).toBe('applied');
    expect([...store.getState().tasks.keys()].sort()).toEqual(['t1', 't2', 't3']);
    expect(store.getState().revision).toBe(14);
  });

  it('holds events that arrive while the snapshot loads and applies only the newer ones', () => {
    const store = new ClusterStore();
    store.beginLoading();
    expect(store.applyChanges({ kind: 'changes', fromRevision: 8, revision: 9, changes: [{ kind: 'task', action: 'delete', id: 't1' }] })).toBe('buffered');
    expect(store.applyChanges({ kind: 'changes', fromRevision: 9, revision: 11, changes: [{ kind: 'task', action: 'upsert', object: task('t9', 's1', 3) }] })).toBe('buffered');
    store.applySnapshot(snapshot(10, { tasks: [task('t1', 's1', 1)] }));
    expect([...store.getState().tasks.keys()].sort()).toEqual(['t1', 't9']);
    expect(store.getState().revision).toBe(11);
  });

  it('reports a gap when events were missed', () => {
    const store = new ClusterStore();
    store.beginLoading();
    store.applySnapshot(snapshot(10));
    expect(store.applyChanges({ kind: 'changes', fromRevision: 15, revision: 16, changes: [] })).toBe('gap');
    expect(store.getState().revision).toBe(10);
  });

  it('keeps untouched tables identical so their readers do not re-render', () => {
    const store = new ClusterStore();
    store.beginLoading();
    store.applySnapshot(snapshot(1, { nodes: [node('n1')], services: [service('s1', 'web')] }));
    const before = store.getState();
    let notified = 0;
    store.subscribe(() => notified++);
    const burst = Array.from({ length: 1000 }, (_, i) => ({ kind: 'task' as const, action: 'upsert' as const, object: task(`t${i}`, 's1', i + 1) }));
    store.applyChanges({ kind: 'changes', fromRevision: 1, revision: 2, changes: burst });
    const after = store.getState();
    expect(notified).toBe(1);
    expect(after.nodes).toBe(before.nodes);
    expect(after.services).toBe(before.services);
    expect(after.tasks).not.toBe(before.tasks);
    expect(after.tasks.size).toBe(1000);
  });

  it('never replaces an object with an older version of it', () => {
    const store = new ClusterStore();
    store.beginLoading();
    store.applySnapshot(snapshot(5, { tasks: [task('t1', 's1', 1, 7, { status: { state: TaskState.FAILED, message: 'failed', timestamp: '' } })] }));
    store.applyChanges({ kind: 'changes', fromRevision: 5, revision: 6, changes: [{ kind: 'task', action: 'upsert', object: task('t1', 's1', 1, 6) }] });
    expect(store.getState().tasks.get('t1')?.status.state).toBe(TaskState.FAILED);
  });

  it('takes the cluster summary carried by a changes event', () => {
    const store = new ClusterStore();
    store.beginLoading();
    store.applySnapshot(snapshot(1));
    const cluster = { id: 'c1', name: 'default', managers: { total: 3, reachable: 1, quorum: 2 }, hasQuorum: false };
    store.applyChanges({ kind: 'changes', fromRevision: 1, revision: 2, cluster, changes: [] });
    expect(store.getState().cluster).toEqual(cluster);
  });

  describe('with a publish scheduler (one publish per animation frame in the app)', () => {
    function scheduled() {
      const due: (() => void)[] = [];
      const store = new ClusterStore((publish) => due.push(publish));
      const runDue = () => due.splice(0).forEach((publish) => publish());
      return { store, due, runDue };
    }
    const upsert = (id: string, slot: number, version = 1) => ({ kind: 'task' as const, action: 'upsert' as const, object: task(id, 's1', slot, version) });

    it('publishes the events applied since the last publish at once, telling the listeners once', () => {
      const { store, due, runDue } = scheduled();
      store.beginLoading();
      store.applySnapshot(snapshot(1, { tasks: [task('t0', 's1', 1)] }));
      const published = store.getState();
      let notified = 0;
      store.subscribe(() => notified++);
      expect(store.applyChanges({ kind: 'changes', fromRevision: 1, revision: 2, changes: [upsert('t1', 2)] })).toBe('applied');
      expect(store.applyChanges({ kind: 'changes', fromRevision: 2, revision: 3, changes: [upsert('t2', 3), upsert('t0', 1, 2)] })).toBe('applied');
      expect(due).toHaveLength(1);
      expect(store.getState()).toBe(published);
      expect(notified).toBe(0);
      runDue();
      expect(notified).toBe(1);
      const state = store.getState();
      expect(state.revision).toBe(3);
      expect([...state.tasks.keys()].sort()).toEqual(['t0', 't1', 't2']);
      expect(state.tasks.get('t0')?.meta.version).toBe(2);
      expect(state.nodes).toBe(published.nodes);
      // What was published before is never written again.
      expect([...published.tasks.keys()]).toEqual(['t0']);
      expect(published.tasks.get('t0')?.meta.version).toBe(1);
    });

    it('copies a published table before changing it again', () => {
      const { store, runDue } = scheduled();
      store.beginLoading();
      store.applySnapshot(snapshot(1));
      store.applyChanges({ kind: 'changes', fromRevision: 1, revision: 2, changes: [upsert('t1', 1)] });
      runDue();
      const first = store.getState().tasks;
      store.applyChanges({ kind: 'changes', fromRevision: 2, revision: 3, changes: [{ kind: 'task', action: 'delete', id: 't1' }] });
      runDue();
      expect([...first.keys()]).toEqual(['t1']);
      expect(store.getState().tasks.size).toBe(0);
    });

    it('detects gaps against what was applied, not only what was published', () => {
      const { store, due } = scheduled();
      store.beginLoading();
      store.applySnapshot(snapshot(1));
      store.applyChanges({ kind: 'changes', fromRevision: 1, revision: 2, changes: [upsert('t1', 1)] });
      expect(store.applyChanges({ kind: 'changes', fromRevision: 2, revision: 3, changes: [upsert('t2', 2)] })).toBe('applied');
      expect(store.applyChanges({ kind: 'changes', fromRevision: 1, revision: 2, changes: [upsert('t1', 1)] })).toBe('stale');
      expect(store.applyChanges({ kind: 'changes', fromRevision: 5, revision: 6, changes: [] })).toBe('gap');
      expect(due).toHaveLength(1);
    });

    it('shows a snapshot at once, with what was applied before it replaced', () => {
      const { store, due, runDue } = scheduled();
      store.beginLoading();
      store.applySnapshot(snapshot(1));
      store.applyChanges({ kind: 'changes', fromRevision: 1, revision: 2, changes: [upsert('t1', 1)] });
      store.beginLoading();
      expect(store.getState().phase).toBe('loading');
      expect(store.getState().tasks.has('t1')).toBe(true);
      store.applySnapshot(snapshot(7, { tasks: [task('t9', 's1', 1)] }));
      expect(store.getState().revision).toBe(7);
      expect([...store.getState().tasks.keys()]).toEqual(['t9']);
      const shown = store.getState();
      runDue();
      expect(store.getState()).toBe(shown);
      expect(due).toHaveLength(0);
    });

    it('flush publishes without waiting for the scheduler', () => {
      const { store } = scheduled();
      store.beginLoading();
      store.applySnapshot(snapshot(1));
      store.applyChanges({ kind: 'changes', fromRevision: 1, revision: 2, changes: [upsert('t1', 1)] });
      store.flush();
      expect(store.getState().tasks.has('t1')).toBe(true);
    });
  });
});
