/**
 * The task half of the dispatcher (SwarmKit's Dispatcher.Assignments): each node's open Assignments
 * streams get the node's tasks, first all of them, then what changes.
 *
 * One store subscription serves every stream (a filter per node would run inside every apply, once per
 * node): changes are grouped per commit and routed by node ID, so a commit that touches a node's tasks
 * becomes at most one incremental message for it. A stream opened from a view at version V ignores
 * events up to V, which the shared subscription may still hold: nothing is lost or sent twice.
 *
 * What is sent (as SwarmKit): tasks at ASSIGNED or beyond (below that the scheduler has not placed
 * them). A changed task is sent again only when something the node acts on changed (spec, desired
 * state, ports...), not for status changes, which the node made itself; deletions and tasks moved to
 * another node are sent as removes. If the subscription falls behind or the store is restored, every
 * stream gets a new complete message.
 */
import type { AssignmentsMessage } from '../../api/dispatcher';
import type { ApiError } from '../../api/errors';
import { type Task, TaskState } from '../../api/objects';
import type { ComponentLogger } from '../../runtime';
import type { ChangeEvent, MemoryStore, ReadTx, Subscription } from '../../store';

/** Where one Assignments stream's messages go; the service wraps the gRPC stream in one. */
export interface AssignmentsSink {
  send(message: AssignmentsMessage): void;
  close(error: ApiError): void;
}

export interface AssignmentsStream {
  /** Ends the stream with `error` (the node's session ended). */
  close(error: ApiError): void;
  /** The node went away on its own: forget the stream. */
  detach(): void;
}

interface Stream {
  readonly nodeId: string;
  readonly sink: AssignmentsSink;
  /** Events up to this store version are already reflected in what was sent. */
  baseline: number;
  /** Task ID -> stableKey of what the node was last sent. */
  known: Map<string, string>;
}

/** The node needs a task again only when one of these changed; status and meta are the node's own echo. */
export function stableKey(task: Task): string {
  const { status: _status, meta: _meta, ...rest } = task;
  return JSON.stringify(rest);
}

function isDispatchable(task: Task): boolean {
  return task.status.state >= TaskState.ASSIGNED;
}

function describeError(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export class AssignmentStreams {
  private readonly byNode = new Map<string, Set<Stream>>();
  private subscription: Subscription | null = null;
  private generation = 0;

  constructor(
    private readonly store: MemoryStore,
    private readonly logger: ComponentLogger,
  ) {}

  get streamCount(): number {
    let n = 0;
    for (const set of this.byNode.values()) n += set.size;
    return n;
  }

  start(): void {
    if (this.subscription !== null) return;
    const generation = ++this.generation;
    this.subscription = this.store.watch({ kinds: ['task'] });
    void this.consume(this.subscription, generation);
  }

  /** Ends every stream with `error` (leadership lost). */
  stop(error: ApiError): void {
    this.generation++;
    this.subscription?.close();
    this.subscription = null;
    for (const set of this.byNode.values()) for (const stream of set) stream.sink.close(error);
    this.byNode.clear();
  }

  /** Registers a stream for `nodeId` and sends it the node's complete task set. */
  open(nodeId: string, sink: AssignmentsSink): AssignmentsStream {
    const stream: Stream = { nodeId, sink, baseline: 0, known: new Map() };
    let set = this.byNode.get(nodeId);
    if (set === undefined) {
      set = new Set();
      this.byNode.set(nodeId, set);
    }
    set.add(stream);
    this.sendComplete(stream);
    const forget = () => {
      const streams = this.byNode.get(nodeId);
      if (streams === undefined || !streams.delete(stream)) return false;
      if (streams.size === 0) this.byNode.delete(nodeId);
      return true;
    };
    return {
      close: (error) => {
        if (forget()) sink.close(error);
      },
      detach: () => {
        forget();
      },
    };
  }

  private sendComplete(stream: Stream): void {
    // view() and version read the same state: no apply can run between two synchronous reads.
    const tasks = this.store.view((tx: ReadTx) => tx.find('task', 'nodeId', stream.nodeId)).filter(isDispatchable);
    stream.baseline = this.store.version;
    stream.known = new Map(tasks.map((t) => [t.id, stableKey(t)]));
    stream.sink.send({ type: 'complete', updates: tasks, removes: [] });
  }

  private async consume(subscription: Subscription, generation: number): Promise<void> {
    let changes: ChangeEvent[] = [];
    try {
      for await (const event of subscription) {
        if (generation !== this.generation) return;
        if (event.type === 'change') changes.push(event);
        else if (event.type === 'commit') {
          this.route(changes, event.version);
          changes = [];
        } else this.resyncAll();
      }
    } catch (err) {
      if (generation !== this.generation) return;
      // Fell behind (a burst of task writes): every node gets its complete set again.
      this.logger.warn('assignments watch restarted', { error: describeError(err) });
      this.subscription = this.store.watch({ kinds: ['task'] });
      this.resyncAll();
      void this.consume(this.subscription, generation);
    }
  }

  private resyncAll(): void {
    for (const set of this.byNode.values()) for (const stream of set) this.sendComplete(stream);
  }

  private route(changes: readonly ChangeEvent[], version: number): void {
    const byNode = new Map<string, ChangeEvent[]>();
    const add = (nodeId: string | undefined, change: ChangeEvent) => {
      if (nodeId === undefined || nodeId === '' || !this.byNode.has(nodeId)) return;
      let list = byNode.get(nodeId);
      if (list === undefined) byNode.set(nodeId, (list = []));
      if (list[list.length - 1] !== change) list.push(change);
    };
    for (const change of changes) {
      if (change.kind !== 'task') continue;
      add(change.object.nodeId, change);
      if (change.oldObject !== undefined && change.oldObject.nodeId !== change.object.nodeId) add(change.oldObject.nodeId, change);
    }
    const keys = new Map<Task, string>();
    const keyOf = (task: Task) => {
      let key = keys.get(task);
      if (key === undefined) keys.set(task, (key = stableKey(task)));
      return key;
    };
    for (const [nodeId, nodeChanges] of byNode) {
      for (const stream of this.byNode.get(nodeId) ?? []) {
        if (version <= stream.baseline) continue;
        const message = this.incremental(stream, nodeChanges, keyOf);
        if (message.updates.length > 0 || message.removes.length > 0) stream.sink.send(message);
      }
    }
  }

  private incremental(stream: Stream, changes: readonly ChangeEvent[], keyOf: (task: Task) => string): AssignmentsMessage {
    const updates = new Map<string, Task>();
    const removes = new Set<string>();
    for (const change of changes) {
      if (change.kind !== 'task') continue;
      const task = change.object;
      const id = task.id;
      if (change.action === 'delete' || task.nodeId !== stream.nodeId) {
        if (stream.known.delete(id)) {
          removes.add(id);
          updates.delete(id);
        }
        continue;
      }
      if (!isDispatchable(task)) continue;
      const key = keyOf(task);
      // At ASSIGNED the scheduler just placed it: the node must hear of it even if nothing else changed.
      if (stream.known.get(id) === key && task.status.state > TaskState.ASSIGNED) continue;
      stream.known.set(id, key);
      updates.set(id, task);
      removes.delete(id);
    }
    return { type: 'incremental', updates: [...updates.values()], removes: [...removes] };
  }
}
