import { Grid, Section, SelectInput, TextInput } from './fields';
import type { SectionProps } from './section-props';

export function GeneralSection({ values, change, errors, isUpdate }: SectionProps) {
  return (
    <Section title="General">
      <Grid columns="1fr 1fr">
        <TextInput
          label="Name"
          value={values.name}
          onChange={(name) => change((v) => ({ ...v, name }))}
          error={errors.name}
          help={isUpdate ? 'a service keeps its name' : 'letters, digits, "-" and "_"'}
          disabled={isUpdate}
          required
          autoFocus={!isUpdate}
        />
        <TextInput label="Image" value={values.image} onChange={(image) => change((v) => ({ ...v, image }))} error={errors.image} placeholder="nginx:1.27" required autoFocus={isUpdate} />
      </Grid>
      <Grid columns="1fr 1fr">
        <SelectInput
          label="Mode"
          value={values.mode}
          options={[
            ['replicated', 'Replicated: a number of tasks'],
            ['global', 'Global: one task on every node'],
          ]}
          onChange={(mode) => change((v) => ({ ...v, mode }))}
          error={errors.mode}
          disabled={isUpdate}
        />
        {values.mode === 'replicated' && (
          <TextInput label="Replicas" value={values.replicas} onChange={(replicas) => change((v) => ({ ...v, replicas }))} error={errors.replicas} numeric required />
        )}
      </Grid>
      <Grid columns="1fr 1fr">
        <TextInput label="Command" value={values.command} onChange={(command) => change((v) => ({ ...v, command }))} error={errors.command} help="replaces the image's entrypoint" placeholder="sh -c" />
        <TextInput label="Arguments" value={values.args} onChange={(args) => change((v) => ({ ...v, args }))} error={errors.args} help="quoted as in a shell" placeholder={'"sleep 3600"'} />
      </Grid>
    </Section>
  );
}
