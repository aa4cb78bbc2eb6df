/**
 * One orchestrator pass: each key (a service, a node) reconciled in its own transaction of one store
 * batch. A key whose reconcile throws is logged and skipped (its writes rolled back, its claims
 * dropped) so one bad service cannot stall the others; a batch that fails to commit fails the pass,
 * which the WorkQueue retries.
 */
import type { ComponentLogger } from '../../runtime';
import type { MemoryStore, WriteTx } from '../../store';
import { TxEffects } from './tx-effects';

export async function reconcilePass(
  store: MemoryStore,
  keys: readonly string[],
  reconcile: (tx: WriteTx, key: string, effects: TxEffects) => void,
  logger: ComponentLogger,
  name: string,
): Promise<void> {
  const effects: TxEffects[] = [];
  try {
    await store.batch((batch) => {
      for (const key of keys) {
        const mine = new TxEffects();
        try {
          batch.update((tx) => reconcile(tx, key, mine));
          effects.push(mine);
        } catch (err) {
          mine.aborted();
          logger.warn(`${name}: reconcile failed`, { key, error: err instanceof Error ? err.message : String(err) });
        }
      }
    });
  } catch (err) {
    for (const e of effects) e.aborted();
    throw err;
  }
  for (const e of effects) e.committed();
}
