/** One service: its settings, its tasks (with history), the rolling update as it happens, and its logs. */
import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import FormControlLabel from '@mui/material/FormControlLabel';
import Switch from '@mui/material/Switch';
import Tab from '@mui/material/Tab';
import Tabs from '@mui/material/Tabs';
import { useMemo, useState } from 'react';
import { TaskState } from '../../../agent/api/objects';
import { Page, PageHeader } from '../components/PageHeader';
import { TextChip } from '../components/StateChip';
import { VirtualTable } from '../components/VirtualTable';
import { lazyComponent, PageSuspense, WhenFirstOpen } from '../components/lazy';
import { publishedPortsText, serviceModeText, taskName } from '../format';
import { useNodeNames, useNow, useService, useSyncPhase, useTaskRows, useTasks } from '../store/hooks';
import { serviceHealth } from '../store/overview';
import { navigate } from '../store/router';
import { NO_TASK_FILTER } from '../store/task-filter';
import { ServiceActions } from './ServiceActions';
import { taskColumns } from './task-columns';

const LogsPanel = lazyComponent(() => import('./LogsPanel').then((m) => m.LogsPanel));
const RolloutView = lazyComponent(() => import('./RolloutView').then((m) => m.RolloutView));
const TaskDrawer = lazyComponent(() => import('./TaskDrawer').then((m) => m.TaskDrawer));

type Section = 'tasks' | 'progress' | 'logs';

export function ServicePage({ serviceId, tab }: { serviceId: string; tab: Section | undefined }) {
  const service = useService(serviceId);
  const sync = useSyncPhase();
  const tasks = useTasks();
  const nodeNames = useNodeNames();
  const now = useNow();
  const [section, setSection] = useState<Section>(tab ?? 'tasks');
  const [history, setHistory] = useState(true);
  const [openTask, setOpenTask] = useState<string | undefined>();
  const filter = useMemo(() => ({ ...NO_TASK_FILTER, serviceId }), [serviceId]);
  const serviceTasks = useTaskRows(tasks, filter);
  const rows = useMemo(() => (history ? serviceTasks : serviceTasks.filter((task) => task.desiredState <= TaskState.RUNNING)), [serviceTasks, history]);
  const columns = useMemo(() => taskColumns(nodeNames, (task) => setOpenTask(task.id), now), [nodeNames, now]);

  if (service === undefined) {
    return (
      <Page label="Service">
        <Alert severity={sync === 'live' ? 'warning' : 'info'} action={<Button onClick={() => navigate({ page: 'services' })}>All services</Button>}>
          {sync === 'live' ? 'This service does not exist (any more).' : 'Loading…'}
        </Alert>
      </Page>
    );
  }

  const name = service.spec.name;
  return (
    <Page label={`Service ${name}`}>
      <PageHeader
        title={name}
        subtitle={
          <Box sx={{ display: 'flex', gap: 1, alignItems: 'center', flexWrap: 'wrap' }}>
            <span>{service.spec.task.container.image}</span>
            <span>·</span>
            <span>{serviceModeText(service)}</span>
            <span>·</span>
            <span data-testid="service-replicas">{`${service.replicas.running}/${service.replicas.desired} running`}</span>
            {/* While an update runs its state says more than the health does. */}
            {service.status.updateStatus && service.status.updateStatus.state !== 'completed' ? <TextChip text={service.status.updateStatus.state} /> : <TextChip text={serviceHealth(service)} />}
            {publishedPortsText(service) && <span>{`· ports ${publishedPortsText(service)}`}</span>}
          </Box>
        }
      >
        <Button onClick={() => navigate({ page: 'services' })}>All services</Button>
        <ServiceActions service={service} size="medium" />
      </PageHeader>
      <Tabs value={section} onChange={(_event, value: Section) => setSection(value)} aria-label={`Sections of ${name}`}>
        <Tab value="tasks" label="Service tasks" id="service-tab-tasks" aria-controls="service-panel" />
        <Tab value="progress" label="Rolling update" id="service-tab-progress" aria-controls="service-panel" />
        <Tab value="logs" label="Logs" id="service-tab-logs" aria-controls="service-panel" />
      </Tabs>
      <Box id="service-panel" role="tabpanel" aria-labelledby={`service-tab-${section}`} sx={{ display: 'flex', flexDirection: 'column', flex: 1, minHeight: 0, pt: 1 }}>
        {section === 'tasks' && (
          <>
            <FormControlLabel control={<Switch checked={history} onChange={(event) => setHistory(event.target.checked)} />} label="Show history" />
            <VirtualTable label={`Tasks of ${name}`} testId="service-tasks-table" rows={rows} columns={columns} rowKey={(task) => task.id} rowName={taskName} emptyText="No tasks." minWidth={1100} />
          </>
        )}
        <PageSuspense>
          {section === 'progress' && <RolloutView service={service} />}
          {section === 'logs' && <LogsPanel service={service} tasks={serviceTasks} />}
        </PageSuspense>
      </Box>
      <WhenFirstOpen when={openTask !== undefined}>
        <TaskDrawer taskId={openTask} onClose={() => setOpenTask(undefined)} onSelect={setOpenTask} />
      </WhenFirstOpen>
    </Page>
  );
}
