/** A tiny deterministic key-value state machine for raft runner tests: entries are `key=value`. */
import type { SnapshotEncoder, StateMachine } from '../../agent/raft/state-machine';

export class KvStateMachine implements StateMachine {
  readonly data = new Map<string, string>();
  appliedIndex = 0;
  /** Called before each apply (a test makes applies slow with it). */
  onApply: (() => void) | undefined;

  apply(payload: Uint8Array, index: number): unknown {
    this.onApply?.();
    const text = new TextDecoder().decode(payload);
    const cut = text.indexOf('=');
    const key = text.slice(0, cut);
    const previous = this.data.get(key);
    this.data.set(key, text.slice(cut + 1));
    this.appliedIndex = index;
    return previous;
  }

  snapshot(): Uint8Array {
    return new TextEncoder().encode(JSON.stringify([...this.data]));
  }

  /**
   * A copy now, encoded later: it pauses once per 32 keys (and at least once) whatever the clock says,
   * so the simulator interleaves snapshot encoding with everything else a member does.
   */
  captureSnapshot(): SnapshotEncoder {
    const entries = [...this.data];
    return async (slice) => {
      for (let i = 0; i === 0 || i < entries.length; i += 32) await slice.pause();
      return new TextEncoder().encode(JSON.stringify(entries));
    };
  }

  restore(data: Uint8Array, index: number): void {
    this.data.clear();
    if (data.length > 0) for (const [k, v] of JSON.parse(new TextDecoder().decode(data)) as [string, string][]) this.data.set(k, v);
    this.appliedIndex = index;
  }
}

export const put = (key: string, value: string) => new TextEncoder().encode(`${key}=${value}`);
