/**
 * The simulator's client-facing key-value view of one member. Writes are proposals through raft;
 * reads are linearizable (a ReadIndex barrier, then a local read).
 */
import type { RaftRunner } from '../../../agent/raft/runner';
import { KvStateMachine, put } from '../kv-state-machine';

export class SimKvStore {
  readonly stateMachine = new KvStateMachine();
  private runner: RaftRunner | undefined;

  attach(runner: RaftRunner): void {
    this.runner = runner;
  }

  private get raft(): RaftRunner {
    if (!this.runner) throw new Error('not attached');
    return this.runner;
  }

  async put(key: string, value: string): Promise<void> {
    await this.raft.propose(put(key, value));
  }

  async get(key: string): Promise<string | undefined> {
    await this.raft.linearizableBarrier();
    return this.stateMachine.data.get(key);
  }

  dump(): string {
    return JSON.stringify([...this.stateMachine.data].sort());
  }
}
