/**
 * Time and deferral as the runner sees them. Production uses Node's timers; the simulator passes a
 * virtual scheduler so whole clusters run deterministically from a seed.
 */
export interface TimerHandle {
  cancel(): void;
}

export interface Scheduler {
  now(): number;
  /** Runs fn after `ms` milliseconds. */
  after(ms: number, fn: () => void): TimerHandle;
  /** Runs fn every `ms` milliseconds until cancelled. */
  every(ms: number, fn: () => void): TimerHandle;
  /** Runs fn soon, after the current macrotask (so several events can be handled in one batch). */
  defer(fn: () => void): void;
  /**
   * Runs fn once the code running now is done, before the event loop turns (a microtask), so what fn
   * sends leaves in this turn. Schedulers without it use `defer`.
   */
  soon?(fn: () => void): void;
}

export const realScheduler: Scheduler = {
  now: () => Date.now(),
  after(ms, fn) {
    const timer = setTimeout(fn, ms);
    return { cancel: () => clearTimeout(timer) };
  },
  every(ms, fn) {
    const timer = setInterval(fn, ms);
    return { cancel: () => clearInterval(timer) };
  },
  defer(fn) {
    setImmediate(fn);
  },
  soon(fn) {
    queueMicrotask(fn);
  },
};
