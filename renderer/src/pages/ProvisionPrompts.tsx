/**
 * Questions a provisioning job stops to ask, shown over whatever page is open: trust a host key seen
 * for the first time (its SHA-256 fingerprint, to compare with what the machine itself shows), or
 * install Docker where it is missing. Answering yes starts the job again with the answer; no leaves
 * the job failed with its reason on its card.
 */
import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Dialog from '@mui/material/Dialog';
import DialogActions from '@mui/material/DialogActions';
import DialogContent from '@mui/material/DialogContent';
import DialogContentText from '@mui/material/DialogContentText';
import DialogTitle from '@mui/material/DialogTitle';
import { useId, useState } from 'react';
import { errorMessage } from '../format';
import { answerPrompt, retryJob, useJobs, usePendingPrompt } from '../store/machines-sync';

/** The name sshd gives the host key file of a key type (ssh_host_<kind>_key). */
function keyFileKind(type: string | undefined): string {
  if (type === undefined || type === 'ssh-ed25519') return 'ed25519';
  if (type.startsWith('ecdsa-')) return 'ecdsa';
  return 'rsa';
}

export function ProvisionPrompts() {
  const prompt = usePendingPrompt();
  const jobs = useJobs();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const titleId = useId();
  const entry = prompt === undefined ? undefined : jobs.get(prompt.jobId);
  const outcome = entry?.view.outcome;
  if (prompt === undefined || entry === undefined || outcome === undefined || outcome.ok) return null;
  const machine = entry.request?.machine;
  const where = machine === undefined ? entry.view.machine : `${machine.host}:${machine.port ?? 22}`;
  const hostKey = outcome.error.hostKey;

  const decline = () => {
    setError(undefined);
    answerPrompt(prompt.jobId);
  };
  const accept = async () => {
    setBusy(true);
    setError(undefined);
    try {
      await retryJob(prompt.jobId, prompt.kind === 'host-key' ? { trustFingerprint: hostKey?.fingerprint } : { installDocker: true });
      answerPrompt(prompt.jobId);
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Dialog open onClose={() => !busy && decline()} aria-labelledby={titleId} maxWidth="sm" fullWidth>
      {prompt.kind === 'host-key' ? (
        <>
          <DialogTitle id={titleId}>{`Trust the host key of ${where}?`}</DialogTitle>
          <DialogContent>
            <DialogContentText component="div">
              {`swarmdesk has not connected to ${where} before. Trust its key only if this fingerprint is the one the machine itself shows (run ssh-keygen -lf /etc/ssh/ssh_host_${keyFileKind(hostKey?.type)}_key.pub on it). swarmdesk remembers it and refuses to connect if it ever changes.`}
            </DialogContentText>
            <Box sx={{ mt: 2, display: 'grid', gridTemplateColumns: 'auto 1fr', columnGap: 2, rowGap: 0.5 }}>
              <span>Key type</span>
              <code data-testid="host-key-type">{hostKey?.type ?? 'unknown'}</code>
              <span>SHA-256 fingerprint</span>
              <Box component="code" data-testid="host-key-fingerprint" sx={{ overflowWrap: 'anywhere', fontWeight: 600 }}>
                {hostKey?.fingerprint ?? ''}
              </Box>
            </Box>
          </DialogContent>
        </>
      ) : (
        <>
          <DialogTitle id={titleId}>{`Install Docker on ${where}?`}</DialogTitle>
          <DialogContent>
            <DialogContentText component="div">{outcome.error.message}</DialogContentText>
            <DialogContentText sx={{ mt: 1 }}>swarmdesk installs the distribution&apos;s docker.io package with apt-get, then goes on.</DialogContentText>
          </DialogContent>
        </>
      )}
      {error && (
        <Alert severity="error" role="alert" sx={{ mx: 3 }}>
          {error}
        </Alert>
      )}
      <DialogActions>
        <Button onClick={decline} disabled={busy}>
          {prompt.kind === 'host-key' ? "Don't trust" : 'Not now'}
        </Button>
        <Button variant="contained" onClick={() => void accept()} disabled={busy}>
          {prompt.kind === 'host-key' ? 'Trust and continue' : 'Install Docker and continue'}
        </Button>
      </DialogActions>
    </Dialog>
  );
}
