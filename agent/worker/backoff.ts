/**
 * Timing of a node's dispatcher session: capped exponential backoff with full jitter between failed
 * attempts, and jittered heartbeats.
 *
 * Backoff follows SwarmKit's agent: the ceiling grows as initial + 2 × previous (100 ms, 300 ms,
 * 700 ms, ... capped at 8 s) and each wait is uniform in [0, ceiling). Full jitter spreads out the
 * nodes that all lost the same leader at the same instant, so the new leader is not hit by the whole
 * cluster in one burst.
 */
export const INITIAL_BACKOFF_MS = 100;
export const MAX_BACKOFF_MS = 8000;

/**
 * Heartbeats are sent at period × (1 ± HEARTBEAT_JITTER), uniformly: on average once a period, never
 * in lockstep across nodes. The dispatcher declares a node down after 3 periods, so even the latest
 * heartbeat (1.25 periods) leaves 1.75 periods for the network and a retry through a new session.
 * (SwarmKit jitters on the manager instead, answering period + up to 500 ms; here the period the
 * manager answers is the cluster's setting and the node adds the jitter.)
 */
export const HEARTBEAT_JITTER = 0.25;

export function jitteredHeartbeatMs(periodMs: number, random: () => number): number {
  return Math.max(1, Math.round(periodMs * (1 + HEARTBEAT_JITTER * (2 * random() - 1))));
}

export class Backoff {
  private ceilingMs = 0;

  constructor(
    private readonly random: () => number,
    readonly initialMs = INITIAL_BACKOFF_MS,
    readonly maxMs = MAX_BACKOFF_MS,
  ) {}

  /** The wait before the next attempt; each call after a failure raises the ceiling. */
  next(): number {
    this.ceilingMs = Math.min(this.maxMs, this.initialMs + 2 * this.ceilingMs);
    return Math.floor(this.random() * this.ceilingMs);
  }

  /** After a success: the next failure starts from the initial ceiling again. */
  reset(): void {
    this.ceilingMs = 0;
  }

  get currentCeilingMs(): number {
    return this.ceilingMs;
  }
}
