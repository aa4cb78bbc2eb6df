/** Errors the raft runner hands to callers; `code` follows the project's error codes (gRPC-aligned). */
export type RaftErrorCode = 'Unavailable' | 'FailedPrecondition' | 'InvalidArgument' | 'Cancelled' | 'DeadlineExceeded';

export class RaftError extends Error {
  constructor(
    readonly code: RaftErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'RaftError';
  }
}
