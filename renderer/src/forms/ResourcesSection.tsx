import { Grid, Section, TextInput } from './fields';
import type { SectionProps } from './section-props';

export function ResourcesSection({ values, change, errors }: SectionProps) {
  return (
    <Section title="Resources" description="CPUs as a decimal (0.5), memory as a size (256MiB, 1GiB). Reservations decide where tasks fit; limits cap what they use.">
      <Grid columns="1fr 1fr 1fr 1fr">
        <TextInput label="CPU limit" value={values.cpuLimit} onChange={(cpuLimit) => change((v) => ({ ...v, cpuLimit }))} error={errors.cpuLimit} placeholder="0.5" />
        <TextInput label="Memory limit" value={values.memoryLimit} onChange={(memoryLimit) => change((v) => ({ ...v, memoryLimit }))} error={errors.memoryLimit} placeholder="256MiB" />
        <TextInput label="CPU reservation" value={values.cpuReservation} onChange={(cpuReservation) => change((v) => ({ ...v, cpuReservation }))} error={errors.cpuReservation} />
        <TextInput label="Memory reservation" value={values.memoryReservation} onChange={(memoryReservation) => change((v) => ({ ...v, memoryReservation }))} error={errors.memoryReservation} />
      </Grid>
    </Section>
  );
}
