/**
 * How much store writing a leader's component does in one go before it hands the event loop back.
 *
 * A manager builds, proposes and applies its writes on the thread that also ticks raft, answers
 * heartbeats and, in the desktop app, serves the UI. At 0.1–0.5 ms of store work per task write, a
 * few hundred writes in one batch hold that thread for 100–250 ms, and raft applies the same entry
 * again later in one piece. So a writer fills a batch only until its slice is spent — `maxWrites`
 * writes, or `maxMs` of wall time since the slice began, whichever comes first — then commits it and
 * yields (setImmediate) before starting the next. Wall time rather than a count alone, because the
 * cost of a write varies tenfold with the object and the machine's load.
 */

export interface SliceLimits {
  /** Writes after which the slice is spent. */
  maxWrites: number;
  /** Milliseconds after which the slice is spent (at least one write is always made); none if absent. */
  maxMs?: number;
}

/**
 * ≈ 10 ms of building a batch; applying its entry costs about as much again, so one loop iteration
 * stays in the tens of milliseconds. 100 writes bound the entry (≈ 45 KB of tasks) on a fast machine.
 */
export const DEFAULT_SLICE: Readonly<SliceLimits> = { maxWrites: 100, maxMs: 10 };

export class WorkSlice {
  private readonly startedAt = performance.now();
  private writes = 0;

  constructor(private readonly limits: Readonly<SliceLimits> = DEFAULT_SLICE) {}

  /** Counts `n` writes made in this slice. */
  add(n = 1): void {
    this.writes += n;
  }

  get written(): number {
    return this.writes;
  }

  /** True once the slice has made its writes, or used its time after its first write. */
  get spent(): boolean {
    return this.writes >= this.limits.maxWrites || (this.writes > 0 && this.overTime);
  }

  private get overTime(): boolean {
    const { maxMs } = this.limits;
    return maxMs !== undefined && performance.now() - this.startedAt >= maxMs;
  }
}

/** Lets timers and I/O run (raft ticks, heartbeats, the UI) before the next stretch of synchronous work. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
