/**
 * A single-node Proposer: every proposal is committed at once and applied on a microtask, in proposal
 * order, with consecutive indexes. For unit tests and for a standalone (non-replicated) store.
 */
import { ApiError } from '../api/errors';
import { MemoryStore, type MemoryStoreOptions } from './memory-store';
import type { Proposer, StateMachine } from '../raft/state-machine';

export interface LoggedEntry {
  index: number;
  data: Uint8Array;
}

export interface LocalProposerOptions {
  /** Index of the last entry already applied (the next proposal gets startIndex + 1). */
  startIndex?: number;
  /** Keep every proposed entry in `log` (to replay it into another state machine). */
  record?: boolean;
}

export class LocalProposer implements Proposer {
  private machine: StateMachine | null = null;
  private lastIndex: number;
  private tail: Promise<void> = Promise.resolve();
  readonly log: LoggedEntry[] = [];
  private readonly record: boolean;

  constructor(options: LocalProposerOptions = {}) {
    this.lastIndex = options.startIndex ?? 0;
    this.record = options.record ?? false;
  }

  /** The state machine proposals are applied to; must be set before the first proposal. */
  bind(machine: StateMachine): this {
    this.machine = machine;
    return this;
  }

  get index(): number {
    return this.lastIndex;
  }

  propose(data: Uint8Array, signal?: AbortSignal): Promise<unknown> {
    if (signal?.aborted) return Promise.reject(new ApiError('Unavailable', 'proposal aborted'));
    const machine = this.machine;
    if (machine === null) return Promise.reject(new ApiError('Unavailable', 'no state machine bound'));
    const applied = this.tail.then(() => {
      const index = ++this.lastIndex;
      if (this.record) this.log.push({ index, data });
      return machine.apply(data, index);
    });
    this.tail = applied.then(
      () => undefined,
      () => undefined,
    );
    return applied;
  }

  async linearizableBarrier(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) throw new ApiError('Unavailable', 'barrier aborted');
    await this.tail;
  }
}

/** A standalone store on a LocalProposer. */
export function createLocalStore(
  options: MemoryStoreOptions & LocalProposerOptions = {},
): { store: MemoryStore; proposer: LocalProposer } {
  const proposer = new LocalProposer(options);
  const store = new MemoryStore(proposer, options);
  proposer.bind(store);
  return { store, proposer };
}
