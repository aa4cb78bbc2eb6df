/**
 * The bridge between our error vocabulary (ApiError codes) and gRPC status codes, in both directions,
 * so a control API error raised on the leader reaches swarmctl or the desktop app with its code and
 * message intact, even when a follower forwarded the call.
 */
import * as grpc from '@grpc/grpc-js';
import { LEADER_ADDR_METADATA_KEY } from '../api/dispatcher';
import { ApiError, type ErrorCode, isApiError } from '../api/errors';

const STATUS_BY_CODE: Readonly<Record<ErrorCode, grpc.status>> = {
  NotFound: grpc.status.NOT_FOUND,
  Conflict: grpc.status.ABORTED,
  AlreadyExists: grpc.status.ALREADY_EXISTS,
  InvalidArgument: grpc.status.INVALID_ARGUMENT,
  FailedPrecondition: grpc.status.FAILED_PRECONDITION,
  Unavailable: grpc.status.UNAVAILABLE,
  PermissionDenied: grpc.status.PERMISSION_DENIED,
  Internal: grpc.status.INTERNAL,
};

const CODE_BY_STATUS = new Map<grpc.status, ErrorCode>(
  (Object.entries(STATUS_BY_CODE) as [ErrorCode, grpc.status][]).map(([code, status]) => [status, code]),
);

/** Carries our code in metadata too: ABORTED alone cannot tell Conflict from other aborts. */
const ERROR_CODE_KEY = 'swarmdesk-error-code';
/** The input field an error blames (ApiError details.field), so it survives a follower's relay. */
const ERROR_FIELD_KEY = 'swarmdesk-error-field';

/** A grpc status error that services pass to their callback or emit; grpc-js sends code and details. */
export class RpcStatusError extends Error implements grpc.ServerErrorResponse {
  override readonly name = 'RpcStatusError';
  readonly details: string;
  readonly metadata = new grpc.Metadata();

  constructor(
    readonly code: grpc.status,
    message: string,
    errorCode?: ErrorCode,
    field?: string,
  ) {
    super(message);
    this.details = message;
    if (errorCode !== undefined) this.metadata.set(ERROR_CODE_KEY, errorCode);
    if (field !== undefined) this.metadata.set(ERROR_FIELD_KEY, field);
  }
}

/**
 * UNAVAILABLE from a manager that is not the leader, naming the leader (message and trailing metadata)
 * when it is known, so a node or joining manager can dial it next.
 */
export function notLeaderError(leaderAddress: string | undefined): RpcStatusError {
  const err = new RpcStatusError(
    grpc.status.UNAVAILABLE,
    leaderAddress === undefined ? 'this manager is not the leader, and no leader is known yet' : `this manager is not the leader; the leader is at ${leaderAddress}`,
    'Unavailable',
  );
  if (leaderAddress !== undefined) err.metadata.set(LEADER_ADDR_METADATA_KEY, leaderAddress);
  return err;
}

export function isServiceError(err: unknown): err is grpc.ServiceError {
  return err instanceof Error && typeof (err as Partial<grpc.ServiceError>).code === 'number' && 'details' in err;
}

/**
 * What a server sends for `err`. ApiErrors and status errors keep their code and message; anything
 * else is a bug whose message may describe internals, so the caller gets a generic INTERNAL and the
 * server logs the original through `report`.
 */
export function toServerError(err: unknown, report?: (err: unknown) => void): grpc.ServerErrorResponse {
  if (err instanceof RpcStatusError) return err;
  if (isApiError(err)) {
    const field = err.details.field;
    return new RpcStatusError(STATUS_BY_CODE[err.code], err.message, err.code, typeof field === 'string' ? field : undefined);
  }
  if (isServiceError(err)) {
    // A forwarded call's failure: pass the leader's answer through unchanged.
    const forwarded = new RpcStatusError(err.code, err.details);
    for (const key of [ERROR_CODE_KEY, ERROR_FIELD_KEY]) {
      const value = err.metadata?.get(key)[0];
      if (typeof value === 'string') forwarded.metadata.set(key, value);
    }
    return forwarded;
  }
  if (err instanceof Error && typeof (err as Partial<grpc.ServerErrorResponse>).code === 'number') {
    return err as grpc.ServerErrorResponse;
  }
  report?.(err);
  return new RpcStatusError(grpc.status.INTERNAL, 'internal error (see the manager\'s log)', 'Internal');
}

/** The ApiError a client sees for a failed call, with `target` named when the service was unreachable. */
export function fromServiceError(err: unknown, target: string): ApiError {
  if (!isServiceError(err)) return new ApiError('Internal', err instanceof Error ? err.message : String(err));
  const carried = err.metadata?.get(ERROR_CODE_KEY)[0];
  const code = typeof carried === 'string' && carried in STATUS_BY_CODE ? (carried as ErrorCode) : (CODE_BY_STATUS.get(err.code) ?? 'Internal');
  if (err.code === grpc.status.UNAVAILABLE && carried === undefined) {
    return new ApiError('Unavailable', `cannot reach ${target}: ${err.details}`);
  }
  if (err.code === grpc.status.DEADLINE_EXCEEDED) {
    return new ApiError('Unavailable', `${target} did not answer in time`);
  }
  const field = err.metadata?.get(ERROR_FIELD_KEY)[0];
  return new ApiError(code, err.details, typeof field === 'string' ? { details: { field } } : {});
}
