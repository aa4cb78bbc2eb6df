/**
 * What a long-running component is handed besides its collaborators: a clock and a logger. Both are
 * injected so tests can drive timeouts with a virtual clock instead of sleeping, which is what keeps
 * heartbeat and backoff tests deterministic on a loaded machine.
 */

/** Opaque: whatever the clock's setTimeout returned, handed back to its clearTimeout. */
export type TimerHandle = unknown;

export interface Clock {
  /** Milliseconds since the epoch (or any fixed origin: only differences are used). */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

export const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export type LogFields = Readonly<Record<string, unknown>>;

/** The part of swarmd's logger that components use; any structured logger with these methods fits. */
export interface ComponentLogger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
}

export const silentLogger: ComponentLogger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
};
