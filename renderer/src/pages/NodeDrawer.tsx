/**
 * One node's details and what can be done to it. A refused action (demoting a manager the quorum
 * needs, removing a node that is up) shows the server's reason here and in a snackbar.
 */
import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Checkbox from '@mui/material/Checkbox';
import Divider from '@mui/material/Divider';
import Drawer from '@mui/material/Drawer';
import FormControlLabel from '@mui/material/FormControlLabel';
import Typography from '@mui/material/Typography';
import { useState, type ReactNode } from 'react';
import type { NodeAvailability, NodeRole } from '../../../agent/api/objects';
import type { NodeView } from '../../../electron/contract';
import { swarmdesk } from '../api';
import { ConfirmDialog } from '../components/ConfirmDialog';
import { useNotify } from '../components/Notifier';
import { TextChip } from '../components/StateChip';
import { errorMessage, formatBytes, formatCpus, managerStatusText, nodeAddress, nodeName } from '../format';
import { useLocalNode, useNode } from '../store/hooks';
import { navigate } from '../store/router';
import { DemoteSelfDialog } from './DemoteSelfDialog';
import { LabelsDialog } from './LabelsDialog';

function Field({ label, children }: { label: string; children: ReactNode }) {
  return (
    <Box sx={{ display: 'grid', gridTemplateColumns: '140px 1fr', gap: 1, py: 0.25 }}>
      <Typography variant="body2" color="text.secondary">
        {label}
      </Typography>
      <Typography variant="body2" component="div" sx={{ overflowWrap: 'anywhere' }}>
        {children}
      </Typography>
    </Box>
  );
}

function NodeDetails({ node }: { node: NodeView }) {
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const [labelsOpen, setLabelsOpen] = useState(false);
  const [removeOpen, setRemoveOpen] = useState(false);
  const [demoteSelfOpen, setDemoteSelfOpen] = useState(false);
  const [force, setForce] = useState(false);
  const notify = useNotify();
  const name = nodeName(node);
  // The app's own node: demoting it takes the cluster out of the app's reach, so it is confirmed first.
  const isThisMachine = useLocalNode()?.nodeId === node.id;

  const act = async (what: string, action: () => Promise<unknown>, done: string) => {
    setBusy(true);
    setError(undefined);
    try {
      await action();
      notify.success(done);
    } catch (err) {
      setError(`Could not ${what}: ${errorMessage(err)}`);
      notify.error(`Could not ${what}`, err);
    } finally {
      setBusy(false);
    }
  };
  const setAvailability = (availability: NodeAvailability, verb: string) =>
    act(`${verb} ${name}`, () => swarmdesk.setNodeAvailability({ nodeId: node.id, availability }), `${name} is now ${availability === 'active' ? 'active' : availability === 'pause' ? 'paused' : 'drained'}`);
  const setRole = (role: NodeRole, verb: string) => act(`${verb} ${name}`, () => swarmdesk.setNodeRole({ nodeId: node.id, role }), `${name} is becoming a ${role}`);

  const description = node.description;
  return (
    <Box sx={{ p: 2, width: { xs: '100vw', sm: 480 } }} role="region" aria-label={`Node ${name}`} data-testid="node-details">
      <Typography variant="h6" component="h2">
        {name}
      </Typography>
      <Typography variant="body2" color="text.secondary" sx={{ mb: 1 }}>
        <code>{node.id}</code>
      </Typography>
      <Box sx={{ display: 'flex', gap: 1, flexWrap: 'wrap', mb: 2 }}>
        {node.spec.role === 'worker' ? (
          <Button variant="outlined" size="small" disabled={busy} onClick={() => void setRole('manager', 'promote')}>
            Promote
          </Button>
        ) : (
          <Button variant="outlined" size="small" disabled={busy} onClick={() => (isThisMachine ? setDemoteSelfOpen(true) : void setRole('worker', 'demote'))}>
            Demote
          </Button>
        )}
        <Button variant="outlined" size="small" disabled={busy || node.spec.availability === 'drain'} onClick={() => void setAvailability('drain', 'drain')}>
          Drain
        </Button>
        <Button variant="outlined" size="small" disabled={busy || node.spec.availability === 'pause'} onClick={() => void setAvailability('pause', 'pause')}>
          Pause
        </Button>
        <Button variant="outlined" size="small" disabled={busy || node.spec.availability === 'active'} onClick={() => void setAvailability('active', 'activate')}>
          Activate
        </Button>
        <Button variant="outlined" size="small" disabled={busy} onClick={() => setLabelsOpen(true)}>
          Edit labels
        </Button>
        <Button variant="outlined" size="small" color="error" disabled={busy} onClick={() => setRemoveOpen(true)}>
          Remove
        </Button>
      </Box>
      {error && (
        <Alert severity="error" role="alert" onClose={() => setError(undefined)} sx={{ mb: 2 }}>
          {error}
        </Alert>
      )}
      <Field label="Hostname">{description?.hostname ?? ''}</Field>
      <Field label="Role">{node.spec.role !== node.role ? `${node.role} (becoming ${node.spec.role})` : node.role}</Field>
      <Field label="Status">
        <TextChip text={node.status.state} /> {node.status.message}
      </Field>
      <Field label="Availability">
        <TextChip text={node.spec.availability} />
      </Field>
      <Field label="Manager status">{managerStatusText(node) || '—'}</Field>
      <Field label="Address">{nodeAddress(node)}</Field>
      {node.managerStatus && <Field label="Raft ID">{node.managerStatus.raftId}</Field>}
      <Field label="Platform">{description ? `${description.platform.os} / ${description.platform.arch}` : ''}</Field>
      <Field label="CPUs">{description ? formatCpus(description.resources.nanoCpus) : ''}</Field>
      <Field label="Memory">{description ? formatBytes(description.resources.memoryBytes) : ''}</Field>
      <Field label="Engine">{description?.engine?.version ?? 'none'}</Field>
      <Field label="Tasks">
        {node.taskCount}{' '}
        <Button size="small" onClick={() => navigate({ page: 'tasks', nodeId: node.id })}>
          Show tasks
        </Button>
      </Field>
      <Field label="Certificate">{node.certificate ? `${node.certificate.state}${node.certificate.message ? `: ${node.certificate.message}` : ''}` : ''}</Field>
      <Divider sx={{ my: 1 }} />
      <Typography variant="subtitle2" component="h3">
        Labels
      </Typography>
      <Box data-testid="node-labels" sx={{ display: 'flex', gap: 0.5, flexWrap: 'wrap', py: 0.5 }}>
        {Object.keys(node.spec.labels).length === 0 ? (
          <Typography variant="body2" color="text.secondary">
            none
          </Typography>
        ) : (
          Object.entries(node.spec.labels)
            .sort(([a], [b]) => a.localeCompare(b))
            .map(([key, value]) => <code key={key}>{`${key}=${value}`}</code>)
        )}
      </Box>
      {description?.engine && Object.keys(description.engine.labels).length > 0 && (
        <Field label="Engine labels">
          {Object.entries(description.engine.labels)
            .map(([key, value]) => `${key}=${value}`)
            .join(', ')}
        </Field>
      )}
      {labelsOpen && <LabelsDialog open node={node} onClose={() => setLabelsOpen(false)} />}
      {/* A refusal shows here and in the snackbar, as for any other demotion; the dialog just closes. */}
      <DemoteSelfDialog open={demoteSelfOpen} name={name} nodeId={node.id} onConfirm={() => setRole('worker', 'demote')} onClose={() => setDemoteSelfOpen(false)} />
      <ConfirmDialog
        open={removeOpen}
        title={`Remove ${name}?`}
        confirmLabel="Remove"
        danger
        onClose={() => setRemoveOpen(false)}
        onConfirm={async () => {
          await swarmdesk.removeNode({ nodeId: node.id, force });
          notify.success(`${name} was removed`);
          navigate({ page: 'nodes' });
        }}
      >
        <Typography component="span" sx={{ display: 'block' }}>
          The node leaves the cluster; its tasks are rescheduled elsewhere. A node that is still up is refused unless forced (its certificate stops working).
        </Typography>
        <FormControlLabel control={<Checkbox checked={force} onChange={(event) => setForce(event.target.checked)} />} label="Force (the node is still up)" />
      </ConfirmDialog>
    </Box>
  );
}

export function NodeDrawer({ nodeId, onClose }: { nodeId: string | undefined; onClose(): void }) {
  const node = useNode(nodeId);
  return (
    <Drawer anchor="right" open={node !== undefined} onClose={onClose}>
      {node && (
        <>
          <NodeDetails key={node.id} node={node} />
          <Box sx={{ px: 2, pb: 2 }}>
            <Button onClick={onClose}>Close</Button>
          </Box>
        </>
      )}
    </Drawer>
  );
}
