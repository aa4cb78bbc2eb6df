/** Asks before something that cannot be undone; shows why it failed, if it does, without closing. */
import Alert from '@mui/material/Alert';
import Button from '@mui/material/Button';
import Dialog from '@mui/material/Dialog';
import DialogActions from '@mui/material/DialogActions';
import DialogContent from '@mui/material/DialogContent';
import DialogContentText from '@mui/material/DialogContentText';
import DialogTitle from '@mui/material/DialogTitle';
import { useId, useRef, useState, type ReactNode } from 'react';
import { errorMessage } from '../format';

export interface ConfirmDialogProps {
  open: boolean;
  title: string;
  children: ReactNode;
  /** The confirm button's label ("Remove", "Rotate"). */
  confirmLabel: string;
  danger?: boolean;
  /**
   * Focus Cancel when the dialog opens rather than the confirm button: for a step that is hard to undo,
   * so Enter pressed out of habit cancels (as in MUI's confirmation dialog demo).
   */
  focusCancel?: boolean;
  onConfirm(): Promise<void>;
  onClose(): void;
}

export function ConfirmDialog({ open, title, children, confirmLabel, danger, focusCancel, onConfirm, onClose }: ConfirmDialogProps) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const titleId = useId();
  const cancelRef = useRef<HTMLButtonElement>(null);
  const confirmRef = useRef<HTMLButtonElement>(null);
  // autoFocus alone does not hold in a dialog opened from inside another modal (the node drawer): in
  // Chromium the focus went to the button, back to the one that opened the dialog, then to the dialog's
  // paper (the modals' focus traps settling). Once the dialog has faded in they have, so focus it again.
  const focusInitial = () => (focusCancel ? cancelRef : confirmRef).current?.focus();
  const close = () => {
    if (busy) return;
    setError(undefined);
    onClose();
  };
  const confirm = async () => {
    setBusy(true);
    setError(undefined);
    try {
      await onConfirm();
      setBusy(false);
      onClose();
    } catch (err) {
      setBusy(false);
      setError(errorMessage(err));
    }
  };
  return (
    <Dialog open={open} onClose={close} aria-labelledby={titleId} maxWidth="sm" fullWidth slotProps={{ transition: { onEntered: focusInitial } }}>
      <DialogTitle id={titleId}>{title}</DialogTitle>
      <DialogContent>
        <DialogContentText component="div">{children}</DialogContentText>
        {error && (
          <Alert severity="error" role="alert" sx={{ mt: 2 }}>
            {error}
          </Alert>
        )}
      </DialogContent>
      <DialogActions>
        <Button ref={cancelRef} onClick={close} disabled={busy} autoFocus={focusCancel}>
          Cancel
        </Button>
        <Button ref={confirmRef} onClick={() => void confirm()} disabled={busy} color={danger ? 'error' : 'primary'} variant="contained" autoFocus={!focusCancel}>
          {confirmLabel}
        </Button>
      </DialogActions>
    </Dialog>
  );
}
