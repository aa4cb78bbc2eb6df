/** Every node of the cluster; a node's details and actions open in a side drawer. */
import { useMemo } from 'react';
import type { NodeView } from '../../../electron/contract';
import { Page, PageHeader } from '../components/PageHeader';
import { RowLink, TextChip } from '../components/StateChip';
import { VirtualTable, type Column } from '../components/VirtualTable';
import { lazyComponent, WhenFirstOpen } from '../components/lazy';
import { formatBytes, formatCpus, managerStatusText, nodeAddress, nodeName, shortId } from '../format';
import { useNodes } from '../store/hooks';
import { navigate } from '../store/router';

const NodeDrawer = lazyComponent(() => import('./NodeDrawer').then((m) => m.NodeDrawer));

const COLUMNS: readonly Column<NodeView>[] = [
  {
    key: 'hostname',
    header: 'Hostname',
    width: 'minmax(140px, 2fr)',
    render: (node) => <RowLink onClick={() => navigate({ page: 'nodes', nodeId: node.id })}>{nodeName(node)}</RowLink>,
  },
  { key: 'id', header: 'ID', width: '120px', render: (node) => <span className="sd-mono" title={node.id}>{shortId(node.id)}</span> },
  // Wide enough for a role change under way ("manager → worker", ~150 px in DejaVu Sans), not just a role.
  { key: 'role', header: 'Role', width: '160px', render: (node) => (node.spec.role !== node.role ? `${node.role} → ${node.spec.role}` : node.role) },
  { key: 'status', header: 'Status', width: '110px', render: (node) => <TextChip text={node.status.state} /> },
  { key: 'availability', header: 'Availability', width: '110px', render: (node) => <TextChip text={node.spec.availability} /> },
  { key: 'manager', header: 'Manager status', width: '130px', render: (node) => <TextChip text={managerStatusText(node)} /> },
  { key: 'address', header: 'Address', width: 'minmax(120px, 1fr)', render: (node) => nodeAddress(node) },
  { key: 'engine', header: 'Engine', width: '90px', render: (node) => node.description?.engine?.version ?? '' },
  {
    key: 'resources',
    header: 'CPU / memory',
    width: '130px',
    render: (node) => (node.description ? `${formatCpus(node.description.resources.nanoCpus)} / ${formatBytes(node.description.resources.memoryBytes)}` : ''),
  },
  { key: 'tasks', header: 'Tasks', width: '70px', render: (node) => node.taskCount },
];

/** The columns' smallest widths added up: below it the table scrolls sideways rather than squeeze them. */
const MIN_WIDTH = 1180;

export function NodesPage({ nodeId }: { nodeId: string | undefined }) {
  const nodes = useNodes();
  const rows = useMemo(() => [...nodes.values()].sort((a, b) => nodeName(a).localeCompare(nodeName(b)) || a.id.localeCompare(b.id)), [nodes]);
  return (
    <Page label="Nodes">
      <PageHeader title="Nodes" subtitle={`${rows.length} node${rows.length === 1 ? '' : 's'}`} />
      <VirtualTable label="Nodes" testId="nodes-table" rows={rows} columns={COLUMNS} rowKey={(node) => node.id} rowName={nodeName} emptyText="No nodes yet." selectedKey={nodeId} minWidth={MIN_WIDTH} />
      <WhenFirstOpen when={nodeId !== undefined}>
        <NodeDrawer nodeId={nodeId} onClose={() => navigate({ page: 'nodes' })} />
      </WhenFirstOpen>
    </Page>
  );
}
