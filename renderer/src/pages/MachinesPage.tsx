/**
 * Machines reachable over SSH, turned into cluster nodes from here: Add machine, the provisioning jobs
 * with their live steps (several at once, each on its own card), and the machines provisioned so far
 * with their node's state, to provision again (an upgrade in place), remove or forget.
 */
import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Table from '@mui/material/Table';
import TableBody from '@mui/material/TableBody';
import TableCell from '@mui/material/TableCell';
import TableHead from '@mui/material/TableHead';
import TableRow from '@mui/material/TableRow';
import Typography from '@mui/material/Typography';
import { useMemo, useState } from 'react';
import type { KnownMachineView } from '../../../electron/contract';
import { swarmdesk } from '../api';
import { ConfirmDialog } from '../components/ConfirmDialog';
import { useNotify } from '../components/Notifier';
import { Page, PageHeader } from '../components/PageHeader';
import { TextChip } from '../components/StateChip';
import { MachineFormDialog } from '../forms/MachineFormDialog';
import { nodeName, since } from '../format';
import { useNodes, useNow } from '../store/hooks';
import { reloadMachines, useJobs, useMachines, useMachinesError } from '../store/machines-sync';
import { ProvisionJobCard } from './ProvisionJobCard';
import { RemoveMachineDialog } from './RemoveMachineDialog';

type Editing = { machine?: KnownMachineView } | undefined;

function loginText(machine: KnownMachineView): string {
  if (machine.auth === 'agent') return 'ssh-agent';
  if (machine.auth === 'key') return `key ${machine.keyPath ?? ''}${machine.remembered.passphrase ? ' (passphrase remembered)' : ''}`;
  return machine.remembered.password ? 'password (remembered)' : 'password';
}

function MachinesTable({ machines, onEdit, onRemove, onForget }: { machines: readonly KnownMachineView[]; onEdit(m: KnownMachineView): void; onRemove(m: KnownMachineView): void; onForget(m: KnownMachineView): void }) {
  const nodes = useNodes();
  const now = useNow();
  if (machines.length === 0) {
    return (
      <Typography variant="body2" color="text.secondary">
        No machines yet: add one, and swarmdesk installs the agent on it and joins it to the cluster.
      </Typography>
    );
  }
  return (
    <Table size="small" aria-label="Known machines">
      <TableHead>
        <TableRow>
          <TableCell>Machine</TableCell>
          <TableCell>Role</TableCell>
          <TableCell>Login</TableCell>
          <TableCell>Labels</TableCell>
          <TableCell>Node</TableCell>
          <TableCell>Provisioned</TableCell>
          <TableCell align="right">Actions</TableCell>
        </TableRow>
      </TableHead>
      <TableBody>
        {machines.map((machine) => {
          const node = machine.nodeId === undefined ? undefined : nodes.get(machine.nodeId);
          return (
            <TableRow key={machine.id} aria-label={machine.id}>
              <TableCell sx={{ fontFamily: 'monospace' }}>{machine.id}</TableCell>
              <TableCell>{machine.role}</TableCell>
              <TableCell>{loginText(machine)}</TableCell>
              <TableCell>
                {Object.entries(machine.labels)
                  .map(([key, value]) => `${key}=${value}`)
                  .join(', ')}
              </TableCell>
              <TableCell data-testid="machine-node">
                {node ? (
                  <Box sx={{ display: 'flex', gap: 1, alignItems: 'center' }}>
                    <span>{nodeName(node)}</span>
                    <TextChip text={node.status.state} />
                  </Box>
                ) : (
                  <Typography variant="body2" color="text.secondary" component="span">
                    not in the cluster
                  </Typography>
                )}
              </TableCell>
              <TableCell>{since(machine.provisionedAt, now)}</TableCell>
              <TableCell align="right" sx={{ whiteSpace: 'nowrap' }}>
                <Button size="small" onClick={() => onEdit(machine)}>
                  Provision again
                </Button>
                <Button size="small" color="error" onClick={() => onRemove(machine)}>
                  Remove machine
                </Button>
                <Button size="small" onClick={() => onForget(machine)}>
                  Forget
                </Button>
              </TableCell>
            </TableRow>
          );
        })}
      </TableBody>
    </Table>
  );
}

export function MachinesPage() {
  const jobs = useJobs();
  const view = useMachines();
  const loadError = useMachinesError();
  const nodes = useNodes();
  const notify = useNotify();
  const [editing, setEditing] = useState<Editing>();
  const [removing, setRemoving] = useState<KnownMachineView | undefined>();
  const [forgetting, setForgetting] = useState<KnownMachineView | undefined>();
  // Newest first; dismissed ones and those started again under a new job stay hidden.
  const shown = useMemo(() => [...jobs.values()].filter((entry) => !entry.dismissed).reverse(), [jobs]);
  const machines = view?.machines ?? [];
  const removingNode = removing?.nodeId === undefined ? undefined : nodes.get(removing.nodeId);

  return (
    <Page label="Machines">
      <PageHeader title="Machines" subtitle="Machines reachable over SSH, turned into nodes of this cluster">
        <Button variant="contained" onClick={() => setEditing({})}>
          Add machine
        </Button>
      </PageHeader>
      {loadError && (
        <Alert severity="error" role="alert" action={<Button onClick={() => void reloadMachines()}>Retry</Button>}>
          {`Could not read the known machines: ${loadError}`}
        </Alert>
      )}
      {shown.length > 0 && (
        <Box component="section" aria-label="Provisioning jobs" sx={{ display: 'grid', gridTemplateColumns: 'repeat(auto-fill, minmax(420px, 1fr))', gap: 2, alignItems: 'start' }}>
          {shown.map((entry) => (
            <ProvisionJobCard key={entry.view.jobId} entry={entry} />
          ))}
        </Box>
      )}
      <Box component="section" aria-label="Known machines" sx={{ mt: 2 }}>
        <Typography variant="h6" component="h2" sx={{ mb: 1 }}>
          Known machines
        </Typography>
        <MachinesTable machines={machines} onEdit={(machine) => setEditing({ machine })} onRemove={setRemoving} onForget={setForgetting} />
      </Box>
      {editing && <MachineFormDialog machine={editing.machine} secretsPersistent={view?.secretsPersistent ?? false} onClose={() => setEditing(undefined)} />}
      {removing && <RemoveMachineDialog machine={removing} nodeName={removingNode ? nodeName(removingNode) : undefined} onClose={() => setRemoving(undefined)} />}
      <ConfirmDialog
        open={forgetting !== undefined}
        title={`Forget ${forgetting?.id ?? ''}?`}
        confirmLabel="Forget"
        onConfirm={async () => {
          if (forgetting === undefined) return;
          await swarmdesk.forgetMachine({ machineId: forgetting.id });
          await reloadMachines();
          notify.success(`${forgetting.id} forgotten`);
        }}
        onClose={() => setForgetting(undefined)}
      >
        swarmdesk drops the machine from this list and forgets its remembered password or passphrase. Nothing changes on the machine or in the cluster: use Remove machine for that.
      </ConfirmDialog>
    </Page>
  );
}
