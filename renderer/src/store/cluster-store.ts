/**
 * The renderer's copy of the cluster: a snapshot from `subscribeCluster`, then `changes` events applied
 * on top. Pure (no API calls) so it can be tested alone; cluster-sync.ts wires it to the main process.
 *
 * Each table is an immutable Map replaced only when a change touches it, so a component that selects
 * `nodes` does not re-render when a burst of task updates arrives (useSyncExternalStore compares the
 * selected reference).
 */
import type { ClusterSnapshot, ClusterSummary, NodeView, ObjectChange, ServiceView, SwarmdeskEvent, Task } from '../../../electron/contract';

export type SyncPhase = 'idle' | 'loading' | 'live' | 'error';

export interface ClusterState {
  phase: SyncPhase;
  /** Why the last subscribe failed (phase `error`). */
  error?: string;
  revision: number;
  cluster: ClusterSummary | undefined;
  nodes: ReadonlyMap<string, NodeView>;
  services: ReadonlyMap<string, ServiceView>;
  tasks: ReadonlyMap<string, Task>;
}

type ChangesEvent = Extract<SwarmdeskEvent, { kind: 'changes' }>;

/** What applying a `changes` event did. `gap`: events were missed, so the caller must resubscribe. */
export type ApplyOutcome = 'applied' | 'stale' | 'buffered' | 'gap';

const EMPTY = new Map<never, never>();

function byId<T extends { id: string }>(objects: readonly T[]): Map<string, T> {
  return new Map(objects.map((object) => [object.id, object]));
}

/** An upsert never replaces a newer copy of the object (events may overlap the snapshot). */
function isNewer(existing: { meta: { version: number } } | undefined, incoming: { meta: { version: number } }): boolean {
  return existing === undefined || incoming.meta.version >= existing.meta.version;
}

export class ClusterStore {
  private state: ClusterState = { phase: 'idle', revision: 0, cluster: undefined, nodes: EMPTY, services: EMPTY, tasks: EMPTY };
  private readonly listeners = new Set<() => void>();
  /** Events that arrived while the snapshot was on its way. */
  private pending: ChangesEvent[] = [];

  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  readonly getState = (): ClusterState => this.state;

  private set(next: ClusterState): void {
    this.state = next;
    for (const listener of this.listeners) listener();
  }

  /** A subscribe is on its way: hold change events until its snapshot arrives. */
  beginLoading(): void {
    this.pending = [];
    this.set({ ...this.state, phase: 'loading', error: undefined });
  }

  failLoading(message: string): void {
    this.pending = [];
    this.set({ ...this.state, phase: 'error', error: message });
  }

  /** Replace everything with the snapshot, then apply the events held while it loaded. */
  applySnapshot(snapshot: ClusterSnapshot): ApplyOutcome {
    const held = this.pending;
    this.pending = [];
    this.state = {
      phase: 'live',
      revision: snapshot.revision,
      cluster: snapshot.cluster,
      nodes: byId(snapshot.nodes),
      services: byId(snapshot.services),
      tasks: byId(snapshot.tasks),
    };
    let outcome: ApplyOutcome = 'applied';
    for (const event of held) if (this.applyQuietly(event) === 'gap') outcome = 'gap';
    for (const listener of this.listeners) listener();
    return outcome;
  }

  applyChanges(event: ChangesEvent): ApplyOutcome {
    if (this.state.phase === 'loading') {
      this.pending.push(event);
      return 'buffered';
    }
    if (this.state.phase !== 'live') return 'stale';
    const outcome = this.applyQuietly(event);
    if (outcome === 'applied') for (const listener of this.listeners) listener();
    return outcome;
  }

  /** Forget the data (the local node stopped or left its cluster). */
  reset(): void {
    this.pending = [];
    this.set({ phase: 'idle', revision: 0, cluster: undefined, nodes: EMPTY, services: EMPTY, tasks: EMPTY });
  }

  private applyQuietly(event: ChangesEvent): ApplyOutcome {
    const current = this.state;
    // A large batch comes in chunks with one fromRevision; all but the last keep revision === fromRevision
    // (contract.ts). Such a chunk from the revision held is new; only what ends before it, or ends at it
    // having started earlier (already in the snapshot), is stale.
    if (event.revision < current.revision || (event.revision === current.revision && event.fromRevision < current.revision)) return 'stale';
    if (event.fromRevision > current.revision) return 'gap';
    let nodes: Map<string, NodeView> | undefined;
    let services: Map<string, ServiceView> | undefined;
    let tasks: Map<string, Task> | undefined;
    const apply = (change: ObjectChange): void => {
      switch (change.kind) {
        case 'node': {
          nodes ??= new Map(current.nodes);
          if (change.action === 'delete') nodes.delete(change.id);
          else if (isNewer(nodes.get(change.object.id), change.object)) nodes.set(change.object.id, change.object);
          return;
        }
        case 'service': {
          services ??= new Map(current.services);
          if (change.action === 'delete') services.delete(change.id);
          else if (isNewer(services.get(change.object.id), change.object)) services.set(change.object.id, change.object);
          return;
        }
        case 'task': {
          tasks ??= new Map(current.tasks);
          if (change.action === 'delete') tasks.delete(change.id);
          else if (isNewer(tasks.get(change.object.id), change.object)) tasks.set(change.object.id, change.object);
          return;
        }
      }
    };
    for (const change of event.changes) apply(change);
    this.state = {
      ...current,
      revision: event.revision,
      cluster: event.cluster ?? current.cluster,
      nodes: nodes ?? current.nodes,
      services: services ?? current.services,
      tasks: tasks ?? current.tasks,
    };
    return 'applied';
  }
}
