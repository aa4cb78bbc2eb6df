/**
 * Node registration rate limiting (SwarmKit's nodeStore.CheckRateLimit): a node whose session flaps
 * would otherwise re-register in a tight loop, each registration a store write through raft. A node may
 * register `count` times (3) with less than `periodMs` (8 s) between one accepted registration and the
 * next; one more within the period is refused with UNAVAILABLE, and the node backs off (with jitter,
 * agent/worker/backoff.ts) before it tries again. A refused attempt does not move the window: once
 * `periodMs` has passed since the last accepted registration, the count starts over.
 *
 * The state lives in memory for one leadership term, as the rest of the dispatcher's session state.
 */
import { ApiError } from '../../api/errors';
import type { Clock } from '../../runtime';

export interface RegistrationLimit {
  /** Registrations accepted in a row, each within periodMs of the previous one. */
  count: number;
  periodMs: number;
}

export const DEFAULT_REGISTRATION_LIMIT: RegistrationLimit = { count: 3, periodMs: 8000 };

interface Attempts {
  /** Registrations counted in the current run. */
  count: number;
  /** When the last accepted registration came (ms, the dispatcher's clock). */
  lastAcceptedAt: number;
}

export class RegistrationLimiter {
  private readonly nodes = new Map<string, Attempts>();

  constructor(
    private readonly clock: Clock,
    readonly limit: RegistrationLimit = DEFAULT_REGISTRATION_LIMIT,
  ) {}

  /** Counts a registration of `nodeId`; throws UNAVAILABLE when it is one too many for the period. */
  admit(nodeId: string): void {
    const now = this.clock.now();
    const attempts = this.nodes.get(nodeId);
    if (attempts === undefined) {
      this.nodes.set(nodeId, { count: 1, lastAcceptedAt: now });
      return;
    }
    if (now - attempts.lastAcceptedAt > this.limit.periodMs) attempts.count = 0;
    attempts.count++;
    if (attempts.count > this.limit.count) {
      throw new ApiError('Unavailable', `node ${nodeId} exceeded rate limit count of registrations`);
    }
    attempts.lastAcceptedAt = now;
  }

  /** The node is gone from the cluster: nothing to remember. */
  forget(nodeId: string): void {
    this.nodes.delete(nodeId);
  }

  clear(): void {
    this.nodes.clear();
  }
}
