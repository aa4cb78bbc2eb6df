/** The control API's rules on a real store (no raft): versions, removal, tokens, quorum. */
import { beforeEach, describe, expect, it } from 'vitest';
import { rootCaKeyPem } from '../../agent/ca';
import { SecretSealer } from '../../agent/ca/sealing';
import { newClusterObject, newNodeObject } from '../../agent/manager/cluster-objects';
import { ControlHandlers } from '../../agent/manager/controlapi/handlers';
import type { MembershipSnapshot } from '../../agent/manager/raft-membership';
import { createLocalStore, type MemoryStore } from '../../agent/store';
import { makeCluster, type TestCluster } from '../ca/fixtures';

let cluster: TestCluster;
let store: MemoryStore;
let handlers: ControlHandlers;
let membership: MembershipSnapshot;

beforeEach(async () => {
  cluster = await makeCluster();
  ({ store } = createLocalStore());
  const sealer = new SecretSealer(await rootCaKeyPem(cluster.rootCa), cluster.clusterId);
  await store.createObject('cluster', newClusterObject(cluster.clusterId, cluster.rootCa, sealer));
  await store.createObject('node', { ...newNodeObject('m1', 'manager', '10.0.0.1:4242'), managerStatus: { raftId: 1, addr: '10.0.0.1:4242', leader: false, reachability: 'unknown' } });
  await store.createObject('node', { ...newNodeObject('m2', 'manager', '10.0.0.2:4242'), managerStatus: { raftId: 2, addr: '10.0.0.2:4242', leader: false, reachability: 'unknown' } });
  await store.createObject('node', newNodeObject('w1', 'worker', '10.0.0.3:4242'));
  membership = { selfId: 1, leaderId: 1, voters: [1, 2], learners: [], reachable: new Set([1, 2]), addresses: new Map() };
  handlers = new ControlHandlers({ store, rootCa: cluster.rootCa, sealer, membership: () => membership, version: { version: 't', runtime: 'node' } });
});

describe('control API handlers', () => {
  it('shows manager status as raft sees it now: the leader flagged, silent members unreachable', async () => {
    membership = { ...membership, reachable: new Set([1]) };
    const { nodes } = await handlers.listNodes();
    const byId = new Map(nodes.map((n) => [n.id, n.managerStatus]));
    expect(byId.get('m1')).toMatchObject({ leader: true, reachability: 'reachable' });
    expect(byId.get('m2')).toMatchObject({ leader: false, reachability: 'unreachable' });
    expect(byId.get('w1')).toBeUndefined();
  });

  it('refuses an update that carries a stale version', async () => {
    const { node } = await handlers.getNode({ nodeId: 'w1' });
    await handlers.updateNode({ nodeId: 'w1', version: node.meta.version, spec: { ...node.spec, availability: 'drain' } });
    await expect(handlers.updateNode({ nodeId: 'w1', version: node.meta.version, spec: { ...node.spec, availability: 'pause' } })).rejects.toMatchObject({ code: 'Conflict' });
    expect(store.get('node', 'w1')?.spec.availability).toBe('drain');
  });

  it('refuses demoting a manager when the other would be left without quorum', async () => {
    membership = { ...membership, reachable: new Set([2]) };
    const { node } = await handlers.getNode({ nodeId: 'm2' });
    await expect(handlers.updateNode({ nodeId: 'm2', version: node.meta.version, spec: { ...node.spec, role: 'worker' } })).rejects.toMatchObject({
      code: 'FailedPrecondition',
      message: 'cannot demote node m2: the 1 remaining managers would need 1 reachable for a quorum, and only 0 are',
    });
  });

  it('removes only down workers unless forced, and never managers', async () => {
    await expect(handlers.removeNode({ nodeId: 'm2', force: true })).rejects.toMatchObject({ code: 'FailedPrecondition' });
    const w1 = store.get('node', 'w1');
    if (w1 === undefined) throw new Error('missing');
    await store.updateObject('node', { ...w1, status: { ...w1.status, state: 'ready' } });
    await expect(handlers.removeNode({ nodeId: 'w1', force: false })).rejects.toThrow('is not down');
    await handlers.removeNode({ nodeId: 'w1', force: true });
    expect(store.get('node', 'w1')).toBeUndefined();
    await expect(handlers.removeNode({ nodeId: 'w1', force: true })).rejects.toMatchObject({ code: 'NotFound' });
  });

  it('shows tokens in clear, rotates one at a time, and keeps the store sealed', async () => {
    const { cluster: before } = await handlers.getCluster({ clusterId: cluster.clusterId });
    expect(before.rootCa.joinTokens.worker).toMatch(/^SWMTKN-1-/);
    const { cluster: after } = await handlers.updateCluster({ clusterId: cluster.clusterId, version: before.meta.version, spec: before.spec, rotateManagerToken: true });
    expect(after.rootCa.joinTokens.worker).toBe(before.rootCa.joinTokens.worker);
    expect(after.rootCa.joinTokens.manager).not.toBe(before.rootCa.joinTokens.manager);
    expect(JSON.stringify(store.get('cluster', cluster.clusterId))).not.toContain('SWMTKN');
    await expect(handlers.updateCluster({ clusterId: cluster.clusterId, version: after.meta.version, spec: { ...after.spec, name: 'renamed' } })).rejects.toMatchObject({ code: 'InvalidArgument' });
  });
});
