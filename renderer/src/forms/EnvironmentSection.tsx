import { RowList, Section, TextInput } from './fields';
import { replaceAt, type SectionProps } from './section-props';

export function EnvironmentSection({ values, change, errors }: SectionProps) {
  return (
    <Section title="Environment">
      <RowList
        rows={values.env}
        columns="1fr 2fr"
        addLabel="Add variable"
        removeLabel={(index) => `Remove environment row ${index + 1}`}
        onAdd={() => change((v) => ({ ...v, env: [...v.env, { key: '', value: '' }] }))}
        onRemove={(index) => change((v) => ({ ...v, env: v.env.filter((_, at) => at !== index) }))}
        render={(row, index) => (
          <>
            <TextInput label={`Variable ${index + 1}`} value={row.key} onChange={(key) => change((v) => ({ ...v, env: replaceAt(v.env, index, { ...row, key }) }))} error={errors[`env.${index}`]} />
            <TextInput label={`Value ${index + 1}`} value={row.value} onChange={(value) => change((v) => ({ ...v, env: replaceAt(v.env, index, { ...row, value }) }))} />
          </>
        )}
      />
    </Section>
  );
}
