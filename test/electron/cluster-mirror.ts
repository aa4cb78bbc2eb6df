/**
 * What a renderer does with the feed: hold the snapshot, apply each `changes` event on top, and check
 * the revisions line up. Tests assert on this mirror, i.e. on what the UI would show.
 */
import type { ClusterSnapshot, ClusterSummary, NodeView, ServiceView, SwarmdeskEvent, Task } from '../../electron/contract';

export class ClusterMirror {
  revision: number;
  cluster: ClusterSummary;
  readonly nodes = new Map<string, NodeView>();
  readonly services = new Map<string, ServiceView>();
  readonly tasks = new Map<string, Task>();
  /** Revision gaps or regressions seen (should stay empty). */
  readonly problems: string[] = [];
  changeEvents = 0;
  /** Every event applied, in order. */
  readonly seen: SwarmdeskEvent[] = [];
  resyncs = 0;

  constructor(snapshot: ClusterSnapshot) {
    this.revision = snapshot.revision;
    this.cluster = snapshot.cluster;
    for (const node of snapshot.nodes) this.nodes.set(node.id, node);
    for (const service of snapshot.services) this.services.set(service.id, service);
    for (const task of snapshot.tasks) this.tasks.set(task.id, task);
  }

  apply(event: SwarmdeskEvent): void {
    this.seen.push(event);
    if (event.kind === 'resync') this.resyncs++;
    if (event.kind !== 'changes') return;
    this.changeEvents++;
    if (event.fromRevision !== this.revision) this.problems.push(`event from ${event.fromRevision} while holding ${this.revision}`);
    if (event.revision < event.fromRevision) this.problems.push(`event goes back from ${event.fromRevision} to ${event.revision}`);
    this.revision = event.revision;
    if (event.cluster !== undefined) this.cluster = event.cluster;
    for (const change of event.changes) {
      const table = change.kind === 'node' ? this.nodes : change.kind === 'service' ? this.services : this.tasks;
      if (change.action === 'delete') table.delete(change.id);
      else (table as Map<string, typeof change.object>).set(change.object.id, change.object);
    }
  }

  tasksOf(serviceId: string): Task[] {
    return [...this.tasks.values()].filter((task) => task.serviceId === serviceId);
  }
}
