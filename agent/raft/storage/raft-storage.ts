/**
 * The durable storage the Raft runner uses: a WAL (`<dir>/wal`) plus snapshot files (`<dir>/snap`).
 *
 * Write order for a batch with a snapshot: the snapshot file is made durable first, then the WAL marker,
 * entries and hard state go out in one group commit. Only once the marker is durable are old WAL segments
 * released and old snapshot files pruned. So after any crash the WAL's latest marker names a snapshot file
 * that exists; a snapshot file newer than the marker was never acknowledged and is removed on open.
 */
import type { Entry, HardState, Snapshot } from '../types';
import type { StorageFs } from './fs-types';
import { joinPath } from './fs-types';
import { type SnapshotProblem, SnapshotStore } from './snapshot-store';
import { type TornTail, Wal, type WalOptions } from './wal';

export interface RestoredState {
  /** All zero when nothing was ever saved. */
  hardState: HardState;
  snapshot: Snapshot | undefined;
  /** The log after the snapshot (or from index 1): contiguous. */
  entries: Entry[];
  tornTail?: TornTail;
  /** Corrupt snapshot files passed over while loading. */
  skippedSnapshots: SnapshotProblem[];
}

/** The persistence part of a raft Ready. */
export interface PersistBatch {
  hardState?: HardState;
  entries: Entry[];
  snapshot?: Snapshot;
  mustSync: boolean;
}

export interface DurableRaftStorageOptions {
  wal?: WalOptions;
  /** Snapshot files kept after a new one is durable. Default 2. */
  snapshotsKept?: number;
  onCorruptSnapshot?: (problem: SnapshotProblem) => void;
}

/** The WAL says the log starts after a snapshot that cannot be loaded: the node cannot restart safely. */
export class SnapshotMissingError extends Error {
  constructor(
    readonly index: number,
    readonly term: number,
    detail: string,
  ) {
    super(`WAL starts after snapshot term ${term} index ${index}, but no valid snapshot file for it: ${detail}`);
    this.name = 'SnapshotMissingError';
  }
}

export class DurableRaftStorage {
  /** Settles when the last save that had to wait (for a snapshot file) has handed its records to the WAL. */
  private barrier: Promise<void> | undefined;
  /** Serialises segment release and snapshot pruning. */
  private housekeeping: Promise<void> = Promise.resolve();
  private failure: unknown = undefined;

  private constructor(
    private readonly wal: Wal,
    private readonly snaps: SnapshotStore,
  ) {}

  static async open(
    dir: string,
    fs: StorageFs,
    options: DurableRaftStorageOptions = {},
  ): Promise<{ storage: DurableRaftStorage; state: RestoredState }> {
    const opened = await Wal.open(joinPath(dir, 'wal'), fs, options.wal);
    try {
      const snaps = await SnapshotStore.open(dir, fs, { keep: options.snapshotsKept, onCorrupt: options.onCorruptSnapshot });
      const marker = opened.snapshot;
      let snapshot: Snapshot | undefined;
      let skipped: SnapshotProblem[] = [];
      if (marker !== undefined) {
        const loaded = await snaps.loadNewest((f) => f.index === marker.index && f.term === marker.term);
        if (loaded === undefined) {
          throw new SnapshotMissingError(marker.index, marker.term, `looked in ${snaps.snapDir}`);
        }
        snapshot = loaded.snapshot;
        skipped = loaded.skipped;
      }
      await snaps.removeNewerThan(marker?.index ?? 0);
      const state: RestoredState = {
        hardState: opened.hardState ?? { term: 0, vote: 0, commit: 0 },
        snapshot,
        entries: opened.entries,
        tornTail: opened.tornTail,
        skippedSnapshots: skipped,
      };
      return { storage: new DurableRaftStorage(opened.wal, snaps), state };
    } catch (err) {
      await opened.wal.close();
      throw err;
    }
  }

  /**
   * Persist a Ready's hardState, entries and snapshot. Saves are applied in call order; concurrent ones
   * share a WAL group commit. Resolves once durable (when `mustSync`, always when there is a snapshot).
   */
  save(batch: PersistBatch): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    const snapshot = batch.snapshot;
    const walBatch = {
      marker: snapshot && { index: snapshot.metadata.index, term: snapshot.metadata.term },
      entries: batch.entries,
      hardState: batch.hardState,
      mustSync: batch.mustSync || snapshot !== undefined,
    };
    // Fast path: nothing ahead of us is waiting on a snapshot file, so join the WAL queue right now and
    // share the group commit with other saves issued in the same tick.
    if (snapshot === undefined && this.barrier === undefined) return this.wal.saveBatch(walBatch);

    const handedOver = (this.barrier ?? Promise.resolve()).then(async () => {
      if (this.failure !== undefined) throw this.failure;
      if (snapshot !== undefined) {
        try {
          await this.snaps.save(snapshot, { prune: false });
        } catch (err) {
          // Later saves must not reach the WAL without this marker before them.
          this.failure = err;
          throw err;
        }
      }
      // Boxed so awaiting handedOver does not also wait for durability.
      return { durable: this.wal.saveBatch(walBatch) };
    });
    const gate = handedOver.then(
      () => undefined,
      () => undefined,
    );
    this.barrier = gate;
    void gate.then(() => {
      if (this.barrier === gate) this.barrier = undefined;
    });
    return handedOver.then(async ({ durable }) => {
      await durable;
      if (snapshot !== undefined) await this.afterSnapshotDurable(snapshot.metadata.index);
    });
  }

  /** Store a snapshot the application took (log compaction): file, then WAL marker, then cleanup. */
  saveSnapshot(snapshot: Snapshot): Promise<void> {
    return this.save({ entries: [], snapshot, mustSync: true });
  }

  async close(): Promise<void> {
    await this.barrier;
    await this.housekeeping;
    await this.wal.close();
  }

  /** Now that the WAL marker is durable, older segments and snapshot files are no longer needed. */
  private afterSnapshotDurable(index: number): Promise<void> {
    const run = this.housekeeping.then(async () => {
      await this.wal.releaseTo(index);
      await this.snaps.prune();
    });
    this.housekeeping = run.catch(() => undefined);
    return run;
  }
}
