/**
 * Logs when this process's event loop was held for long. Raft's election timeout is 1 s by default,
 * so a stall of that order on a manager moves leadership; the warning says so in the node's own log,
 * next to the election it caused, instead of leaving a reader to guess from timestamps.
 */
import type { ComponentLogger } from '../runtime';

export interface StallWatchOptions {
  logger: ComponentLogger;
  /** A gap longer than this past the expected tick is reported (default 500 ms). */
  thresholdMs?: number;
  /** How often the loop is sampled (default 100 ms). */
  everyMs?: number;
  now?: () => number;
}

/** Starts watching; returns a function that stops it. The timer never keeps the process alive. */
export function watchEventLoopStalls(options: StallWatchOptions): () => void {
  const thresholdMs = options.thresholdMs ?? 500;
  const everyMs = options.everyMs ?? 100;
  const now = options.now ?? (() => performance.now());
  let last = now();
  const timer = setInterval(() => {
    const at = now();
    const lateMs = at - last - everyMs;
    last = at;
    if (lateMs > thresholdMs) options.logger.warn('event loop blocked', { ms: Math.round(lateMs) });
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
