/** Errors the WAL reports. */

/**
 * The WAL cannot be trusted: a bad record before the tail, a missing segment, or records that contradict
 * each other. Never repaired automatically: truncating here could silently drop acknowledged entries.
 */
export class WalCorruptionError extends Error {
  constructor(
    readonly file: string,
    readonly offset: number | undefined,
    readonly reason: string,
  ) {
    super(
      offset === undefined
        ? `WAL corruption in ${file}: ${reason}`
        : `WAL corruption in ${file} at byte offset ${offset}: ${reason}`,
    );
    this.name = 'WalCorruptionError';
  }
}

/**
 * A write or fsync failed earlier, so the file may hold a partial record and the page cache may not match
 * the disk (an fsync error can drop dirty pages). Appending after that could bury garbage in the middle of
 * the log, so the WAL refuses all further writes; reopening it repairs the tail.
 */
export class WalFailedError extends Error {
  constructor(cause: unknown) {
    super(`WAL is failed after an I/O error and must be reopened: ${cause instanceof Error ? cause.message : String(cause)}`, {
      cause,
    });
    this.name = 'WalFailedError';
  }
}

export class WalClosedError extends Error {
  constructor() {
    super('WAL is closed');
    this.name = 'WalClosedError';
  }
}
