/** One task's details, and the history of its slot (the tasks that held it before). */
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Drawer from '@mui/material/Drawer';
import Typography from '@mui/material/Typography';
import { useMemo, type ReactNode } from 'react';
import type { Task } from '../../../electron/contract';
import { TaskStateChip } from '../components/StateChip';
import { portText, stateName, taskName, since } from '../format';
import { useNodeNames, useTasks } from '../store/hooks';

function Field({ label, children }: { label: string; children: ReactNode }) {
  return (
    <Box sx={{ display: 'grid', gridTemplateColumns: '130px 1fr', gap: 1, py: 0.25 }}>
      <Typography variant="body2" color="text.secondary">
        {label}
      </Typography>
      <Typography variant="body2" component="div" sx={{ overflowWrap: 'anywhere' }}>
        {children}
      </Typography>
    </Box>
  );
}

/** Earlier and later tasks of the same slot (replicated) or node (global), newest first. */
function slotHistory(task: Task, tasks: ReadonlyMap<string, Task>): Task[] {
  const same: Task[] = [];
  for (const other of tasks.values()) {
    if (other.serviceId !== task.serviceId) continue;
    if (task.slot > 0 ? other.slot === task.slot : other.slot === 0 && other.nodeId === task.nodeId) same.push(other);
  }
  return same.sort((a, b) => b.meta.createdAt.localeCompare(a.meta.createdAt));
}

export function TaskDrawer({ taskId, onClose, onSelect }: { taskId: string | undefined; onClose(): void; onSelect(taskId: string): void }) {
  const tasks = useTasks();
  const nodeNames = useNodeNames();
  const task = taskId === undefined ? undefined : tasks.get(taskId);
  const history = useMemo(() => (task ? slotHistory(task, tasks) : []), [task, tasks]);
  const now = new Date();
  return (
    <Drawer anchor="right" open={task !== undefined} onClose={onClose}>
      {task && (
        <Box sx={{ p: 2, width: { xs: '100vw', sm: 480 } }} role="region" aria-label={`Task ${taskName(task)}`} data-testid="task-details">
          <Typography variant="h6" component="h2">
            {taskName(task)}
          </Typography>
          <Typography variant="body2" color="text.secondary" sx={{ mb: 1 }}>
            <code>{task.id}</code>
          </Typography>
          <Field label="State">
            <TaskStateChip state={task.status.state} /> {task.status.message}
          </Field>
          <Field label="Desired state">{stateName(task.desiredState)}</Field>
          {task.status.err && <Field label="Error">{task.status.err}</Field>}
          <Field label="Since">{task.status.timestamp ? `${since(task.status.timestamp, now)} (${task.status.timestamp})` : ''}</Field>
          <Field label="Node">{task.nodeId ? (nodeNames.get(task.nodeId) ?? task.nodeId) : 'not assigned'}</Field>
          <Field label="Slot">{task.slot > 0 ? task.slot : 'global'}</Field>
          <Field label="Spec version">{task.specVersion ?? ''}</Field>
          <Field label="Image">{task.spec.container.image}</Field>
          {task.status.containerStatus && (
            <Field label="Container">{`${task.status.containerStatus.containerId.slice(0, 12)} · pid ${task.status.containerStatus.pid} · exit ${task.status.containerStatus.exitCode}`}</Field>
          )}
          {task.status.portStatus && task.status.portStatus.ports.length > 0 && <Field label="Ports">{task.status.portStatus.ports.map(portText).join(', ')}</Field>}
          <Field label="Created">{task.meta.createdAt}</Field>
          <Typography variant="subtitle2" component="h3" sx={{ mt: 2 }}>
            Slot history
          </Typography>
          <Box component="ol" aria-label="Slot history" sx={{ listStyle: 'none', p: 0, m: 0 }}>
            {history.map((entry) => (
              <Box component="li" key={entry.id} sx={{ display: 'flex', gap: 1, alignItems: 'center', py: 0.5, borderBottom: 1, borderColor: 'divider' }}>
                <TaskStateChip state={entry.status.state} />
                <Box sx={{ flex: 1, minWidth: 0 }}>
                  <Typography variant="body2" noWrap title={entry.status.err || entry.status.message}>
                    {entry.status.err || entry.status.message}
                  </Typography>
                  <Typography variant="caption" color="text.secondary">
                    {`${since(entry.status.timestamp, now)} · desired ${stateName(entry.desiredState)} · v${entry.specVersion ?? '?'}`}
                  </Typography>
                </Box>
                {entry.id !== task.id && (
                  <Button size="small" onClick={() => onSelect(entry.id)} aria-label={`Show task ${entry.id}`}>
                    Show
                  </Button>
                )}
              </Box>
            ))}
          </Box>
          <Button onClick={onClose} sx={{ mt: 2 }}>
            Close
          </Button>
        </Box>
      )}
    </Drawer>
  );
}
