/**
 * How failures cross to the renderer: the project's error codes, a sentence, and the field to blame —
 * `details.field` when the thrower named it (whatever the code: a service name already in use is
 * AlreadyExists on `spec.name`), else, for InvalidArgument, the field the control API names first in
 * its message.
 */
import { ApiError, isErrorCode } from '../../agent/api/errors';
import type { ContractError } from '../contract';

/** The control API names the field first: `spec.task.container.image: required`. */
const FIELD_PREFIX = /^((?:spec|request)(?:\.[A-Za-z0-9_]+)*|[a-z][A-Za-z0-9]*(?:\.[A-Za-z0-9_]+)+): /;

export function contractError(code: ContractError['code'], message: string, field?: string): ContractError {
  return field === undefined ? { code, message } : { code, message, field };
}

export function toContractError(err: unknown): ContractError {
  if (err instanceof ApiError || (err instanceof Error && isErrorCode((err as { code?: unknown }).code))) {
    const code = (err as ApiError).code;
    const named = (err as Partial<ApiError>).details?.field;
    const field = typeof named === 'string' ? named : code === 'InvalidArgument' ? FIELD_PREFIX.exec(err.message)?.[1] : undefined;
    return contractError(code, err.message, field);
  }
  const message = err instanceof Error ? err.message : String(err);
  return { code: 'Internal', message: message === '' ? 'internal error' : message };
}
