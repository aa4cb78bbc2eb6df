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
});
