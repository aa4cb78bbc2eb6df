/**
 * One provisioning job as it happens: every step with its state and result, the remote output under
 * the step that printed it (open while the step runs or when it failed), and the outcome with its
 * reason. Used by the job cards and inside the Add machine dialog (Test connection).
 */
import Alert from '@mui/material/Alert';
import AlertTitle from '@mui/material/AlertTitle';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import CircularProgress from '@mui/material/CircularProgress';
import Typography from '@mui/material/Typography';
import { useMemo, useState } from 'react';
import type { ProvisionJobView, ProvisionStepState } from '../../../electron/contract';
import { TextChip } from '../components/StateChip';

const STATUS_TEXT: Readonly<Record<ProvisionStepState['status'], string>> = { running: 'running', ok: 'ok', failed: 'failed', skipped: 'skipped' };

function StepRow({ step, lines, saidBelow }: { step: ProvisionStepState; lines: readonly string[]; saidBelow: boolean }) {
  const [open, setOpen] = useState<boolean | undefined>(undefined);
  // Open by default while the step runs or once it failed; the user's choice wins.
  const shown = open ?? (step.status === 'running' || step.status === 'failed');
  return (
    <Box component="li" aria-label={step.title} data-step={step.id} data-status={step.status} sx={{ py: 0.5, borderBottom: 1, borderColor: 'divider' }}>
      <Box sx={{ display: 'grid', gridTemplateColumns: '90px 1fr auto', gap: 1, alignItems: 'center' }}>
        <Box sx={{ display: 'flex', alignItems: 'center', gap: 0.5 }}>
          {step.status === 'running' && <CircularProgress size={12} aria-hidden />}
          <TextChip text={STATUS_TEXT[step.status]} />
        </Box>
        <Box sx={{ minWidth: 0 }}>
          <Typography variant="body2">{step.title}</Typography>
          {step.message && !saidBelow && (
            <Typography variant="body2" color={step.status === 'failed' ? 'error' : 'text.secondary'} data-testid="step-message" sx={{ overflowWrap: 'anywhere' }}>
              {step.message}
            </Typography>
          )}
        </Box>
        {lines.length > 0 && (
          <Button size="small" onClick={() => setOpen(!shown)} aria-expanded={shown}>
            {shown ? 'Hide output' : `Output (${lines.length})`}
          </Button>
        )}
      </Box>
      {shown && lines.length > 0 && (
        <Box
          component="pre"
          aria-label={`Output of ${step.title}`}
          sx={{ m: 0, mt: 0.5, p: 1, maxHeight: 200, overflow: 'auto', fontSize: '0.75rem', bgcolor: 'action.hover', borderRadius: 1, whiteSpace: 'pre-wrap', overflowWrap: 'anywhere' }}
        >
          {lines.join('\n')}
        </Box>
      )}
    </Box>
  );
}

export function JobOutcome({ view }: { view: ProvisionJobView }) {
  const outcome = view.outcome;
  if (outcome === undefined) return null;
  if (outcome.ok) {
    return (
      <Alert severity="success" role="status" data-testid="job-outcome">
        {outcome.message}
      </Alert>
    );
  }
  const { code, message } = outcome.error;
  const titles: Partial<Record<typeof code, string>> = {
    'host-key-mismatch': 'Refused: the host key has changed',
    'host-key-unknown': 'First connection: the host key must be trusted',
    'consent-required': 'Docker is missing',
    cancelled: 'Cancelled',
    'auth-failed': 'Login refused',
  };
  return (
    <Alert severity={code === 'cancelled' ? 'warning' : code === 'host-key-unknown' || code === 'consent-required' ? 'info' : 'error'} role="alert" data-testid="job-outcome" sx={{ overflowWrap: 'anywhere' }}>
      <AlertTitle>{titles[code] ?? `Failed (${code})`}</AlertTitle>
      {message}
    </Alert>
  );
}

export function JobProgress({ view }: { view: ProvisionJobView }) {
  const byStep = useMemo(() => {
    const map = new Map<string, string[]>();
    for (const { step, line } of view.output) {
      const lines = map.get(step);
      if (lines === undefined) map.set(step, [line]);
      else lines.push(line);
    }
    return map;
  }, [view.output]);
  // The failed step's reason is the outcome's: said once, in the outcome below.
  const failure = view.outcome !== undefined && !view.outcome.ok ? view.outcome.error.message : undefined;
  return (
    <Box sx={{ display: 'grid', gap: 1 }}>
      <Box component="ol" aria-label="Steps" sx={{ listStyle: 'none', p: 0, m: 0 }}>
        {view.steps.map((step) => (
          <StepRow key={step.id} step={step} lines={byStep.get(step.id) ?? []} saidBelow={step.status === 'failed' && step.message === failure} />
        ))}
      </Box>
      {view.steps.length === 0 && view.outcome === undefined && (
        <Typography variant="body2" color="text.secondary">
          Starting…
        </Typography>
      )}
      <JobOutcome view={view} />
    </Box>
  );
}
