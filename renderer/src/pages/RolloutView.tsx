/** A rolling update as it happens: the update status, and the service's tasks by spec version and state. */
import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Chip from '@mui/material/Chip';
import LinearProgress from '@mui/material/LinearProgress';
import Paper from '@mui/material/Paper';
import Typography from '@mui/material/Typography';
import { useMemo } from 'react';
import type { ServiceView } from '../../../electron/contract';
import { TextChip } from '../components/StateChip';
import { since } from '../format';
import { useNow, useTasks } from '../store/hooks';
import { rolloutProgress } from '../store/rollout';

export function RolloutView({ service }: { service: ServiceView }) {
  const tasks = useTasks();
  const now = useNow(5000);
  const progress = useMemo(() => rolloutProgress(service, tasks.values()), [service, tasks]);
  const status = service.status.updateStatus;
  const percent = progress.desired === 0 ? 100 : Math.min(100, Math.round((progress.updatedRunning / progress.desired) * 100));
  const paused = status?.state === 'paused' || status?.state === 'rollback_paused';
  return (
    <Box sx={{ overflow: 'auto' }} data-testid="rollout">
      <Paper variant="outlined" sx={{ p: 2, mb: 2 }} component="section" aria-label="Update status">
        <Box sx={{ display: 'flex', alignItems: 'center', gap: 1, mb: 1, flexWrap: 'wrap' }}>
          <Typography variant="subtitle1" component="h2">
            Update status
          </Typography>
          {status ? <TextChip text={status.state} /> : <Chip size="small" label="no update yet" variant="outlined" />}
          {status?.startedAt && (
            <Typography variant="body2" color="text.secondary">
              {`started ${since(status.startedAt, now)}`}
            </Typography>
          )}
          {status?.completedAt && (
            <Typography variant="body2" color="text.secondary">
              {`· completed ${since(status.completedAt, now)}`}
            </Typography>
          )}
        </Box>
        {status?.message && (
          <Alert severity={paused ? 'warning' : 'info'} sx={{ mb: 1 }} data-testid="update-message">
            {status.message}
          </Alert>
        )}
        <Typography variant="body2" sx={{ mb: 0.5 }} data-testid="rollout-summary">
          {`${progress.updatedRunning} of ${progress.desired} tasks running spec v${progress.specVersion}` + (progress.outdated > 0 ? `; ${progress.outdated} still on older specs` : '')}
        </Typography>
        <LinearProgress variant="determinate" value={percent} aria-label="Rolling update progress" color={paused ? 'warning' : 'primary'} />
      </Paper>
      <Paper variant="outlined" sx={{ p: 2 }} component="section" aria-label="Tasks by spec version">
        <Typography variant="subtitle1" component="h2" sx={{ mb: 1 }}>
          Tasks by spec version
        </Typography>
        {progress.groups.length === 0 && (
          <Typography variant="body2" color="text.secondary">
            No tasks are meant to run.
          </Typography>
        )}
        {progress.groups.map((group) => (
          <Box key={group.specVersion} role="group" aria-label={`Spec v${group.specVersion}`} sx={{ display: 'flex', alignItems: 'center', gap: 1, py: 0.5, flexWrap: 'wrap' }}>
            <Typography variant="body2" sx={{ width: 160, fontWeight: group.specVersion === progress.specVersion ? 600 : 400 }}>
              {`v${group.specVersion}${group.specVersion === progress.specVersion ? ' (current)' : ''}: ${group.total}`}
            </Typography>
            {group.states.map(([state, count]) => (
              <Chip key={state} size="small" variant="outlined" label={`${state} ${count}`} color={state === 'RUNNING' ? 'success' : state === 'FAILED' || state === 'REJECTED' ? 'error' : 'default'} />
            ))}
          </Box>
        ))}
      </Paper>
    </Box>
  );
}
