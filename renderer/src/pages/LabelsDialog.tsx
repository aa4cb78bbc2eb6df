/**
 * Edit a node's labels as key/value rows; keys are checked with the control API's label rules. Mounted
 * only while open, so it starts from the node's labels each time.
 */
import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Dialog from '@mui/material/Dialog';
import DialogActions from '@mui/material/DialogActions';
import DialogContent from '@mui/material/DialogContent';
import DialogTitle from '@mui/material/DialogTitle';
import TextField from '@mui/material/TextField';
import { useState } from 'react';
import type { NodeView } from '../../../electron/contract';
import { fieldErrorMap, labelsSchema } from '../../../agent/api/service-spec';
import { swarmdesk } from '../api';
import { useNotify } from '../components/Notifier';
import { errorMessage, nodeName } from '../format';

interface Row {
  key: string;
  value: string;
}

function rowsOf(labels: Readonly<Record<string, string>>): Row[] {
  return Object.entries(labels)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, value]) => ({ key, value }));
}

export function LabelsDialog({ open, node, onClose }: { open: boolean; node: NodeView; onClose(): void }) {
  const [rows, setRows] = useState<Row[]>(() => rowsOf(node.spec.labels));
  const [errors, setErrors] = useState<Record<number, string>>({});
  const [formError, setFormError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const notify = useNotify();

  const update = (index: number, change: Partial<Row>) => setRows((current) => current.map((row, at) => (at === index ? { ...row, ...change } : row)));

  const save = async () => {
    const found: Record<number, string> = {};
    const labels: Record<string, string> = {};
    rows.forEach((row, index) => {
      const key = row.key.trim();
      if (key === '' && row.value === '') return;
      if (key in labels) found[index] = `"${key}" is given twice`;
      const checked = labelsSchema.safeParse({ [key]: row.value }, { error: fieldErrorMap });
      if (!checked.success) found[index] = checked.error.issues[0]?.message ?? 'invalid label';
      labels[key] = row.value;
    });
    setErrors(found);
    if (Object.keys(found).length > 0) return;
    setBusy(true);
    try {
      await swarmdesk.setNodeLabels({ nodeId: node.id, labels });
      notify.success(`Labels of ${nodeName(node)} saved`);
      onClose();
    } catch (err) {
      setFormError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Dialog open={open} onClose={() => !busy && onClose()} maxWidth="sm" fullWidth aria-labelledby="labels-dialog-title">
      <DialogTitle id="labels-dialog-title">{`Labels of ${nodeName(node)}`}</DialogTitle>
      <DialogContent>
        <Box sx={{ display: 'grid', gap: 1, pt: 1 }}>
          {rows.map((row, index) => (
            <Box key={index} sx={{ display: 'grid', gridTemplateColumns: '1fr 1fr auto', gap: 1, alignItems: 'start' }}>
              <TextField
                size="small"
                label={`Label key ${index + 1}`}
                value={row.key}
                onChange={(event) => update(index, { key: event.target.value })}
                error={errors[index] !== undefined}
                helperText={errors[index]}
              />
              <TextField size="small" label={`Label value ${index + 1}`} value={row.value} onChange={(event) => update(index, { value: event.target.value })} />
              <Button onClick={() => setRows((current) => current.filter((_, at) => at !== index))} aria-label={`Remove label row ${index + 1}`}>
                Remove
              </Button>
            </Box>
          ))}
          <Box>
            <Button onClick={() => setRows((current) => [...current, { key: '', value: '' }])}>Add label</Button>
          </Box>
          {formError && (
            <Alert severity="error" role="alert">
              {formError}
            </Alert>
          )}
        </Box>
      </DialogContent>
      <DialogActions>
        <Button onClick={onClose} disabled={busy}>
          Cancel
        </Button>
        <Button variant="contained" onClick={() => void save()} disabled={busy}>
          Save labels
        </Button>
      </DialogActions>
    </Dialog>
  );
}
