/** Errors the raft runner hands to callers; `code` follows the project's error codes (gRPC-aligned). */
export type RaftErrorCode = 'Unavailable' | 'FailedPrecondition' | 'InvalidArgument' | 'Cancelled' | 'DeadlineExceeded';

/**
 * Whether a failed write may still take effect: 'not-applied' when it never entered the log (no
 * leader, refused), 'unknown' when it may have been committed (timeout, leadership change, crash).
 */
export type WriteOutcome = 'not-applied' | 'unknown';

export class RaftError extends Error {
  constructor(
    readonly code: RaftErrorCode,
    message: string,
    readonly outcome: WriteOutcome = 'unknown',
  ) {
    super(message);
    this.name = 'RaftError';
  }
}
