/**
 * The shape every orchestration duty shares: read a snapshot, then react to each committed entry. A
 * WatchLoop takes the snapshot and the subscription atomically (viewAndWatch), hands the handler one
 * entry's changes at a time, and starts over from a fresh snapshot when the subscription falls behind
 * or the store is replaced by a Raft snapshot, so no change is ever lost and the store is never polled.
 */
import type { Kind } from '../../api/objects';
import type { ComponentLogger } from '../../runtime';
import type { ChangeEvent, MemoryStore, ReadTx, Subscription } from '../../store';

export interface WatchHandler {
  /** The whole picture: on start, and again whenever events may have been missed. */
  resync(tx: ReadTx): void;
  /** The changes of one committed entry (only the kinds watched). */
  commit(changes: readonly ChangeEvent[]): void;
}

export class WatchLoop {
  private subscription: Subscription | null = null;
  /** Bumped by start() and stop(): a consumer from an earlier run sees it is stale and quits. */
  private run = 0;

  constructor(
    private readonly store: MemoryStore,
    private readonly kinds: readonly Kind[],
    private readonly handler: WatchHandler,
    private readonly logger: ComponentLogger,
    private readonly name: string,
  ) {}

  get running(): boolean {
    return this.subscription !== null;
  }

  start(): void {
    if (this.subscription !== null) return;
    const run = ++this.run;
    this.subscribe();
    void this.consume(run);
  }

  stop(): void {
    this.run++;
    this.subscription?.close();
    this.subscription = null;
  }

  private subscribe(): Subscription {
    const { subscription } = this.store.viewAndWatch((tx) => this.handler.resync(tx), { kinds: this.kinds });
    this.subscription = subscription;
    return subscription;
  }

  private async consume(run: number): Promise<void> {
    while (run === this.run && this.subscription !== null) {
      const subscription = this.subscription;
      try {
        let changes: ChangeEvent[] = [];
        for await (const event of subscription) {
          if (run !== this.run) return;
          if (event.type === 'change') changes.push(event);
          else if (event.type === 'commit') {
            const batch = changes;
            changes = [];
            this.handler.commit(batch);
          } else {
            // Restored from a Raft snapshot: per-object events do not follow.
            changes = [];
            this.store.view((tx) => this.handler.resync(tx));
          }
        }
        return; // closed by stop()
      } catch (err) {
        if (run !== this.run) return;
        this.logger.warn(`${this.name}: watch restarted`, { error: err instanceof Error ? err.message : String(err) });
        this.subscribe();
      }
    }
  }
}
