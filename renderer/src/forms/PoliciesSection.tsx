import type { RestartPolicy, UpdateConfig } from '../../../agent/api/objects';
import { Grid, Section, SelectInput, TextInput } from './fields';
import type { PolicyValues } from './service-form-model';
import type { SectionProps } from './section-props';

const CONDITIONS: readonly (readonly [RestartPolicy['condition'], string])[] = [
  ['any', 'Any exit'],
  ['on-failure', 'On failure'],
  ['none', 'Never'],
];
const ORDERS: readonly (readonly [UpdateConfig['order'], string])[] = [
  ['stop-first', 'Stop first'],
  ['start-first', 'Start first'],
];

export function RestartSection({ values, change, errors }: SectionProps) {
  const restart = values.restart;
  const set = (update: Partial<typeof restart>) => change((v) => ({ ...v, restart: { ...v.restart, ...update } }));
  return (
    <Section title="Restart policy" description="Durations as 5s, 1m30s; 0 attempts means no limit.">
      <Grid columns="1fr 1fr 1fr 1fr">
        <SelectInput label="Restart condition" value={restart.condition} options={CONDITIONS} onChange={(condition) => set({ condition })} error={errors['restart.condition']} />
        <TextInput label="Restart delay" value={restart.delay} onChange={(delay) => set({ delay })} error={errors['restart.delay']} />
        <TextInput label="Restart max attempts" value={restart.maxAttempts} onChange={(maxAttempts) => set({ maxAttempts })} error={errors['restart.maxAttempts']} numeric />
        <TextInput label="Restart window" value={restart.window} onChange={(window) => set({ window })} error={errors['restart.window']} />
      </Grid>
    </Section>
  );
}

function PolicyFields({ prefix, title, policy, set, errors }: { prefix: 'update' | 'rollback'; title: string; policy: PolicyValues; set(update: Partial<PolicyValues>): void; errors: SectionProps['errors'] }) {
  const actions: readonly (readonly [UpdateConfig['failureAction'], string])[] =
    prefix === 'update'
      ? [
          ['pause', 'Pause'],
          ['continue', 'Continue'],
          ['rollback', 'Roll back'],
        ]
      : [
          ['pause', 'Pause'],
          ['continue', 'Continue'],
        ];
  return (
    <Grid columns="1fr 1fr 1fr">
      <TextInput label={`${title} parallelism`} value={policy.parallelism} onChange={(parallelism) => set({ parallelism })} error={errors[`${prefix}.parallelism`]} help="tasks at a time (0: all)" numeric />
      <TextInput label={`${title} delay`} value={policy.delay} onChange={(delay) => set({ delay })} error={errors[`${prefix}.delay`]} help="between batches" />
      <SelectInput label={`${title} failure action`} value={policy.failureAction} options={actions} onChange={(failureAction) => set({ failureAction })} error={errors[`${prefix}.failureAction`]} />
      <TextInput label={`${title} monitor`} value={policy.monitor} onChange={(monitor) => set({ monitor })} error={errors[`${prefix}.monitor`]} help="watch each task this long" />
      <TextInput label={`${title} max failure ratio`} value={policy.maxFailureRatio} onChange={(maxFailureRatio) => set({ maxFailureRatio })} error={errors[`${prefix}.maxFailureRatio`]} help="0 to 1" />
      <SelectInput label={`${title} order`} value={policy.order} options={ORDERS} onChange={(order) => set({ order })} error={errors[`${prefix}.order`]} />
    </Grid>
  );
}

export function UpdatePoliciesSection({ values, change, errors }: SectionProps) {
  return (
    <>
      <Section title="Update policy" description="How a new spec rolls out over the tasks.">
        <PolicyFields prefix="update" title="Update" policy={values.update} set={(update) => change((v) => ({ ...v, update: { ...v.update, ...update } }))} errors={errors} />
      </Section>
      <Section title="Rollback policy" description="How a rollback to the previous spec rolls out.">
        <PolicyFields prefix="rollback" title="Rollback" policy={values.rollback} set={(rollback) => change((v) => ({ ...v, rollback: { ...v.rollback, ...rollback } }))} errors={errors} />
      </Section>
    </>
  );
}
