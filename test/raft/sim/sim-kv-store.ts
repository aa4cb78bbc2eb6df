/**
 * The simulator's client-facing key-value view of one member, through the real replicated store: a key
 * is a secret's name and its value the secret's data. Writes are store transactions (one raft entry
 * each); reads are the store's linearizable views (ReadIndex, then a local read).
 */
import type { RaftRunner } from '../../../agent/raft/runner';
import { MemoryStore } from '../../../agent/store';
import type { Proposer } from '../../../agent/raft/state-machine';

class LateProposer implements Proposer {
  runner: RaftRunner | undefined;

  private get raft(): RaftRunner {
    if (!this.runner) throw new Error('store used before its raft member started');
    return this.runner;
  }

  propose(data: Uint8Array, signal?: AbortSignal): Promise<unknown> {
    return this.raft.propose(data, signal);
  }

  linearizableBarrier(signal?: AbortSignal): Promise<void> {
    return this.raft.linearizableBarrier(signal);
  }
}

export class SimKvStore {
  private readonly proposer = new LateProposer();
  readonly store: MemoryStore;

  constructor(now: () => number) {
    this.store = new MemoryStore(this.proposer, { now: () => new Date(now()) });
  }

  get stateMachine(): MemoryStore {
    return this.store;
  }

  attach(runner: RaftRunner): void {
    this.proposer.runner = runner;
  }

  async put(key: string, value: string): Promise<void> {
    await this.store.update((tx) => {
      const existing = tx.getByName('secret', key);
      if (existing) tx.update('secret', { ...existing, spec: { ...existing.spec, data: value } });
      else tx.create('secret', { id: `secret-${key}`, spec: { name: key, labels: {}, data: value }, status: {} });
    });
  }

  async get(key: string): Promise<string | undefined> {
    return this.store.linearizableView((tx) => tx.getByName('secret', key)?.spec.data);
  }

  dump(): string {
    return new TextDecoder().decode(this.store.snapshot());
  }
}
