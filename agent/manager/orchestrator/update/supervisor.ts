/**
 * The update supervisor (SwarmKit's update.Supervisor): at most one rolling update per service, for the
 * service's current spec version. The orchestrators call ensure() after looking at a service; a newer
 * spec cancels the running update and starts one for the new version (so a service updated while
 * paused starts over); a paused update stays paused until the spec changes. The control API may also
 * clear `updateStatus` when the spec changes (as SwarmKit's does), which has the same effect and also
 * survives a leader change.
 */
import type { Service } from '../../../api/objects';
import type { Clock, ComponentLogger } from '../../../runtime';
import type { MemoryStore } from '../../../store';
import type { InstanceClaims } from '../claims';
import { TaskTracker } from './task-tracker';
import { Updater, dirtyInstances } from './updater';

export interface UpdateSupervisorOptions {
  store: MemoryStore;
  clock: Clock;
  logger: ComponentLogger;
  claims: InstanceClaims;
}

export class UpdateSupervisor {
  private readonly tracker: TaskTracker;
  private readonly updaters = new Map<string, Updater>();
  /** Spec version each service's update paused at, this term. */
  private readonly pausedAt = new Map<string, number>();
  /** Spec version each service's last update ran to its end at, this term (not retried). */
  private readonly finishedAt = new Map<string, number>();
  private running = false;

  constructor(private readonly options: UpdateSupervisorOptions) {
    this.tracker = new TaskTracker(options.store, options.logger);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.tracker.start();
  }

  stop(): void {
    this.running = false;
    for (const updater of this.updaters.values()) updater.cancel();
    this.updaters.clear();
    this.pausedAt.clear();
    this.finishedAt.clear();
    this.tracker.stop();
  }

  /** The running update of a service, if any (tests and diagnostics). */
  updaterOf(serviceId: string): Updater | undefined {
    return this.updaters.get(serviceId);
  }

  /** Resolves when every update running now has ended (tests). */
  async idle(): Promise<void> {
    await Promise.all([...this.updaters.values()].map((u) => u.done));
  }

  ensure(serviceId: string): void {
    if (!this.running) return;
    const service = this.options.store.get('service', serviceId);
    const current = this.updaters.get(serviceId);
    if (current !== undefined) {
      if (service !== undefined && service.pendingDelete !== true && current.specVersion === service.specVersion) return;
      current.cancel();
      this.updaters.delete(serviceId);
    }
    if (service === undefined) {
      this.pausedAt.delete(serviceId);
      this.finishedAt.delete(serviceId);
      return;
    }
    if (service.pendingDelete === true || !this.wanted(service)) return;
    const updater = new Updater(
      {
        ...this.options,
        tracker: this.tracker,
        paused: (id, version) => this.pausedAt.set(id, version),
      },
      serviceId,
      service.specVersion,
    );
    this.updaters.set(serviceId, updater);
    void updater.done.finally(() => {
      if (this.updaters.get(serviceId) !== updater) return;
      this.updaters.delete(serviceId);
      this.finishedAt.set(serviceId, updater.specVersion);
    });
  }

  private wanted(service: Service): boolean {
    const state = service.status.updateStatus?.state;
    if (state === 'paused' || state === 'rollback_paused') {
      // Paused at this version (or, after a leader change, at a version we cannot know): stay paused.
      if ((this.pausedAt.get(service.id) ?? service.specVersion) === service.specVersion) return false;
    }
    if (this.finishedAt.get(service.id) === service.specVersion) return false;
    if (state === 'updating' || state === 'rollback_started') return true;
    return this.options.store.view((tx) => dirtyInstances(tx, service, this.options.claims).length > 0);
  }
}
