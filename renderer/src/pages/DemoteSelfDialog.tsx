/**
 * Asks before demoting the node this app runs. The app shows the cluster through its own manager's
 * store, so once that node is a worker the app has nothing to show and cannot act on the cluster: the
 * dialog says so, and how to undo it, before anything changes.
 */
import Typography from '@mui/material/Typography';
import { ConfirmDialog } from '../components/ConfirmDialog';

export interface DemoteSelfDialogProps {
  open: boolean;
  /** The node's name as the table shows it. */
  name: string;
  nodeId: string;
  onConfirm(): Promise<void>;
  onClose(): void;
}

export function DemoteSelfDialog({ open, name, nodeId, onConfirm, onClose }: DemoteSelfDialogProps) {
  return (
    <ConfirmDialog open={open} title={`Demote ${name}, this machine?`} confirmLabel="Demote" danger focusCancel onConfirm={onConfirm} onClose={onClose}>
      <Typography component="span" sx={{ display: 'block' }}>
        {`${name} is the manager this app runs. Demoted, it becomes a worker:`}
      </Typography>
      <ul>
        <li>It stops being a manager. If it leads the cluster now, leadership passes to another manager first.</li>
        <li>This app can no longer show or manage the cluster from here: its pages stop updating.</li>
        <li>
          {'To make it a manager again, promote it from another manager: in swarmdesk running on that manager, or there with '}
          <code>{`swarmctl node promote ${nodeId}`}</code>.
        </li>
      </ul>
      <Typography component="span" sx={{ display: 'block' }}>
        The cluster refuses the demotion if this is its last manager, or if the other managers could not keep a quorum without it.
      </Typography>
    </ConfirmDialog>
  );
}
