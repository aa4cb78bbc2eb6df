import Typography from '@mui/material/Typography';
import { Grid, RowList, Section, TextInput } from './fields';
import { replaceAt, type SectionProps } from './section-props';

export function PlacementSection({ values, change, errors }: SectionProps) {
  return (
    <Section title="Placement">
      <Typography variant="body2" color="text.secondary" sx={{ mb: 1 }}>
        Constraints such as node.role==worker or node.labels.zone!=b; every one must hold.
      </Typography>
      <RowList
        rows={values.constraints}
        columns="1fr"
        addLabel="Add constraint"
        removeLabel={(index) => `Remove constraint row ${index + 1}`}
        onAdd={() => change((v) => ({ ...v, constraints: [...v.constraints, ''] }))}
        onRemove={(index) => change((v) => ({ ...v, constraints: v.constraints.filter((_, at) => at !== index) }))}
        render={(row, index) => (
          <TextInput
            label={`Constraint ${index + 1}`}
            value={row}
            onChange={(text) => change((v) => ({ ...v, constraints: replaceAt(v.constraints, index, text) }))}
            error={errors[`constraints.${index}`]}
            placeholder="node.role==worker"
          />
        )}
      />
      <Typography variant="body2" color="text.secondary" sx={{ my: 1 }}>
        Spread preferences: tasks are spread evenly over the values of a label, the first label first.
      </Typography>
      <RowList
        rows={values.preferences}
        columns="1fr"
        addLabel="Add spread preference"
        removeLabel={(index) => `Remove spread preference row ${index + 1}`}
        onAdd={() => change((v) => ({ ...v, preferences: [...v.preferences, ''] }))}
        onRemove={(index) => change((v) => ({ ...v, preferences: v.preferences.filter((_, at) => at !== index) }))}
        render={(row, index) => (
          <TextInput
            label={`Spread over label ${index + 1}`}
            value={row}
            onChange={(text) => change((v) => ({ ...v, preferences: replaceAt(v.preferences, index, text) }))}
            error={errors[`preferences.${index}`]}
            placeholder="node.labels.zone"
          />
        )}
      />
      <Grid columns="1fr 1fr">
        <TextInput
          label="Max tasks per node"
          value={values.maxReplicasPerNode}
          onChange={(maxReplicasPerNode) => change((v) => ({ ...v, maxReplicasPerNode }))}
          error={errors.maxReplicasPerNode}
          help="empty for no limit"
          numeric
        />
      </Grid>
    </Section>
  );
}
