/** Set a replicated service's replica count. */
import Alert from '@mui/material/Alert';
import Button from '@mui/material/Button';
import Dialog from '@mui/material/Dialog';
import DialogActions from '@mui/material/DialogActions';
import DialogContent from '@mui/material/DialogContent';
import DialogTitle from '@mui/material/DialogTitle';
import TextField from '@mui/material/TextField';
import { useState, type FormEvent } from 'react';
import type { ServiceView } from '../../../electron/contract';
import { swarmdesk } from '../api';
import { useNotify } from '../components/Notifier';
import { errorMessage } from '../format';

export function ScaleDialog({ service, onClose }: { service: ServiceView; onClose(): void }) {
  const [replicas, setReplicas] = useState(String(service.replicas.desired));
  const [fieldError, setFieldError] = useState<string | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const notify = useNotify();

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!/^\d+$/.test(replicas.trim())) {
      setFieldError('must be a whole number');
      return;
    }
    setFieldError(undefined);
    setBusy(true);
    try {
      await swarmdesk.scaleService({ serviceId: service.id, replicas: Number(replicas) });
      notify.success(`${service.spec.name} scaled to ${Number(replicas)}`);
      onClose();
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Dialog open onClose={() => !busy && onClose()} aria-labelledby="scale-title" slotProps={{ paper: { component: 'form', onSubmit: (event: FormEvent) => void submit(event), noValidate: true } as object }}>
      <DialogTitle id="scale-title">{`Scale ${service.spec.name}`}</DialogTitle>
      <DialogContent>
        <TextField
          label="Replicas"
          value={replicas}
          onChange={(event) => setReplicas(event.target.value)}
          error={fieldError !== undefined}
          helperText={fieldError ?? `${service.replicas.running} running now`}
          autoFocus
          margin="dense"
          slotProps={{ htmlInput: { inputMode: 'numeric' } }}
        />
        {error && (
          <Alert severity="error" role="alert" sx={{ mt: 1 }}>
            {error}
          </Alert>
        )}
      </DialogContent>
      <DialogActions>
        <Button onClick={onClose} disabled={busy}>
          Cancel
        </Button>
        <Button type="submit" variant="contained" disabled={busy}>
          Scale
        </Button>
      </DialogActions>
    </Dialog>
  );
}
