/**
 * Coalescing work: events mark keys (service ids, mostly) as needing attention, and one pass at a
 * time handles every key marked so far. While a pass is writing, new marks wait for the next pass, so a
 * burst of events costs a few store batches rather than one write per event. A failed pass puts its
 * keys back and is retried after `retryMs` on the injected clock.
 */
import type { Clock, ComponentLogger, TimerHandle } from '../../runtime';

export class WorkQueue {
  private readonly marked = new Set<string>();
  private busy = false;
  private stopped = true;
  private retryTimer: TimerHandle | undefined;
  private idleWaiters: (() => void)[] = [];
  /** Bumped by stop(): a pass started before then learns through `current()` that it should end. */
  private generation = 0;

  /** @param pass handles `keys`; `current()` turns false once the queue is stopped (end early then). */
  constructor(
    private readonly pass: (keys: readonly string[], current: () => boolean) => Promise<void>,
    private readonly clock: Clock,
    private readonly logger: ComponentLogger,
    private readonly name: string,
    private readonly retryMs = 1000,
  ) {}

  start(): void {
    this.stopped = false;
  }

  stop(): void {
    this.stopped = true;
    this.generation++;
    this.marked.clear();
    if (this.retryTimer !== undefined) this.clock.clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  add(key: string): void {
    if (this.stopped) return;
    this.marked.add(key);
    this.kick();
  }

  addAll(keys: Iterable<string>): void {
    if (this.stopped) return;
    for (const key of keys) this.marked.add(key);
    this.kick();
  }

  /** Resolves when no pass is running and nothing is marked (tests and shutdown). */
  idle(): Promise<void> {
    if (!this.busy && this.marked.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private kick(): void {
    if (this.busy || this.stopped || this.marked.size === 0) {
      if (!this.busy && this.marked.size === 0) this.wakeIdle();
      return;
    }
    const keys = [...this.marked];
    this.marked.clear();
    this.busy = true;
    const generation = this.generation;
    this.pass(keys, () => generation === this.generation)
      .catch((err: unknown) => {
        if (this.stopped) return;
        this.logger.warn(`${this.name}: pass failed, retrying`, { keys: keys.length, error: err instanceof Error ? err.message : String(err) });
        for (const key of keys) this.marked.add(key);
        if (this.retryTimer === undefined) {
          this.retryTimer = this.clock.setTimeout(() => {
            this.retryTimer = undefined;
            this.kick();
          }, this.retryMs);
        }
      })
      .finally(() => {
        this.busy = false;
        if (this.retryTimer === undefined) this.kick();
        else if (this.marked.size === 0) this.wakeIdle();
      });
  }

  private wakeIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const wake of waiters) wake();
  }
}
