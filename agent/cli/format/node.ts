/** How swarmctl shows nodes: `node ls` (SwarmKit's columns) and `node inspect`. */
import type { Node } from '../../api/objects';
import { formatBytes } from './bytes';
import { field, formatFields, heading } from './fields';
import { formatTable } from './table';

export const NODE_LIST_HEADERS = ['ID', 'Name', 'Membership', 'Status', 'Availability', 'Manager Status'] as const;

/** The operator's name for the node, else its hostname. */
export function nodeName(node: Node): string {
  return node.spec.name !== undefined && node.spec.name !== '' ? node.spec.name : (node.description?.hostname ?? '');
}

/** REACHABLE, with ` *` for the leader; UNKNOWN for a manager that has no raft status yet; empty for workers. */
export function managerStatus(node: Node): string {
  if (node.managerStatus !== undefined) {
    const reachability = node.managerStatus.reachability.toUpperCase();
    return node.managerStatus.leader ? `${reachability} *` : reachability;
  }
  return node.role === 'manager' || node.spec.role === 'manager' ? 'UNKNOWN' : '';
}

export function nodeListRow(node: Node): string[] {
  return [
    node.id,
    nodeName(node),
    // swarmdesk admits nodes with a join token only, so every node in the store has been accepted.
    'ACCEPTED',
    node.status.state.toUpperCase(),
    node.spec.availability.toUpperCase(),
    managerStatus(node),
  ];
}

export function formatNodeList(nodes: readonly Node[]): string {
  return formatTable(NODE_LIST_HEADERS, nodes.map(nodeListRow));
}

export function formatNodeIds(nodes: readonly Node[]): string {
  return nodes.map((node) => `${node.id}\n`).join('');
}

export { formatBytes };

function formatLabels(labels: Readonly<Record<string, string>>): string {
  return Object.keys(labels)
    .sort()
    .map((key) => `${key}=${labels[key]}`)
    .join(' ');
}

function formatRole(node: Node): string {
  const role = node.role.toUpperCase();
  return node.spec.role === node.role ? role : `${role} (changing to ${node.spec.role.toUpperCase()})`;
}

/** After SwarmKit's printNodeSummary, plus the role (swarmdesk reconciles promotions in the background). */
export function formatNodeInspect(node: Node): string {
  const description = node.description;
  return formatFields([
    ...field('ID', node.id),
    ...field('Name', node.spec.name),
    ...field('Hostname', description?.hostname),
    ...field('Role', formatRole(node)),
    ...field('Node Labels', formatLabels(node.spec.labels)),
    ...heading('Status:'),
    ...field('  State', node.status.state.toUpperCase()),
    ...field('  Message', node.status.message),
    ...field('  Availability', node.spec.availability.toUpperCase()),
    ...field('  Address', node.status.addr),
    ...(node.managerStatus === undefined
      ? []
      : [
          ...heading('Manager status:'),
          ...field('  Address', node.managerStatus.addr),
          ...field('  Raft status', node.managerStatus.reachability.toUpperCase()),
          ...field('  Leader', node.managerStatus.leader ? 'yes' : 'no'),
        ]),
    ...(description === undefined
      ? []
      : [
          ...heading('Platform:'),
          ...field('  Operating System', description.platform.os),
          ...field('  Architecture', description.platform.arch),
          ...heading('Resources:'),
          ...field('  CPUs', String(description.resources.nanoCpus / 1e9)),
          ...field('  Memory', formatBytes(description.resources.memoryBytes)),
          ...field('Engine Version', description.engine?.version),
          ...field('Engine Labels', formatLabels(description.engine?.labels ?? {})),
        ]),
  ]);
}
