/**
 * Create a service, or update one (pre-filled from the spec it read, sending that version back).
 * Checked before it is sent, with the control API's own messages on the fields; what the server
 * still refuses comes back with its reason, on the field it names when it names one.
 */
import Alert from '@mui/material/Alert';
import Button from '@mui/material/Button';
import Checkbox from '@mui/material/Checkbox';
import Dialog from '@mui/material/Dialog';
import DialogActions from '@mui/material/DialogActions';
import DialogContent from '@mui/material/DialogContent';
import DialogTitle from '@mui/material/DialogTitle';
import FormControlLabel from '@mui/material/FormControlLabel';
import { useRef, useState, type FormEvent } from 'react';
import { useFocusFirstError } from './use-focus-first-error';
import type { ServiceView } from '../../../electron/contract';
import { swarmdesk, SwarmdeskError } from '../api';
import { useNotify } from '../components/Notifier';
import { errorMessage } from '../format';
import { navigate } from '../store/router';
import { EnvironmentSection } from './EnvironmentSection';
import { GeneralSection } from './GeneralSection';
import { PlacementSection } from './PlacementSection';
import { RestartSection, UpdatePoliciesSection } from './PoliciesSection';
import { PortsSection } from './PortsSection';
import { ResourcesSection } from './ResourcesSection';
import { emptyServiceForm, formFromSpec, formToSpec, messageForField, type FieldErrors, type ServiceFormValues } from './service-form-model';

export interface ServiceFormDialogProps {
  /** The service to update; absent for the create form. */
  service?: ServiceView;
  onClose(): void;
}

/** Mounted only while open, so each opening starts from the service as it is now. */
export function ServiceFormDialog({ service, onClose }: ServiceFormDialogProps) {
  const isUpdate = service !== undefined;
  const [values, setValues] = useState<ServiceFormValues>(() => (service ? formFromSpec(service.spec) : emptyServiceForm()));
  /** The version the form was filled from: the server refuses the update if the service changed since. */
  const [version] = useState(service?.meta.version ?? 0);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [formError, setFormError] = useState<string | undefined>();
  const [force, setForce] = useState(false);
  const [busy, setBusy] = useState(false);
  const contentRef = useRef<HTMLDivElement>(null);
  const notify = useNotify();

  const focusFirstError = useFocusFirstError(contentRef);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const conversion = formToSpec(values, service?.spec);
    setErrors(conversion.errors);
    setFormError(conversion.errors[''] !== undefined ? conversion.errors[''] : undefined);
    if (conversion.spec === undefined) {
      focusFirstError();
      return;
    }
    setBusy(true);
    try {
      if (service) {
        await swarmdesk.updateService({ serviceId: service.id, version, spec: conversion.spec, force: force || undefined });
        notify.success(`Service ${service.spec.name} updated`);
      } else {
        const created = await swarmdesk.createService({ spec: conversion.spec });
        notify.success(`Service ${created.spec.name} created`);
        navigate({ page: 'service', serviceId: created.id });
      }
      onClose();
    } catch (err) {
      if (err instanceof SwarmdeskError && err.field !== undefined) {
        const field = conversion.fieldFor(err.field);
        if (field !== '') {
          setErrors({ [field]: messageForField(err.message, err.field) });
          focusFirstError();
        }
      }
      const conflict = err instanceof SwarmdeskError && err.code === 'Conflict';
      setFormError(conflict ? `${errorMessage(err)}. The service changed since this form was opened: close it and open Update again.` : errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  const sectionProps = { values, change: (update: (current: ServiceFormValues) => ServiceFormValues) => setValues(update), errors, isUpdate };
  const title = service ? `Update ${service.spec.name}` : 'Create a service';
  return (
    <Dialog
      open
      onClose={() => !busy && onClose()}
      maxWidth="md"
      fullWidth
      scroll="paper"
      aria-labelledby="service-form-title"
      slotProps={{ paper: { component: 'form', onSubmit: (event: FormEvent) => void submit(event), noValidate: true, 'data-testid': 'service-form' } as object }}
    >
      <DialogTitle id="service-form-title">{title}</DialogTitle>
      <DialogContent dividers ref={contentRef}>
        <GeneralSection {...sectionProps} />
        <EnvironmentSection {...sectionProps} />
        <PortsSection {...sectionProps} />
        <ResourcesSection {...sectionProps} />
        <PlacementSection {...sectionProps} />
        <RestartSection {...sectionProps} />
        <UpdatePoliciesSection {...sectionProps} />
      </DialogContent>
      {formError && (
        <Alert severity="error" role="alert" sx={{ mx: 3, mt: 1 }} data-testid="service-form-error">
          {formError}
        </Alert>
      )}
      <DialogActions>
        {isUpdate && <FormControlLabel control={<Checkbox checked={force} onChange={(event) => setForce(event.target.checked)} />} label="Replace every task even if nothing changed" sx={{ mr: 'auto', ml: 1 }} />}
        <Button onClick={onClose} disabled={busy}>
          Cancel
        </Button>
        <Button type="submit" variant="contained" disabled={busy}>
          {isUpdate ? 'Update service' : 'Create service'}
        </Button>
      </DialogActions>
    </Dialog>
  );
}
