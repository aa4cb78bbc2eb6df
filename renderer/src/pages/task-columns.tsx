/** The task table's columns, shared by the Tasks page and the service page. */
import type { Task } from '../../../electron/contract';
import { RowLink, TaskStateChip } from '../components/StateChip';
import type { Column } from '../components/VirtualTable';
import { shortId, stateName, taskName, since } from '../format';

export function taskColumns(nodeNames: ReadonlyMap<string, string>, open: (task: Task) => void, now: Date): Column<Task>[] {
  return [
    {
      key: 'name',
      header: 'Task',
      width: 'minmax(140px, 1.5fr)',
      render: (task) => <RowLink onClick={() => open(task)}>{taskName(task)}</RowLink>,
    },
    { key: 'id', header: 'ID', width: '120px', render: (task) => <span className="sd-mono" title={task.id}>{shortId(task.id)}</span> },
    { key: 'state', header: 'State', width: '120px', render: (task) => <TaskStateChip state={task.status.state} /> },
    { key: 'desired', header: 'Desired', width: '100px', render: (task) => stateName(task.desiredState) },
    { key: 'since', header: 'Since', width: '120px', render: (task) => since(task.status.timestamp, now) },
    { key: 'node', header: 'Node', width: 'minmax(110px, 1fr)', render: (task) => (task.nodeId ? (nodeNames.get(task.nodeId) ?? shortId(task.nodeId)) : '') },
    { key: 'slot', header: 'Slot', width: '60px', render: (task) => (task.slot > 0 ? task.slot : '') },
    { key: 'version', header: 'Spec', width: '60px', render: (task) => (task.specVersion !== undefined ? `v${task.specVersion}` : '') },
    {
      key: 'message',
      header: 'Message / error',
      width: 'minmax(160px, 2fr)',
      render: (task) => <span title={task.status.err || task.status.message}>{task.status.err || task.status.message}</span>,
    },
  ];
}
