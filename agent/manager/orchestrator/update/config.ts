/** Update and rollback settings with SwarmKit's defaults (defined with the spec, in agent/api) filled in. */
import type { Service, UpdateConfig } from '../../../api/objects';
import { DEFAULT_UPDATE_CONFIG } from '../../../api/service-spec';

/** The settings a run uses: the rollback config while rolling back, the update config otherwise. */
export function updateConfigFor(service: Service, rollingBack: boolean): UpdateConfig {
  const given = rollingBack ? service.spec.rollback : service.spec.update;
  return { ...DEFAULT_UPDATE_CONFIG, ...given };
}

/** True while the service's current spec is the result of a rollback still being applied. */
export function isRollingBack(service: Service): boolean {
  return service.status.updateStatus?.state === 'rollback_started';
}
