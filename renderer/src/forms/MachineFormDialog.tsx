/**
 * Add a machine reachable over SSH (or provision a known one again: an upgrade in place). "Test
 * connection" runs the connection and preflight checks here in the dialog and installs nothing; "Add
 * machine" starts the job and leaves its progress to the Machines page. The form is checked with the
 * main process's own rules before anything is sent; what the server still refuses comes back on the
 * field it names.
 */
import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Checkbox from '@mui/material/Checkbox';
import Dialog from '@mui/material/Dialog';
import DialogActions from '@mui/material/DialogActions';
import DialogContent from '@mui/material/DialogContent';
import DialogTitle from '@mui/material/DialogTitle';
import FormControlLabel from '@mui/material/FormControlLabel';
import Typography from '@mui/material/Typography';
import { useRef, useState, type FormEvent } from 'react';
import { useFocusFirstError } from './use-focus-first-error';
import type { KnownMachineView, ProvisionJobKind } from '../../../electron/contract';
import { machineKey } from '../../../electron/machine-input';
import { SwarmdeskError } from '../api';
import { useNotify } from '../components/Notifier';
import { errorMessage } from '../format';
import { JobProgress } from '../pages/JobProgress';
import { startJob, useLatestJob } from '../store/machines-sync';
import { jobPhase } from '../store/provision-jobs';
import { navigate } from '../store/router';
import { Grid, RowList, Section, SelectInput, TextInput } from './fields';
import { emptyMachineForm, fieldForServer, formFromMachine, formToInput, NOTHING_REMEMBERED, type MachineFieldErrors, type MachineFormValues } from './machine-form-model';

export interface MachineFormDialogProps {
  /** A known machine to provision again; absent to add a new one. */
  machine?: KnownMachineView;
  /** Whether remembered secrets survive a restart (the keychain) or only this run. */
  secretsPersistent: boolean;
  onClose(): void;
}

const AUTH_OPTIONS = [
  ['key', 'Private key file'],
  ['agent', 'ssh-agent'],
  ['password', 'Password'],
] as const;
const ROLE_OPTIONS = [
  ['worker', 'Worker'],
  ['manager', 'Manager'],
] as const;

/** Mounted only while open, so each opening starts from the machine as it is now. */
export function MachineFormDialog({ machine, secretsPersistent, onClose }: MachineFormDialogProps) {
  const [values, setValues] = useState<MachineFormValues>(() => (machine ? formFromMachine(machine) : emptyMachineForm()));
  const [errors, setErrors] = useState<MachineFieldErrors>({});
  const [formError, setFormError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const [testJobId, setTestJobId] = useState<string | undefined>();
  const testJob = useLatestJob(testJobId);
  const contentRef = useRef<HTMLDivElement>(null);
  const notify = useNotify();
  const remembered = machine?.remembered ?? NOTHING_REMEMBERED;
  const set = <K extends keyof MachineFormValues>(key: K, value: MachineFormValues[K]) => setValues((current) => ({ ...current, [key]: value }));

  const focusFirstError = useFocusFirstError(contentRef);

  const run = async (kind: ProvisionJobKind) => {
    const conversion = formToInput(values, remembered);
    setErrors(conversion.errors);
    setFormError(undefined);
    if (conversion.input === undefined) {
      focusFirstError();
      return;
    }
    setBusy(true);
    try {
      const jobId = await startJob({ kind, machine: conversion.input });
      if (kind === 'test') setTestJobId(jobId);
      else {
        notify.info(`${machine ? 'Provisioning' : 'Adding'} ${machineKey(conversion.input)}: its steps show on the Machines page`);
        navigate({ page: 'machines' });
        onClose();
      }
    } catch (err) {
      if (err instanceof SwarmdeskError && err.field !== undefined) {
        const field = fieldForServer(err.field, values);
        if (field !== '') {
          setErrors({ [field]: err.message.replace(/^[\w.]+: /, '') });
          focusFirstError();
        }
      }
      setFormError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  const secretHelp = (kind: 'password' | 'passphrase' | 'sudoPassword', otherwise?: string) => (remembered[kind] ? 'leave empty to use the remembered one' : otherwise);
  const testing = testJob !== undefined && jobPhase(testJob.view) === 'running';
  const title = machine ? `Provision ${machine.id} again` : 'Add a machine';
  return (
    <Dialog
      open
      onClose={() => !busy && onClose()}
      maxWidth="md"
      fullWidth
      scroll="paper"
      aria-labelledby="machine-form-title"
      slotProps={{ paper: { component: 'form', onSubmit: (event: FormEvent) => { event.preventDefault(); void run('add'); }, noValidate: true, 'data-testid': 'machine-form' } as object }}
    >
      <DialogTitle id="machine-form-title">{title}</DialogTitle>
      <DialogContent dividers ref={contentRef}>
        <Section title="Machine" description="A Linux machine (x86_64 or arm64) this computer reaches over SSH.">
          <Grid columns="2fr 1fr 1fr">
            <TextInput label="Host" value={values.host} onChange={(v) => set('host', v)} error={errors.host} help="host name or IP address" required autoFocus disabled={machine !== undefined} />
            <TextInput label="SSH port" value={values.port} onChange={(v) => set('port', v)} error={errors.port} numeric disabled={machine !== undefined} />
            <TextInput label="User" value={values.username} onChange={(v) => set('username', v)} error={errors.username} help="root, or a user with sudo" required disabled={machine !== undefined} />
          </Grid>
        </Section>
        <Section title="Login">
          <Grid columns="1fr 2fr">
            <SelectInput label="Authentication" value={values.authMethod} options={AUTH_OPTIONS} onChange={(v) => set('authMethod', v)} error={errors.authMethod} />
            {values.authMethod === 'key' && (
              <TextInput label="Private key file" value={values.keyPath} onChange={(v) => set('keyPath', v)} error={errors.keyPath} help="ed25519, ECDSA or RSA; a path on this computer" required />
            )}
            {values.authMethod === 'password' && (
              <TextInput label="Password" type="password" value={values.password} onChange={(v) => set('password', v)} error={errors.password} help={secretHelp('password')} required={!remembered.password} />
            )}
            {values.authMethod === 'agent' && <Typography variant="body2" color="text.secondary" sx={{ alignSelf: 'center' }}>The keys of the ssh-agent this app was started with (SSH_AUTH_SOCK).</Typography>}
          </Grid>
          <Grid columns="1fr 1fr">
            {values.authMethod === 'key' && (
              <TextInput label="Key passphrase" type="password" value={values.passphrase} onChange={(v) => set('passphrase', v)} error={errors.passphrase} help={secretHelp('passphrase', 'only if the key is encrypted')} />
            )}
            {values.username.trim() !== 'root' && (
              <TextInput label="Sudo password" type="password" value={values.sudoPassword} onChange={(v) => set('sudoPassword', v)} error={errors.sudoPassword} help={secretHelp('sudoPassword', 'if sudo asks for one other than the login password')} />
            )}
          </Grid>
          {values.authMethod !== 'agent' && (
            <FormControlLabel
              control={<Checkbox checked={values.remember} onChange={(event) => set('remember', event.target.checked)} />}
              label={
                secretsPersistent
                  ? 'Remember the password and passphrase (encrypted with the system keychain)'
                  : 'Remember the password and passphrase until swarmdesk stops (there is no keychain here: never written to disk)'
              }
            />
          )}
        </Section>
        <Section title="In the cluster">
          <Grid columns="1fr 2fr">
            <SelectInput label="Role" value={values.role} options={ROLE_OPTIONS} onChange={(v) => set('role', v)} error={errors.role} />
            <TextInput
              label="Manager address (optional)"
              value={values.managerHost}
              onChange={(v) => set('managerHost', v)}
              error={errors.managerHost}
              help="how the machine reaches this computer; default: the address this computer reached it from"
            />
          </Grid>
          <Typography variant="body2" color="text.secondary" sx={{ mb: 1 }}>
            Node labels
          </Typography>
          <RowList
            rows={values.labels}
            columns="1fr 1fr"
            addLabel="Add label"
            removeLabel={(index) => `Remove label ${index + 1}`}
            onAdd={() => set('labels', [...values.labels, { key: '', value: '' }])}
            onRemove={(index) => set('labels', values.labels.filter((_, at) => at !== index))}
            render={(row, index) => (
              <>
                <TextInput
                  label={`Label key ${index + 1}`}
                  value={row.key}
                  onChange={(v) => set('labels', values.labels.map((r, at) => (at === index ? { ...r, key: v } : r)))}
                  error={errors[`labels.${index}`]}
                />
                <TextInput label={`Label value ${index + 1}`} value={row.value} onChange={(v) => set('labels', values.labels.map((r, at) => (at === index ? { ...r, value: v } : r)))} />
              </>
            )}
          />
        </Section>
        {testJob !== undefined && (
          <Box component="section" aria-label="Connection test" sx={{ mt: 2 }}>
            <Typography variant="subtitle1" component="h3" sx={{ fontWeight: 600, mb: 0.5 }}>
              Connection test
            </Typography>
            <JobProgress view={testJob.view} />
          </Box>
        )}
      </DialogContent>
      {formError && (
        <Alert severity="error" role="alert" sx={{ mx: 3, mt: 1 }} data-testid="machine-form-error">
          {formError}
        </Alert>
      )}
      <DialogActions>
        <Button onClick={onClose} disabled={busy}>
          Cancel
        </Button>
        <Button onClick={() => void run('test')} disabled={busy || testing}>
          {testing ? 'Testing…' : 'Test connection'}
        </Button>
        <Button type="submit" variant="contained" disabled={busy}>
          {machine ? 'Provision again' : 'Add machine'}
        </Button>
      </DialogActions>
    </Dialog>
  );
}
