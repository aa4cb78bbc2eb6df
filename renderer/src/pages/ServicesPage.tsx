/** Every service with its replicas and update status; create, scale, update, roll back, remove. */
import Button from '@mui/material/Button';
import { Suspense, useMemo, useState } from 'react';
import type { ServiceView } from '../../../electron/contract';
import { Page, PageHeader } from '../components/PageHeader';
import { RowLink, TextChip } from '../components/StateChip';
import { VirtualTable, type Column } from '../components/VirtualTable';
import { lazyComponent } from '../components/lazy';
import { publishedPortsText, serviceModeText } from '../format';
import { useServices } from '../store/hooks';
import { serviceHealth } from '../store/overview';
import { navigate } from '../store/router';
import { ServiceActions } from './ServiceActions';

const ServiceFormDialog = lazyComponent(() => import('../forms/ServiceFormDialog').then((m) => m.ServiceFormDialog));

const COLUMNS: readonly Column<ServiceView>[] = [
  {
    key: 'name',
    header: 'Name',
    width: 'minmax(140px, 2fr)',
    render: (service) => <RowLink onClick={() => navigate({ page: 'service', serviceId: service.id })}>{service.spec.name}</RowLink>,
  },
  { key: 'mode', header: 'Mode', width: '100px', render: serviceModeText },
  { key: 'image', header: 'Image', width: 'minmax(140px, 2fr)', render: (service) => <span title={service.spec.task.container.image}>{service.spec.task.container.image}</span> },
  {
    key: 'replicas',
    header: 'Replicas',
    width: '150px',
    render: (service) => (
      <>
        <span data-testid="replicas">{`${service.replicas.running}/${service.replicas.desired}`}</span>
        <TextChip text={serviceHealth(service)} />
      </>
    ),
  },
  { key: 'ports', header: 'Ports', width: 'minmax(100px, 1fr)', render: publishedPortsText },
  { key: 'update', header: 'Update status', width: '140px', render: (service) => <span title={service.status.updateStatus?.message}><TextChip text={service.status.updateStatus?.state ?? ''} /></span> },
  { key: 'actions', header: 'Actions', width: '330px', render: (service) => <ServiceActions service={service} afterRemove={() => undefined} /> },
];

export function ServicesPage() {
  const services = useServices();
  const [creating, setCreating] = useState(false);
  const rows = useMemo(() => [...services.values()].sort((a, b) => a.spec.name.localeCompare(b.spec.name)), [services]);
  return (
    <Page label="Services">
      <PageHeader title="Services" subtitle={`${rows.length} service${rows.length === 1 ? '' : 's'}`}>
        <Button variant="contained" onClick={() => setCreating(true)}>
          Create service
        </Button>
      </PageHeader>
      <VirtualTable label="Services" testId="services-table" rows={rows} columns={COLUMNS} rowKey={(service) => service.id} rowName={(service) => service.spec.name} emptyText="No services yet: create one." minWidth={1150} rowHeight={48} />
      {creating && (
        <Suspense fallback={null}>
          <ServiceFormDialog onClose={() => setCreating(false)} />
        </Suspense>
      )}
    </Page>
  );
}
