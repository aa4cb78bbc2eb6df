/**
 * The cluster feeds of the main thread's sessions, run inside the node's worker beside the store they
 * watch: the watch, the per-object coalescing and the counts all stay off the main thread, which only
 * receives the snapshot and the already batched `changes` events.
 */
import { ApiError } from '../../../agent/api/errors';
import type { Manager } from '../../../agent/manager/manager';
import { membershipOf } from '../../../agent/manager/raft-membership';
import type { ClusterSnapshot, SwarmdeskEvent } from '../../contract';
import { ClusterFeed } from '../cluster-feed';
import type { FeedTiming } from './protocol';

interface OpenFeed {
  feed: ClusterFeed;
  /** The manager whose store it watches: a feed outlives neither a demotion nor a manager restart. */
  manager: Manager;
}

export class WorkerFeeds {
  private readonly feeds = new Map<number, OpenFeed>();

  constructor(private readonly emit: (feedId: number, event: SwarmdeskEvent) => void) {}

  open(feedId: number, timing: FeedTiming, manager: Manager | undefined, clusterId: string): ClusterSnapshot {
    if (manager === undefined) throw new ApiError('Unavailable', 'this node is not a manager right now (it may have been demoted)');
    this.close(feedId);
    const feed = new ClusterFeed({
      store: manager.store,
      membership: () => membershipOf(manager.runner),
      clusterId,
      emit: (event) => {
        // A feed that resyncs has closed itself; the session opens a new one.
        if (event.kind === 'resync') this.feeds.delete(feedId);
        this.emit(feedId, event);
      },
      ...timing,
    });
    const snapshot = feed.start();
    this.feeds.set(feedId, { feed, manager });
    return snapshot;
  }

  close(feedId: number): void {
    this.feeds.get(feedId)?.feed.close();
    this.feeds.delete(feedId);
  }

  /** Ends, with a resync, every feed on a manager other than `current` (the node's manager now). */
  dropStale(current: Manager | undefined): void {
    for (const [feedId, open] of [...this.feeds]) {
      if (open.manager === current) continue;
      this.close(feedId);
      this.emit(feedId, { kind: 'resync', reason: 'the local manager stopped or restarted' });
    }
  }

  closeAll(): void {
    for (const feedId of [...this.feeds.keys()]) this.close(feedId);
  }
}
