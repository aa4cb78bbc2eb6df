/**
 * A service that was deleted, or is marked `pendingDelete`, gets every task told to go away for good
 * (desiredState REMOVE); the task reaper deletes each once it has stopped, and then the service.
 */
import { TaskState } from '../../api/objects';
import type { WriteTx } from '../../store';
import type { InstanceClaims } from './claims';
import { raiseDesiredState } from './tasks';

/**
 * Returns how many tasks were told to go, and whether that was all of them: it stops early once
 * `full()` (the transaction has written enough) and is then called again in a new transaction.
 */
export function removeServiceTasks(tx: WriteTx, serviceId: string, claims: InstanceClaims, full: () => boolean): { removed: number; done: boolean } {
  claims.cancelService(serviceId);
  let removed = 0;
  for (const task of tx.find('task', 'serviceId', serviceId)) {
    if (task.desiredState >= TaskState.REMOVE) continue;
    if (full()) return { removed, done: false };
    if (raiseDesiredState(tx, task.id, TaskState.REMOVE)) removed++;
  }
  return { removed, done: true };
}
