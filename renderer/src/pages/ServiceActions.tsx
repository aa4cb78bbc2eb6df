/**
 * What can be done to a service, the same buttons in its table row and on its page: Scale, Update,
 * Rollback, Remove (confirmed). Failures say why (a snackbar, or the dialog's own alert).
 */
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import { Suspense, useState } from 'react';
import type { ServiceView } from '../../../electron/contract';
import { swarmdesk } from '../api';
import { lazyComponent, WhenFirstOpen } from '../components/lazy';
import { useNotify } from '../components/Notifier';
import { navigate } from '../store/router';

// Dialogs and the update form (with the spec schema) load the first time one is opened.
const ConfirmDialog = lazyComponent(() => import('../components/ConfirmDialog').then((m) => m.ConfirmDialog));
const ScaleDialog = lazyComponent(() => import('./ScaleDialog').then((m) => m.ScaleDialog));
const ServiceFormDialog = lazyComponent(() => import('../forms/ServiceFormDialog').then((m) => m.ServiceFormDialog));

type Open = 'scale' | 'update' | 'rollback' | 'remove' | undefined;

export function ServiceActions({ service, size = 'small', afterRemove }: { service: ServiceView; size?: 'small' | 'medium'; afterRemove?(): void }) {
  const [open, setOpen] = useState<Open>();
  const notify = useNotify();
  const name = service.spec.name;
  const replicated = 'replicated' in service.spec.mode;
  const close = () => setOpen(undefined);
  return (
    <Box sx={{ display: 'flex', gap: 0.5 }}>
      <Button size={size} onClick={() => setOpen('scale')} disabled={!replicated} title={replicated ? undefined : 'a global service runs one task per node'}>
        Scale
      </Button>
      <Button size={size} onClick={() => setOpen('update')}>
        Update
      </Button>
      <Button size={size} onClick={() => setOpen('rollback')} disabled={service.previousSpec === undefined} title={service.previousSpec === undefined ? 'no previous spec to go back to' : undefined}>
        Rollback
      </Button>
      <Button size={size} color="error" onClick={() => setOpen('remove')}>
        Remove
      </Button>
      <Suspense fallback={null}>
        {open === 'scale' && <ScaleDialog service={service} onClose={close} />}
        {open === 'update' && <ServiceFormDialog service={service} onClose={close} />}
      </Suspense>
      <WhenFirstOpen when={open === 'rollback'}>
        <ConfirmDialog
          open={open === 'rollback'}
          title={`Roll ${name} back?`}
          confirmLabel="Roll back"
          onClose={close}
          onConfirm={async () => {
            await swarmdesk.rollbackService({ serviceId: service.id });
            notify.success(`${name} is rolling back to its previous spec`);
          }}
        >
          The service goes back to the spec it had before its last update, replacing its tasks by its rollback policy.
        </ConfirmDialog>
      </WhenFirstOpen>
      <WhenFirstOpen when={open === 'remove'}>
        <ConfirmDialog
          open={open === 'remove'}
          title={`Remove ${name}?`}
          confirmLabel="Remove"
          danger
          onClose={close}
          onConfirm={async () => {
            await swarmdesk.removeService({ serviceId: service.id });
            notify.success(`${name} removed`);
            if (afterRemove) afterRemove();
            else navigate({ page: 'services' });
          }}
        >
          {`Every task of ${name} is stopped and the service is deleted. This cannot be undone.`}
        </ConfirmDialog>
      </WhenFirstOpen>
    </Box>
  );
}
