/** Every task in the cluster, filtered by service, node, desired state and state. */
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import { useMemo, useState } from 'react';
import { TASK_STATES } from '../../../agent/api/objects';
import { Page, PageHeader } from '../components/PageHeader';
import { VirtualTable } from '../components/VirtualTable';
import { lazyComponent, WhenFirstOpen } from '../components/lazy';
import { SelectInput } from '../forms/fields';
import { nodeName, stateName, taskName } from '../format';
import { useNodeNames, useNodes, useNow, useServices, useTaskRows, useTasks } from '../store/hooks';
import { NO_TASK_FILTER, type TaskFilter } from '../store/task-filter';
import { taskColumns } from './task-columns';

const TaskDrawer = lazyComponent(() => import('./TaskDrawer').then((m) => m.TaskDrawer));

const STATE_OPTIONS: readonly (readonly [string, string])[] = [['', 'Any'], ...TASK_STATES.map((state): [string, string] => [String(state), stateName(state)])];

export function TasksPage({ initial }: { initial: Partial<TaskFilter> }) {
  const [filter, setFilter] = useState<TaskFilter>({ ...NO_TASK_FILTER, ...initial });
  const [openTask, setOpenTask] = useState<string | undefined>();
  const tasks = useTasks();
  const services = useServices();
  const nodes = useNodes();
  const nodeNames = useNodeNames();
  const now = useNow();
  const rows = useTaskRows(tasks, filter);
  const columns = useMemo(() => taskColumns(nodeNames, (task) => setOpenTask(task.id), now), [nodeNames, now]);
  const serviceOptions = useMemo(
    () => [['', 'All services'] as [string, string], ...[...services.values()].sort((a, b) => a.spec.name.localeCompare(b.spec.name)).map((service): [string, string] => [service.id, service.spec.name])],
    [services],
  );
  const nodeOptions = useMemo(() => [['', 'All nodes'] as [string, string], ...[...nodes.values()].sort((a, b) => nodeName(a).localeCompare(nodeName(b))).map((node): [string, string] => [node.id, nodeName(node)])], [nodes]);
  const set = (change: Partial<TaskFilter>) => setFilter((current) => ({ ...current, ...change }));
  const filtered = filter.serviceId !== '' || filter.nodeId !== '' || filter.desiredState !== '' || filter.state !== '';

  return (
    <Page label="Tasks">
      <PageHeader title="Tasks" subtitle={`${rows.length} of ${tasks.size} tasks`} />
      <Box role="search" aria-label="Filter tasks" sx={{ display: 'grid', gridTemplateColumns: { xs: '1fr 1fr', md: '1fr 1fr 1fr 1fr auto' }, gap: 1.5, alignItems: 'center', mb: 1 }}>
        <SelectInput label="Service" value={filter.serviceId} options={serviceOptions} onChange={(serviceId) => set({ serviceId })} />
        <SelectInput label="Node" value={filter.nodeId} options={nodeOptions} onChange={(nodeId) => set({ nodeId })} />
        <SelectInput label="Desired state" value={filter.desiredState} options={STATE_OPTIONS} onChange={(desiredState) => set({ desiredState })} />
        <SelectInput label="State" value={filter.state} options={STATE_OPTIONS} onChange={(state) => set({ state })} />
        <Button onClick={() => setFilter(NO_TASK_FILTER)} disabled={!filtered}>
          Clear filters
        </Button>
      </Box>
      <VirtualTable label="Tasks" testId="tasks-table" rows={rows} columns={columns} rowKey={(task) => task.id} rowName={taskName} emptyText={filtered ? 'No task matches these filters.' : 'No tasks yet.'} minWidth={1100} />
      <WhenFirstOpen when={openTask !== undefined}>
        <TaskDrawer taskId={openTask} onClose={() => setOpenTask(undefined)} onSelect={setOpenTask} />
      </WhenFirstOpen>
    </Page>
  );
}
