/**
 * The control API's service methods, run on the leader (SwarmKit's controlapi/service.go). Specs
 * arrive validated (control-schema.ts); the rules here are the ones that need the store: unique
 * names, versions read before writing, no renaming, no switching between replicated and global.
 *
 * Every spec change bumps `specVersion` and keeps the spec it replaced in `previousSpec`, which is
 * what `rollbackService` goes back to. The orchestrators and the updater turn those changes into
 * tasks; nothing here touches a task.
 */
import { isDeepStrictEqual } from 'node:util';
import type {
  CreateServiceRequest,
  Empty,
  GetServiceRequest,
  RemoveServiceRequest,
  RollbackServiceRequest,
  ServiceView,
  UpdateServiceRequest,
} from '../../api/control';
import { ApiError } from '../../api/errors';
import { type Service, type ServiceSpec, TaskState } from '../../api/objects';
import { newId, type MemoryStore, type ReadTx } from '../../store';
import { rolledBackService } from '../orchestrator/update/rollback';

export interface ServiceHandlersOptions {
  store: MemoryStore;
  /** Stamps the update status of a manual rollback. */
  now?: () => Date;
}

/** The message SwarmKit gives a rollback asked for by a person (the updater writes its own). */
export const MANUAL_ROLLBACK_MESSAGE = 'manually requested rollback';

/**
 * Running: tasks that are RUNNING, meant to keep running, on a node that is not down (a down node's
 * last report is stale). Desired: the replica count, or for a global service the tasks it wants running.
 */
export function replicaCounts(tx: ReadTx, service: Service): ServiceView['replicas'] {
  let running = 0;
  let wanted = 0;
  for (const task of tx.find('task', 'serviceId', service.id)) {
    if (task.desiredState > TaskState.RUNNING) continue;
    wanted++;
    if (task.status.state !== TaskState.RUNNING) continue;
    if (tx.get('node', task.nodeId)?.status.state === 'down') continue;
    running++;
  }
  const desired = 'replicated' in service.spec.mode ? service.spec.mode.replicated.replicas : wanted;
  return { running, desired };
}

function modeName(spec: ServiceSpec): string {
  return 'replicated' in spec.mode ? 'replicated' : 'global';
}

/** Specs compared as the JSON they are stored as (an explicit `undefined` is no change). */
function sameSpec(a: ServiceSpec, b: ServiceSpec): boolean {
  return isDeepStrictEqual(JSON.parse(JSON.stringify(a)), JSON.parse(JSON.stringify(b)));
}

export class ServiceHandlers {
  private readonly store: MemoryStore;
  private readonly now: () => Date;

  constructor(options: ServiceHandlersOptions) {
    this.store = options.store;
    this.now = options.now ?? (() => new Date());
  }

  private view(service: Service): ServiceView {
    return { ...service, replicas: this.store.view((tx) => replicaCounts(tx, service)) };
  }

  private service(serviceId: string): Service {
    const service = this.store.get('service', serviceId);
    if (service === undefined) throw new ApiError('NotFound', `service ${serviceId} not found`);
    return service;
  }

  /** The service at `version`, or Conflict: the caller must read it again and redo its change. */
  private serviceAt(serviceId: string, version: number): Service {
    const current = this.service(serviceId);
    if (current.meta.version !== version) {
      throw new ApiError('Conflict', `service ${serviceId} changed since it was read (version ${version}, now ${current.meta.version}); read it again`);
    }
    return current;
  }

  async createService(request: CreateServiceRequest): Promise<{ service: ServiceView }> {
    const { spec } = request;
    const id = newId();
    await this.store.update((tx) => {
      const existing = tx.getByName('service', spec.name);
      if (existing !== undefined) {
        // The field is named so a form can put the refusal under its Name input (electron/main/errors.ts).
        throw new ApiError('AlreadyExists', `service name "${spec.name}" is already in use by service ${existing.id}`, { details: { field: 'spec.name' } });
      }
      tx.create('service', { id, spec, specVersion: 1, status: {} });
    });
    return { service: this.view(this.service(id)) };
  }

  async getService(request: GetServiceRequest): Promise<{ service: ServiceView }> {
    return { service: this.view(this.service(request.serviceId)) };
  }

  async listServices(): Promise<{ services: ServiceView[] }> {
    return {
      services: this.store.view((tx) => tx.list('service').map((service) => ({ ...service, replicas: replicaCounts(tx, service) }))),
    };
  }

  async updateService(request: UpdateServiceRequest): Promise<{ service: ServiceView }> {
    const current = this.serviceAt(request.serviceId, request.version);
    if (request.spec.name !== current.spec.name) {
      throw new ApiError('InvalidArgument', `spec.name: a service cannot be renamed (it is "${current.spec.name}")`);
    }
    if (modeName(request.spec) !== modeName(current.spec)) {
      throw new ApiError('InvalidArgument', `spec.mode: a ${modeName(current.spec)} service cannot become ${modeName(request.spec)}`);
    }
    let spec = request.spec;
    if (request.force === true) {
      const forceUpdate = Math.max(spec.task.forceUpdate ?? 0, current.spec.task.forceUpdate ?? 0) + 1;
      spec = { ...spec, task: { ...spec.task, forceUpdate } };
    } else if (sameSpec(spec, current.spec)) {
      // Nothing to roll out: a new specVersion would only make the updater replace identical tasks.
      return { service: this.view(current) };
    }
    const { updateStatus: _replaced, ...status } = current.status;
    const updated = await this.store.updateObject('service', {
      ...current,
      spec,
      previousSpec: current.spec,
      specVersion: current.specVersion + 1,
      // A new spec starts a new update: the updater reports on it from scratch.
      status,
    });
    return { service: this.view(updated) };
  }

  async rollbackService(request: RollbackServiceRequest): Promise<{ service: ServiceView }> {
    const current = this.serviceAt(request.serviceId, request.version);
    // The same change the updater makes when an update fails with failureAction rollback.
    const updated = await this.store.updateObject('service', rolledBackService(current, MANUAL_ROLLBACK_MESSAGE, this.now()));
    return { service: this.view(updated) };
  }

  /**
   * Deletes the service object; its tasks stay until the orchestrators raise them to REMOVE and the
   * reaper deletes them once stopped (agent/api/task-lifecycle.ts).
   */
  async removeService(request: RemoveServiceRequest): Promise<Empty> {
    await this.store.update((tx) => {
      if (tx.get('service', request.serviceId) === undefined) throw new ApiError('NotFound', `service ${request.serviceId} not found`);
      tx.delete('service', request.serviceId);
    });
    return {};
  }
}
