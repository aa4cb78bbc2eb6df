/**
 * A service that was deleted, or is marked `pendingDelete`, gets every task told to go away for good
 * (desiredState REMOVE); the task reaper deletes each once it has stopped, and then the service.
 */
import { TaskState } from '../../api/objects';
import type { WriteTx } from '../../store';
import type { InstanceClaims } from './claims';
import { raiseDesiredState } from './tasks';

/** Returns how many tasks were told to go. */
export function removeServiceTasks(tx: WriteTx, serviceId: string, claims: InstanceClaims): number {
  claims.cancelService(serviceId);
  let n = 0;
  for (const task of tx.find('task', 'serviceId', serviceId)) if (raiseDesiredState(tx, task.id, TaskState.REMOVE)) n++;
  return n;
}
