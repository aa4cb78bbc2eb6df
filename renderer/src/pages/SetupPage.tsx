/**
 * First start: create a new cluster with this machine as its first manager, or join an existing one
 * as a manager. The advertise address is picked from this machine's interfaces and stays editable.
 */
import Alert from '@mui/material/Alert';
import Autocomplete from '@mui/material/Autocomplete';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Checkbox from '@mui/material/Checkbox';
import FormControlLabel from '@mui/material/FormControlLabel';
import Paper from '@mui/material/Paper';
import Tab from '@mui/material/Tab';
import Tabs from '@mui/material/Tabs';
import TextField from '@mui/material/TextField';
import Typography from '@mui/material/Typography';
import { useEffect, useState, type FormEvent } from 'react';
import type { LocalNodeState, NetworkAddress } from '../../../electron/contract';
import { swarmdesk, SwarmdeskError } from '../api';
import { errorMessage } from '../format';

const DEFAULT_PORT = 4242;

function preferredAddress(addresses: readonly NetworkAddress[]): string {
  const external = addresses.find((entry) => !entry.internal && entry.family === 'IPv4') ?? addresses.find((entry) => !entry.internal) ?? addresses[0];
  return external?.address ?? '';
}

interface Errors {
  advertiseAddress?: string;
  port?: string;
  joinAddress?: string;
  token?: string;
  form?: string;
}

/** Which field a server error names (`joinAddress`, `token`, ...), or the form. */
function errorsFrom(err: unknown): Errors {
  const message = errorMessage(err);
  if (err instanceof SwarmdeskError && err.field !== undefined) {
    const field = err.field.split('.').pop();
    if (field === 'advertiseAddress' || field === 'port' || field === 'joinAddress' || field === 'token') return { [field]: err.message, form: message };
  }
  return { form: message };
}

export function SetupPage({ state }: { state: LocalNodeState }) {
  const [mode, setMode] = useState<'create' | 'join'>('create');
  const [addresses, setAddresses] = useState<NetworkAddress[]>([]);
  const [advertiseAddress, setAdvertiseAddress] = useState('');
  const [port, setPort] = useState(String(DEFAULT_PORT));
  const [runTasks, setRunTasks] = useState(state.runTasks);
  const [joinAddress, setJoinAddress] = useState('');
  const [token, setToken] = useState('');
  const [errors, setErrors] = useState<Errors>({});
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    swarmdesk.listAddresses().then(
      (list) => {
        setAddresses(list);
        setAdvertiseAddress((current) => current || preferredAddress(list));
      },
      (err: unknown) => setErrors({ form: `Could not list this machine's addresses: ${errorMessage(err)}` }),
    );
  }, []);

  const check = (): Errors => {
    const found: Errors = {};
    if (advertiseAddress.trim() === '') found.advertiseAddress = 'required';
    if (!/^\d+$/.test(port.trim()) || Number(port) < 1 || Number(port) > 65535) found.port = 'must be from 1 to 65535';
    if (mode === 'join') {
      if (joinAddress.trim() === '') found.joinAddress = 'required';
      if (!token.trim().startsWith('SWMTKN-1-')) found.token = 'must be a manager join token (SWMTKN-1-...)';
    }
    return found;
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const found = check();
    setErrors(found);
    if (Object.keys(found).length > 0) return;
    setBusy(true);
    try {
      const common = { advertiseAddress: advertiseAddress.trim(), port: Number(port), runTasks };
      if (mode === 'create') await swarmdesk.createCluster(common);
      else await swarmdesk.joinCluster({ ...common, joinAddress: joinAddress.trim(), token: token.trim() });
    } catch (err) {
      setErrors(errorsFrom(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Box component="main" sx={{ display: 'flex', justifyContent: 'center', p: 4 }}>
      <Paper component="form" onSubmit={(event) => void submit(event)} noValidate sx={{ p: 4, width: '100%', maxWidth: 640 }} aria-label="Set up this machine">
        <Typography variant="h4" component="h1" gutterBottom>
          Welcome to swarmdesk
        </Typography>
        <Typography color="text.secondary" sx={{ mb: 2 }}>
          This machine runs a manager of your cluster. Start a new cluster here, or join one you already have.
        </Typography>
        {state.phase === 'failed' && state.message && (
          <Alert severity="error" sx={{ mb: 2 }}>
            {state.message}
          </Alert>
        )}
        <Tabs value={mode} onChange={(_event, value: 'create' | 'join') => setMode(value)} aria-label="Setup choice" sx={{ mb: 3 }}>
          <Tab value="create" label="Create a new cluster" />
          <Tab value="join" label="Join a cluster" />
        </Tabs>
        <Box sx={{ display: 'grid', gap: 2 }}>
          {mode === 'join' && (
            <>
              <TextField
                label="Manager address"
                placeholder="192.168.1.10:4242"
                value={joinAddress}
                onChange={(event) => setJoinAddress(event.target.value)}
                error={errors.joinAddress !== undefined}
                helperText={errors.joinAddress ?? 'host:port of a manager of the cluster'}
                required
              />
              <TextField
                label="Join token"
                value={token}
                onChange={(event) => setToken(event.target.value)}
                error={errors.token !== undefined}
                helperText={errors.token ?? 'the cluster\'s manager token (swarmctl cluster inspect default)'}
                required
              />
            </>
          )}
          <Box sx={{ display: 'grid', gridTemplateColumns: '1fr 140px', gap: 2 }}>
            <Autocomplete
              freeSolo
              options={addresses.map((entry) => entry.address)}
              groupBy={(option) => addresses.find((entry) => entry.address === option)?.interfaceName ?? ''}
              inputValue={advertiseAddress}
              onInputChange={(_event, value) => setAdvertiseAddress(value)}
              renderInput={(params) => (
                <TextField
                  {...params}
                  label="Advertise address"
                  required
                  error={errors.advertiseAddress !== undefined}
                  helperText={errors.advertiseAddress ?? 'the address other machines reach this one at'}
                />
              )}
            />
            <TextField
              label="Port"
              value={port}
              onChange={(event) => setPort(event.target.value)}
              error={errors.port !== undefined}
              helperText={errors.port}
              slotProps={{ htmlInput: { inputMode: 'numeric' } }}
            />
          </Box>
          <FormControlLabel control={<Checkbox checked={runTasks} onChange={(event) => setRunTasks(event.target.checked)} />} label="Run tasks on this machine (its Docker Engine)" />
          {errors.form && (
            <Alert severity="error" role="alert">
              {errors.form}
            </Alert>
          )}
          <Box>
            <Button type="submit" variant="contained" disabled={busy}>
              {mode === 'create' ? 'Create cluster' : 'Join cluster'}
            </Button>
          </Box>
        </Box>
      </Paper>
    </Box>
  );
}
