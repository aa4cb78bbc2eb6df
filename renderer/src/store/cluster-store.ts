/**
 * The renderer's copy of the cluster: a snapshot from `subscribeCluster`, then `changes` events applied
 * on top. Pure (no API calls) so it can be tested alone; cluster-sync.ts wires it to the main process.
 *
 * Each table is an immutable Map replaced only when a change touches it, so a component that selects
 * `nodes` does not re-render when a burst of task updates arrives (useSyncExternalStore compares the
 * selected reference).
 *
 * Change events are applied as they come, but published (a new state, listeners told) when the
 * scheduler given to the constructor says so: once per animation frame in the app. A burst of events
 * then costs one copy of each touched table and one render per frame, not one per event (each copy of a
 * 10,000-task Map and each render of the Tasks page took milliseconds). Without a scheduler every event
 * is published at once.
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

/** Calls `publish` later (once per animation frame in the app); calls while one is due are folded into it. */
export type PublishScheduler = (publish: () => void) => void;

/** Tables being changed since the last publish: private copies, written in place until then. */
interface Drafts {
  nodes?: Map<string, NodeView>;
  services?: Map<string, ServiceView>;
  tasks?: Map<string, Task>;
}

export class ClusterStore {
  /** What readers see: replaced only when published. */
  private state: ClusterState = { phase: 'idle', revision: 0, cluster: undefined, nodes: EMPTY, services: EMPTY, tasks: EMPTY };
  /** The state with every applied event, ahead of `state` while a publish is due. */
  private working: ClusterState = this.state;
  private drafts: Drafts = {};
  private publishDue = false;
  private readonly listeners = new Set<() => void>();
  /** Events that arrived while the snapshot was on its way. */
  private pending: ChangesEvent[] = [];

  constructor(private readonly schedule?: PublishScheduler) {}

  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  readonly getState = (): ClusterState => this.state;

  /** Replaces the state now (dropping drafts: `next` is built from the working state) and tells the listeners. */
  private set(next: ClusterState): void {
    this.drafts = {};
    this.working = next;
    this.state = next;
    for (const listener of this.listeners) listener();
  }

  /** Makes the working state the readers' state: the drafts become its tables and are not written again. */
  private readonly publish = (): void => {
    this.publishDue = false;
    if (this.working === this.state) return;
    this.set(this.working);
  };

  /** A subscribe is on its way: hold change events until its snapshot arrives. */
  beginLoading(): void {
    this.pending = [];
    this.set({ ...this.working, phase: 'loading', error: undefined });
  }

  failLoading(message: string): void {
    this.pending = [];
    this.set({ ...this.working, phase: 'error', error: message });
  }

  /** Replace everything with the snapshot, then apply the events held while it loaded. */
  applySnapshot(snapshot: ClusterSnapshot): ApplyOutcome {
    const held = this.pending;
    this.pending = [];
    // New tables, not yet seen by anyone: the held events may write them in place.
    const nodes = byId(snapshot.nodes);
    const services = byId(snapshot.services);
    const tasks = byId(snapshot.tasks);
    this.drafts = { nodes, services, tasks };
    this.working = { phase: 'live', revision: snapshot.revision, cluster: snapshot.cluster, nodes, services, tasks };
    let outcome: ApplyOutcome = 'applied';
    for (const event of held) if (this.applyQuietly(event) === 'gap') outcome = 'gap';
    // The snapshot is shown at once: it is what a page waits for.
    this.set(this.working);
    return outcome;
  }

  applyChanges(event: ChangesEvent): ApplyOutcome {
    if (this.working.phase === 'loading') {
      this.pending.push(event);
      return 'buffered';
    }
    if (this.working.phase !== 'live') return 'stale';
    const outcome = this.applyQuietly(event);
    if (outcome === 'applied') this.requestPublish();
    return outcome;
  }

  /** Publishes now what was applied (tests, and anything that must not wait for the next frame). */
  flush(): void {
    this.publish();
  }

  private requestPublish(): void {
    if (this.schedule === undefined) return this.publish();
    if (this.publishDue) return;
    this.publishDue = true;
    this.schedule(this.publish);
  }

  /** Forget the data (the local node stopped or left its cluster). */
  reset(): void {
    this.pending = [];
    this.set({ phase: 'idle', revision: 0, cluster: undefined, nodes: EMPTY, services: EMPTY, tasks: EMPTY });
  }

  /** Applies the event to the working state, copying a table the first time it changes after a publish. */
  private applyQuietly(event: ChangesEvent): ApplyOutcome {
    const current = this.working;
    // A large batch comes in chunks with one fromRevision; all but the last keep revision === fromRevision
    // (contract.ts). Such a chunk from the revision held is new; only what ends before it, or ends at it
    // having started earlier (already in the snapshot), is stale.
    if (event.revision < current.revision || (event.revision === current.revision && event.fromRevision < current.revision)) return 'stale';
    if (event.fromRevision > current.revision) return 'gap';
    const drafts = this.drafts;
    const apply = (change: ObjectChange): void => {
      switch (change.kind) {
        case 'node': {
          const nodes = (drafts.nodes ??= new Map(current.nodes));
          if (change.action === 'delete') nodes.delete(change.id);
          else if (isNewer(nodes.get(change.object.id), change.object)) nodes.set(change.object.id, change.object);
          return;
        }
        case 'service': {
          const services = (drafts.services ??= new Map(current.services));
          if (change.action === 'delete') services.delete(change.id);
          else if (isNewer(services.get(change.object.id), change.object)) services.set(change.object.id, change.object);
          return;
        }
        case 'task': {
          const tasks = (drafts.tasks ??= new Map(current.tasks));
          if (change.action === 'delete') tasks.delete(change.id);
          else if (isNewer(tasks.get(change.object.id), change.object)) tasks.set(change.object.id, change.object);
          return;
        }
      }
    };
    for (const change of event.changes) apply(change);
    this.working = {
      ...current,
      revision: event.revision,
      cluster: event.cluster ?? current.cluster,
      nodes: drafts.nodes ?? current.nodes,
      services: drafts.services ?? current.services,
      tasks: drafts.tasks ?? current.tasks,
    };
    return 'applied';
  }
}
