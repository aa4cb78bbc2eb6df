/**
 * Who is working on an instance (a slot, or a node for a global service) right now. A restart waiting
 * out its delay, or a rolling update between stopping the old task and starting the new one, leaves the
 * instance without a live task for a while; the claim tells the orchestrator that the instance is
 * taken care of and must be neither refilled nor touched. Claims live in memory on the leader only: a
 * new leader starts without any and simply refills empty instances.
 *
 * Claims are taken and dropped inside write-transaction callbacks, which run one at a time, so every
 * transaction sees a consistent picture.
 */
import type { InstanceKey } from './tasks';

export interface ClaimHolder {
  readonly owner: 'restart' | 'update';
  /** The instance was taken away (scaled down, service deleted, node drained): give up on it. */
  cancelled(): void;
}

export class InstanceClaims {
  private readonly claims = new Map<string, Map<InstanceKey, ClaimHolder>>();
  private readonly releaseListeners = new Set<(serviceId: string) => void>();

  /** Takes the instance for `holder`; false when someone else holds it. */
  claim(serviceId: string, key: InstanceKey, holder: ClaimHolder): boolean {
    let service = this.claims.get(serviceId);
    if (service === undefined) {
      service = new Map();
      this.claims.set(serviceId, service);
    }
    const current = service.get(key);
    if (current !== undefined) return current === holder;
    service.set(key, holder);
    return true;
  }

  holderOf(serviceId: string, key: InstanceKey): ClaimHolder | undefined {
    return this.claims.get(serviceId)?.get(key);
  }

  isClaimed(serviceId: string, key: InstanceKey): boolean {
    return this.holderOf(serviceId, key) !== undefined;
  }

  /** Instance keys claimed for a service. */
  claimedKeys(serviceId: string): InstanceKey[] {
    return [...(this.claims.get(serviceId)?.keys() ?? [])];
  }

  /** The holder is done with the instance; the orchestrators hear of it and look again. */
  release(serviceId: string, key: InstanceKey, holder: ClaimHolder): void {
    const service = this.claims.get(serviceId);
    if (service?.get(key) !== holder) return;
    this.drop(serviceId, service, key);
    for (const listener of this.releaseListeners) listener(serviceId);
  }

  /** Takes the instance away from its holder (no release notice: the caller is the orchestrator). */
  cancel(serviceId: string, key: InstanceKey): void {
    const service = this.claims.get(serviceId);
    const holder = service?.get(key);
    if (service === undefined || holder === undefined) return;
    this.drop(serviceId, service, key);
    holder.cancelled();
  }

  cancelService(serviceId: string): void {
    for (const key of this.claimedKeys(serviceId)) this.cancel(serviceId, key);
  }

  cancelAll(): void {
    for (const serviceId of [...this.claims.keys()]) this.cancelService(serviceId);
  }

  onRelease(listener: (serviceId: string) => void): () => void {
    this.releaseListeners.add(listener);
    return () => this.releaseListeners.delete(listener);
  }

  private drop(serviceId: string, service: Map<InstanceKey, ClaimHolder>, key: InstanceKey): void {
    service.delete(key);
    if (service.size === 0) this.claims.delete(serviceId);
  }
}
