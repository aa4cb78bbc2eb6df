/**
 * What a session message is made of, read from store objects: the heartbeat period (cluster spec) and
 * the managers nodes may connect to (manager nodes with a known address). Pure functions, so the
 * dispatcher can apply them both to a full view and to single watch events.
 */
import { DEFAULT_HEARTBEAT_PERIOD_MS, type ManagerPeer } from '../../api/dispatcher';
import type { Cluster, Node } from '../../api/objects';
import type { ReadTx } from '../../store';

export function heartbeatPeriodOf(cluster: Cluster | undefined): number {
  const period = cluster?.spec.dispatcher?.heartbeatPeriodMs;
  // The control API validates the period; a zero or junk value from an older entry falls back.
  return typeof period === 'number' && Number.isFinite(period) && period > 0 ? period : DEFAULT_HEARTBEAT_PERIOD_MS;
}

/** The cluster whose settings apply: swarmdesk has exactly one ("default"); the first by ID otherwise. */
export function clusterOf(tx: ReadTx): Cluster | undefined {
  return tx.getByName('cluster', 'default') ?? tx.list('cluster')[0];
}

/**
 * A node is offered to others as a manager once it is one (current role) and its Raft address is known.
 * Reachability is not filtered on: nodes try managers in turn and a follower redirects them anyway.
 */
export function managerPeerOf(node: Node): ManagerPeer | undefined {
  const addr = node.managerStatus?.addr;
  if (node.role !== 'manager' || addr === undefined || addr === '') return undefined;
  return { nodeId: node.id, addr };
}

export function managersOf(tx: ReadTx): Map<string, string> {
  const managers = new Map<string, string>();
  for (const node of tx.find('node', 'role', 'manager')) {
    const peer = managerPeerOf(node);
    if (peer !== undefined) managers.set(peer.nodeId, peer.addr);
  }
  return managers;
}

export function sortedPeers(managers: ReadonlyMap<string, string>): ManagerPeer[] {
  return [...managers].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([nodeId, addr]) => ({ nodeId, addr }));
}
