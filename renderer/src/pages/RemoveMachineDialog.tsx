/**
 * "Remove machine", confirmed first: drains the node (its tasks move elsewhere), stops and uninstalls
 * the agent, and removes the node from the cluster. Asks for the password when none is remembered.
 */
import TextField from '@mui/material/TextField';
import Typography from '@mui/material/Typography';
import { useState } from 'react';
import type { KnownMachineView } from '../../../electron/contract';
import { ConfirmDialog } from '../components/ConfirmDialog';
import { useNotify } from '../components/Notifier';
import { knownMachineInput } from '../forms/machine-form-model';
import { startJob } from '../store/machines-sync';

export function RemoveMachineDialog({ machine, nodeName, onClose }: { machine: KnownMachineView; nodeName?: string; onClose(): void }) {
  const [password, setPassword] = useState('');
  const [passphrase, setPassphrase] = useState('');
  const [fieldError, setFieldError] = useState<string | undefined>();
  const notify = useNotify();
  const askPassword = machine.auth === 'password' && !machine.remembered.password;
  const askPassphrase = machine.auth === 'key' && !machine.remembered.passphrase;

  const confirm = async () => {
    const conversion = knownMachineInput(machine, { password, passphrase });
    if (conversion.input === undefined) {
      setFieldError(conversion.errors.password ?? Object.values(conversion.errors)[0]);
      throw new Error(`Check the form: ${Object.values(conversion.errors).join('; ')}`);
    }
    await startJob({ kind: 'remove', machine: conversion.input });
    notify.info(`Removing ${machine.id}: its steps show on the Machines page`);
  };

  return (
    <ConfirmDialog open title={`Remove ${machine.id}?`} confirmLabel="Remove machine" danger onConfirm={confirm} onClose={onClose}>
      <Typography component="span" sx={{ display: 'block', mb: 2 }}>
        {`swarmdesk drains ${nodeName ? `node ${nodeName}` : 'its node'} (its tasks move to other nodes), stops and uninstalls the agent on ${machine.host} and removes the node from the cluster. Docker and your other containers stay.`}
      </Typography>
      {askPassword && (
        <TextField
          size="small"
          fullWidth
          type="password"
          autoComplete="new-password"
          label="Password"
          required
          value={password}
          onChange={(event) => setPassword(event.target.value)}
          error={fieldError !== undefined}
          helperText={fieldError ?? `the SSH password of ${machine.username}`}
          sx={{ mb: 1 }}
        />
      )}
      {askPassphrase && (
        <TextField
          size="small"
          fullWidth
          type="password"
          autoComplete="new-password"
          label="Key passphrase"
          value={passphrase}
          onChange={(event) => setPassphrase(event.target.value)}
          helperText={`only if ${machine.keyPath ?? 'the key'} is encrypted`}
        />
      )}
    </ConfirmDialog>
  );
}
