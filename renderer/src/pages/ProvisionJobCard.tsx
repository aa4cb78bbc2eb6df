/** One provisioning job on the Machines page: its progress, Cancel while it runs, Retry or Dismiss after. */
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Card from '@mui/material/Card';
import CardActions from '@mui/material/CardActions';
import CardContent from '@mui/material/CardContent';
import Typography from '@mui/material/Typography';
import { useState } from 'react';
import { useNotify } from '../components/Notifier';
import { TextChip } from '../components/StateChip';
import { cancelJob, dismissJob, retryJob } from '../store/machines-sync';
import { jobPhase, jobTitle, type JobEntry } from '../store/provision-jobs';
import { JobProgress } from './JobProgress';

export function ProvisionJobCard({ entry }: { entry: JobEntry }) {
  const { view } = entry;
  const phase = jobPhase(view);
  const title = jobTitle(view);
  const notify = useNotify();
  const [cancelling, setCancelling] = useState(false);
  const [busy, setBusy] = useState(false);
  // A host key or Docker consent is answered in its own dialog; a plain retry would only fail the same way.
  const waitsOnUser = view.outcome !== undefined && !view.outcome.ok && (view.outcome.error.code === 'host-key-unknown' || view.outcome.error.code === 'consent-required') && !entry.answered;

  const cancel = async () => {
    setCancelling(true);
    try {
      await cancelJob(view.jobId);
    } catch (err) {
      setCancelling(false);
      notify.error(`Could not cancel: ${title}`, err);
    }
  };
  const retry = async () => {
    setBusy(true);
    try {
      await retryJob(view.jobId);
    } catch (err) {
      notify.error(`Could not start again: ${title}`, err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Card variant="outlined" component="section" aria-label={title} data-testid="provision-job" data-phase={phase}>
      <CardContent sx={{ pb: 1 }}>
        <Box sx={{ display: 'flex', alignItems: 'center', gap: 1, mb: 1 }}>
          <Typography variant="subtitle1" component="h3" sx={{ flex: 1, overflowWrap: 'anywhere' }}>
            {title}
          </Typography>
          <TextChip text={phase} />
        </Box>
        <JobProgress view={view} />
      </CardContent>
      <CardActions>
        {phase === 'running' && (
          <Button color="warning" onClick={() => void cancel()} disabled={cancelling}>
            {cancelling ? 'Cancelling…' : 'Cancel'}
          </Button>
        )}
        {phase !== 'running' && phase !== 'done' && entry.request !== undefined && !waitsOnUser && (
          <Button onClick={() => void retry()} disabled={busy}>
            Retry
          </Button>
        )}
        {phase !== 'running' && <Button onClick={() => dismissJob(view.jobId)}>Dismiss</Button>}
      </CardActions>
    </Card>
  );
}
