/**
 * Every problem with a service spec as `{ field, message }` pairs, from the same schema and wording the
 * control API uses (service-spec.ts), so a form can put the server's message on the field it names
 * before anything is sent. `field` is the dotted path the server would report (`spec.task.container.image`).
 */
import { fieldErrorMap, serviceSpecSchema } from './service-spec';

export interface SpecFieldError {
  field: string;
  message: string;
}

export function serviceSpecFieldErrors(spec: unknown): SpecFieldError[] {
  const result = serviceSpecSchema.safeParse(spec, { error: fieldErrorMap });
  if (result.success) return [];
  return result.error.issues.map((issue) => ({ field: ['spec', ...issue.path].map(String).join('.'), message: issue.message }));
}
