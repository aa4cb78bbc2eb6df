/**
 * Lets rolling updates wait for what happens to particular tasks ("the old task has stopped", "the new
 * one is running", "it failed within the monitor window") without polling: one store watch for the
 * whole update supervisor, fanned out to whoever watches a task id. Watchers see each committed
 * version of the task in order (undefined once deleted); a node change (a node going down) re-presents
 * the current version, since whether a task counts as stopped can depend on its node.
 */
import type { Task } from '../../../api/objects';
import type { ComponentLogger } from '../../../runtime';
import type { ChangeEvent, MemoryStore, ReadTx } from '../../../store';
import { WatchLoop } from '../watch-loop';

export type TaskWatcher = (task: Task | undefined) => void;

/** Rejection of a wait whose updater was cancelled. */
export class Cancelled extends Error {
  override readonly name = 'Cancelled';
}

export class TaskTracker {
  private readonly loop: WatchLoop;
  private readonly watchers = new Map<string, Set<TaskWatcher>>();

  constructor(
    private readonly store: MemoryStore,
    logger: ComponentLogger,
  ) {
    this.loop = new WatchLoop(store, ['task', 'node'], { resync: (tx) => this.resync(tx), commit: (c) => this.commit(c) }, logger, 'update task tracker');
  }

  start(): void {
    this.loop.start();
  }

  stop(): void {
    this.loop.stop();
    this.watchers.clear();
  }

  /** Calls `watcher` with each later version of the task; returns the function that stops it. */
  watch(taskId: string, watcher: TaskWatcher): () => void {
    let set = this.watchers.get(taskId);
    if (set === undefined) {
      set = new Set();
      this.watchers.set(taskId, set);
    }
    set.add(watcher);
    return () => {
      const current = this.watchers.get(taskId);
      current?.delete(watcher);
      if (current?.size === 0) this.watchers.delete(taskId);
    };
  }

  /** Resolves with the task (undefined if deleted) once `done` holds for it; rejects with Cancelled on abort. */
  until(taskId: string, done: (task: Task | undefined) => boolean, signal: AbortSignal): Promise<Task | undefined> {
    return new Promise((resolve, reject) => {
      if (signal.aborted) {
        reject(new Cancelled('update cancelled'));
        return;
      }
      const now = this.store.get('task', taskId);
      if (done(now)) {
        resolve(now);
        return;
      }
      const onAbort = () => {
        unwatch();
        reject(new Cancelled('update cancelled'));
      };
      const unwatch = this.watch(taskId, (task) => {
        if (!done(task)) return;
        unwatch();
        signal.removeEventListener('abort', onAbort);
        resolve(task);
      });
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  private notify(taskId: string, task: Task | undefined): void {
    const set = this.watchers.get(taskId);
    if (set === undefined) return;
    for (const watcher of [...set]) watcher(task);
  }

  private resync(tx: ReadTx): void {
    for (const id of [...this.watchers.keys()]) this.notify(id, tx.get('task', id));
  }

  private commit(changes: readonly ChangeEvent[]): void {
    let nodes = false;
    for (const change of changes) {
      if (change.kind === 'task') this.notify(change.object.id, change.action === 'delete' ? undefined : change.object);
      else if (change.kind === 'node') nodes = true;
    }
    if (nodes) this.store.view((tx) => this.resync(tx));
  }
}
