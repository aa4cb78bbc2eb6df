import type { PortConfig } from '../../../agent/api/objects';
import { RowList, Section, SelectInput, TextInput } from './fields';
import { replaceAt, type SectionProps } from './section-props';

const PROTOCOLS: readonly (readonly [PortConfig['protocol'], string])[] = [
  ['tcp', 'TCP'],
  ['udp', 'UDP'],
  ['sctp', 'SCTP'],
];

export function PortsSection({ values, change, errors }: SectionProps) {
  return (
    <Section title="Ports" description="Published on the node each task runs on (host mode). Leave the published port empty to let the node pick one.">
      <RowList
        rows={values.ports}
        columns="1fr 1fr 120px"
        addLabel="Add port"
        removeLabel={(index) => `Remove port row ${index + 1}`}
        onAdd={() => change((v) => ({ ...v, ports: [...v.ports, { targetPort: '', publishedPort: '', protocol: 'tcp' }] }))}
        onRemove={(index) => change((v) => ({ ...v, ports: v.ports.filter((_, at) => at !== index) }))}
        render={(row, index) => (
          <>
            <TextInput
              label={`Container port ${index + 1}`}
              value={row.targetPort}
              onChange={(targetPort) => change((v) => ({ ...v, ports: replaceAt(v.ports, index, { ...row, targetPort }) }))}
              error={errors[`ports.${index}.targetPort`]}
              numeric
            />
            <TextInput
              label={`Published port ${index + 1}`}
              value={row.publishedPort}
              onChange={(publishedPort) => change((v) => ({ ...v, ports: replaceAt(v.ports, index, { ...row, publishedPort }) }))}
              error={errors[`ports.${index}.publishedPort`]}
              numeric
            />
            <SelectInput
              label={`Protocol ${index + 1}`}
              value={row.protocol}
              options={PROTOCOLS}
              onChange={(protocol) => change((v) => ({ ...v, ports: replaceAt(v.ports, index, { ...row, protocol }) }))}
              error={errors[`ports.${index}.protocol`]}
            />
          </>
        )}
      />
    </Section>
  );
}
