/**
 * The project-wide error vocabulary. Every layer (store, control API, CLI, UI) speaks these codes so one
 * mapping per surface (gRPC status, CLI exit code, UI message) is enough. Errors are plain values with a
 * code: callers branch on `code`, never on message text.
 */

export type ErrorCode =
  | 'NotFound'
  | 'Conflict'
  | 'AlreadyExists'
  | 'InvalidArgument'
  | 'FailedPrecondition'
  | 'Unavailable'
  | 'PermissionDenied'
  | 'Internal';

export const ERROR_CODES: readonly ErrorCode[] = [
  'NotFound',
  'Conflict',
  'AlreadyExists',
  'InvalidArgument',
  'FailedPrecondition',
  'Unavailable',
  'PermissionDenied',
  'Internal',
];

export interface ApiErrorOptions {
  cause?: unknown;
  /** Machine-readable extras (never object contents: specs may hold secrets). */
  details?: Readonly<Record<string, string | number | boolean>>;
}

export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly code: ErrorCode;
  readonly details: Readonly<Record<string, string | number | boolean>>;

  constructor(code: ErrorCode, message: string, options: ApiErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details ?? {};
  }

  /** What crosses process boundaries (IPC, gRPC metadata): no stack, no cause. */
  toJSON(): { code: ErrorCode; message: string; details: Readonly<Record<string, string | number | boolean>> } {
    return { code: this.code, message: this.message, details: this.details };
  }
}

export function isApiError(err: unknown, code?: ErrorCode): err is ApiError {
  return err instanceof ApiError && (code === undefined || err.code === code);
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && (ERROR_CODES as readonly string[]).includes(value);
}
