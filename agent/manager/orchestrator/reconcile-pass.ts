/**
 * One orchestrator pass: each key (a service, a node, a task) reconciled in its own transaction, the
 * transactions grouped into store batches. A key whose reconcile throws is logged and skipped (its
 * writes rolled back, its claims dropped) so one bad service cannot stall the others; a batch that
 * fails to commit fails the pass, which the WorkQueue retries.
 *
 * The work of a pass is bounded, whatever its size (30,000 new tasks, say):
 * - a transaction holds at most `maxTxWrites` writes: a reconcile asks `full()` as it goes, stops once
 *   it is true and returns MORE, and is run again in a new transaction until it is done (SwarmKit's
 *   batch.Update makes a transaction per task; a few hundred keep entries far under the 1 MiB limit);
 * - a batch is committed once its transactions have made `maxBatchWrites` writes (a key that writes
 *   nothing counts as one), and the pass yields to the event loop before building the next, so raft
 *   ticks, heartbeats and the dispatcher keep running while a pass creates tens of thousands of tasks.
 * Effects of a batch's transactions (restart timers, claims) happen once that batch has committed.
 */
import type { ComponentLogger } from '../../runtime';
import type { MemoryStore, WriteTx } from '../../store';
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
}

/** 500 tasks are ≈ 220 KB of entry and ≈ 0.1 s of the leader's time to write. */
export const DEFAULT_PASS_LIMITS: Readonly<PassLimits> = { maxTxWrites: 500, maxBatchWrites: 500 };

export interface PassOptions {
  limits?: Readonly<PassLimits>;
  /** False once the pass's owner has stopped (leadership lost): the pass ends at the next batch. */
  current?: () => boolean;
}

/** Lets timers and I/O run (raft ticks, heartbeats) before the next stretch of synchronous work. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
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
        let written = 0;
        while (next < keys.length && written < limits.maxBatchWrites) {
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
          written += Math.max(1, writes);
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
