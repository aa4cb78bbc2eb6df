/**
 * Rolling a service back: its spec becomes the previous one again (and the failed spec becomes the
 * previous one), under a new spec version so every component sees a change, and the update status
 * says a rollback started. Shared by the automatic rollback (failureAction rollback) and, through the
 * control API, `service rollback`. Tasks that already run the restored spec are not replaced: the
 * updater compares specs, not only versions (see isTaskDirty).
 */
import { ApiError } from '../../../api/errors';
import type { Service } from '../../../api/objects';

export function rolledBackService(service: Service, message: string, now: Date): Service {
  if (service.previousSpec === undefined) {
    throw new ApiError('FailedPrecondition', `service ${service.spec.name} has no previous spec to roll back to`);
  }
  return {
    ...service,
    spec: service.previousSpec,
    previousSpec: service.spec,
    specVersion: service.specVersion + 1,
    status: { ...service.status, updateStatus: { state: 'rollback_started', startedAt: now.toISOString(), message } },
  };
}
