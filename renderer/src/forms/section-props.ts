import type { FieldErrors, ServiceFormValues } from './service-form-model';

/** What every section of the service form gets. */
export interface SectionProps {
  values: ServiceFormValues;
  change(update: (values: ServiceFormValues) => ServiceFormValues): void;
  errors: FieldErrors;
  /** The update form: name and mode cannot change. */
  isUpdate: boolean;
}

/** A new array with one element changed. */
export function replaceAt<T>(list: readonly T[], index: number, value: T): T[] {
  return list.map((entry, at) => (at === index ? value : entry));
}
