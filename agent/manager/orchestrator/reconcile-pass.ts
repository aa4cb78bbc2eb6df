/**
 * One orchestrator pass: each key (a service, a node, a task) reconciled in its own transaction, the
 * transactions grouped into store batches. A key whose reconcile throws is logged and skipped (its
 * writes rolled back, its claims dropped) so one bad service cannot stall the others; a batch that
 * fails to commit fails the pass, which the WorkQueue retries.
 *
 * The work of a pass is bounded, whatever its size (30,000 new tasks, say):
 * - a transaction holds at most `maxTxWrites` writes: a reconcile asks `full()` as it goes, stops once
 *   it is true and returns MORE, and is run again in a new transaction until it is done (SwarmKit's
 *   batch.Update makes a transaction per task; a hundred keep entries far under the 1 MiB limit);
 * - a batch is committed once its transactions have made `maxBatchWrites` writes (a key that writes
 *   nothing counts as one) or once it has been built for `maxBatchMs`, and the pass yields to the event
 *   loop before building the next, so raft ticks, heartbeats, the dispatcher and the desktop app's UI
 *   keep running while a pass creates tens of thousands of tasks (see ../work-slice.ts).
 * Time ends a batch between transactions only, never one under way: a reconcile often reads its whole
 * key first (every task of a service), and a transaction cut short by time after that read would be
 * read again for every few writes.
 * Effects of a batch's transactions (restart timers, claims) happen once that batch has committed.
 */
import type { ComponentLogger } from '../../runtime';
import type { MemoryStore, WriteTx } from '../../store';
import { DEFAULT_SLICE, WorkSlice, yieldToEventLoop } from '../work-slice';
import { TxEffects } from './tx-effects';

/** Returned by a reconcile that stopped because its transaction was full: run it again. */
export const MORE = 'more';
export type ReconcileOutcome = void | typeof MORE;

/**
 * `full()` is true once the transaction has made as many writes as it may; the reconcile should stop
 * there and return MORE.
 */
export type Reconcile = (tx: WriteTx, key: string, effects: TxEffects, full: () => boolean) => ReconcileOutcome;

export interface PassLimits {
  /** Writes one transaction may make before full() says stop. */
  maxTxWrites: number;
  /** Writes (at least one per transaction) after which a batch is committed and the pass yields. */
  maxBatchWrites: number;
  /** Milliseconds of building after which no further transaction joins the batch; none if absent. */
  maxBatchMs?: number;
}

/** The work slice's bounds (≈ 10 ms, at most 100 writes: ≈ 45 KB of tasks in an entry). */
export const DEFAULT_PASS_LIMITS: Readonly<PassLimits> = { maxTxWrites: DEFAULT_SLICE.maxWrites, maxBatchWrites: DEFAULT_SLICE.maxWrites, maxBatchMs: DEFAULT_SLICE.maxMs };

export interface PassOptions {
  limits?: Readonly<PassLimits>;
  /** False once the pass's owner has stopped (leadership lost): the pass ends at the next batch. */
  current?: () => boolean;
}

export async function reconcilePass(
  store: MemoryStore,
  keys: readonly string[],
  reconcile: Reconcile,
  logger: ComponentLogger,
  name: string,
  options: PassOptions = {},
): Promise<void> {
  const limits = options.limits ?? DEFAULT_PASS_LIMITS;
  const current = options.current ?? (() => true);
  let next = 0;
  while (next < keys.length) {
    if (!current()) return;
    const effects: TxEffects[] = [];
    try {
      await store.batch((batch) => {
        // The slice starts when the batch's turn comes, not when it was queued behind other writers.
        const slice = new WorkSlice({ maxWrites: limits.maxBatchWrites, maxMs: limits.maxBatchMs });
        while (next < keys.length && !slice.spent) {
          const key = keys[next];
          const mine = new TxEffects();
          let outcome: ReconcileOutcome = undefined;
          let writes = 0;
          try {
            outcome = batch.update((tx) => {
              const result = reconcile(tx, key, mine, () => tx.writes >= limits.maxTxWrites);
              writes = tx.writes;
              return result;
            });
            effects.push(mine);
          } catch (err) {
            mine.aborted();
            logger.warn(`${name}: reconcile failed`, { key, error: err instanceof Error ? err.message : String(err) });
          }
          slice.add(Math.max(1, writes));
          if (outcome === MORE && writes > 0) continue;
          if (outcome === MORE) logger.warn(`${name}: reconcile asked to go on without writing anything`, { key });
          next++;
        }
      });
    } catch (err) {
      for (const e of effects) e.aborted();
      throw err;
    }
    for (const e of effects) e.committed();
    if (next < keys.length) await yieldToEventLoop();
  }
}
