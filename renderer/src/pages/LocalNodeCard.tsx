/** This machine's own manager: its state, its address, and whether it also runs tasks (a setting). */
import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Card from '@mui/material/Card';
import CardContent from '@mui/material/CardContent';
import FormControlLabel from '@mui/material/FormControlLabel';
import Switch from '@mui/material/Switch';
import Typography from '@mui/material/Typography';
import { useState } from 'react';
import { swarmdesk } from '../api';
import { useNotify } from '../components/Notifier';
import { TextChip } from '../components/StateChip';
import { useLocalNode } from '../store/hooks';
import { localNodeStore } from '../store/cluster-sync';

export function LocalNodeCard() {
  const state = useLocalNode();
  const notify = useNotify();
  const [busy, setBusy] = useState(false);
  if (state === undefined) return null;
  const setRunTasks = async (runTasks: boolean) => {
    setBusy(true);
    try {
      localNodeStore.set(await swarmdesk.setRunTasks({ runTasks }));
      notify.success(runTasks ? 'This machine now runs tasks' : 'This machine no longer runs tasks (its tasks move to other nodes)');
    } catch (err) {
      notify.error('Could not change whether this machine runs tasks', err);
    } finally {
      setBusy(false);
    }
  };
  const engine = state.engine;
  return (
    <Card variant="outlined" component="section" aria-label="This machine" data-testid="local-node">
      <CardContent>
        <Typography variant="overline" component="h2" color="text.secondary">
          This machine
        </Typography>
        <Box sx={{ display: 'flex', gap: 1, alignItems: 'center', flexWrap: 'wrap', mb: 1 }}>
          <TextChip text={state.phase} />
          {state.role && <Typography variant="body2">{state.role}</Typography>}
          {state.advertiseAddress && <Typography variant="body2" color="text.secondary">{`at ${state.advertiseAddress}`}</Typography>}
        </Box>
        <FormControlLabel control={<Switch checked={state.runTasks} disabled={busy} onChange={(event) => void setRunTasks(event.target.checked)} />} label="Run tasks on this machine" />
        {state.runTasks && engine && (
          <Typography variant="body2" color={engine.reachable ? 'text.secondary' : 'error'}>
            {engine.reachable ? `Docker Engine ${engine.version ?? ''}`.trim() : `Docker Engine not reachable${engine.message ? `: ${engine.message}` : ''}`}
          </Typography>
        )}
        {state.message && state.phase !== 'running' && (
          <Alert severity="warning" sx={{ mt: 1 }}>
            {state.message}
          </Alert>
        )}
      </CardContent>
    </Card>
  );
}
