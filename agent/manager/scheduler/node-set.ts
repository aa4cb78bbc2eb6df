/**
 * The scheduler's picture of the cluster: a NodeInfo per node, fed object by object (from a store view
 * at start, then from watch events), so it never has to be rebuilt from scratch while leading.
 */
import type { Node, Task } from '../../api/objects';
import { TaskState } from '../../api/objects';
import { NodeInfo, type TaskFootprint, failureKeyOf, footprintOf } from './node-info';

/** A task occupies its node from ASSIGNED until it stops running (SwarmKit's rule). */
export function occupiesNode(task: Task): boolean {
  return task.nodeId !== '' && task.status.state >= TaskState.ASSIGNED && task.status.state <= TaskState.RUNNING;
}

function failed(task: Task): boolean {
  return task.status.state === TaskState.FAILED || task.status.state === TaskState.REJECTED;
}

export class NodeSet {
  private readonly nodes = new Map<string, NodeInfo>();
  /** task id -> the node it occupies, so a task that moves or ends is taken off the right node. */
  private readonly placed = new Map<string, string>();
  /** Footprints of tasks whose node is not (or no longer) known. */
  private readonly orphans = new Map<string, TaskFootprint>();

  get size(): number {
    return this.nodes.size;
  }

  get(nodeId: string): NodeInfo | undefined {
    return this.nodes.get(nodeId);
  }

  values(): IterableIterator<NodeInfo> {
    return this.nodes.values();
  }

  [Symbol.iterator](): IterableIterator<NodeInfo> {
    return this.nodes.values();
  }

  /** Adds a node or takes its new description. Returns its info. */
  upsertNode(node: Node): NodeInfo {
    const info = this.nodes.get(node.id);
    if (info !== undefined) {
      info.describe(node);
      return info;
    }
    const created = NodeInfo.of(node);
    this.nodes.set(node.id, created);
    // Tasks seen before their node (or kept across a node's removal and return) count again.
    for (const [taskId, fp] of this.orphans) {
      if (this.placed.get(taskId) === node.id) {
        created.addTask(taskId, fp);
        this.orphans.delete(taskId);
      }
    }
    return created;
  }

  removeNode(nodeId: string): void {
    const info = this.nodes.get(nodeId);
    if (info === undefined) return;
    this.nodes.delete(nodeId);
    for (const [taskId, fp] of info.tasks) this.orphans.set(taskId, fp);
  }

  /**
   * Follows one task's latest version: it occupies its node while assigned and unfinished; a task that
   * moves from occupying a node to FAILED or REJECTED counts as a failure there at `now`.
   */
  observeTask(task: Task, now: number): void {
    const before = this.placed.get(task.id);
    const holds = occupiesNode(task);
    if (before !== undefined && (!holds || before !== task.nodeId)) {
      this.forget(task.id, before);
      if (failed(task) && before === task.nodeId) this.nodes.get(before)?.recordFailure(failureKeyOf(task), now);
    }
    if (holds) this.hold(task.id, task.nodeId, footprintOf(task));
  }

  /** A task was deleted from the store. */
  removeTask(taskId: string): void {
    const before = this.placed.get(taskId);
    if (before !== undefined) this.forget(taskId, before);
  }

  /** Records that `taskId` occupies `nodeId` with `fp` (the placement core's decisions come here too). */
  hold(taskId: string, nodeId: string, fp: TaskFootprint): void {
    const before = this.placed.get(taskId);
    if (before !== undefined && before !== nodeId) this.forget(taskId, before);
    this.placed.set(taskId, nodeId);
    const info = this.nodes.get(nodeId);
    if (info !== undefined) info.addTask(taskId, fp);
    else this.orphans.set(taskId, fp);
  }

  private forget(taskId: string, nodeId: string): void {
    this.placed.delete(taskId);
    this.orphans.delete(taskId);
    this.nodes.get(nodeId)?.removeTask(taskId);
  }
}
