/**
 * The placement core: given the cluster's nodes and a batch of pending tasks, decide where each task
 * runs, or say in words why it cannot run anywhere. No store, no clock, no timers: the caller passes
 * `now` (for the failure penalty) and writes the decisions.
 *
 * Tasks with a node already chosen (global services) are checked against that node only. The others
 * are grouped by service and spec version (equal tasks ask the same of a node) and each group is
 * spread in one pass (see spread.ts).
 *
 * The NodeSet is updated in place with every decision, so later groups of the batch see the load of
 * earlier ones; a caller that fails to commit a decision undoes it with `nodes.removeTask(taskId)`.
 */
import type { Task } from '../../api/objects';
import { type Requirements, explainNoNode, explainNode, passesStatic, hasRoom, requirementsOf } from './filters';
import type { NodeInfo } from './node-info';
import type { NodeSet } from './node-set';
import { GroupSpreader } from './spread';

export interface Assignment {
  readonly task: Task;
  readonly nodeId: string;
}

export interface Unplaced {
  readonly task: Task;
  /** For a person: "no suitable node (insufficient memory on 2 nodes; constraint not met on 1 node)". */
  readonly reason: string;
}

export interface PlacementResult {
  readonly assigned: Assignment[];
  readonly unplaced: Unplaced[];
}

/** Tasks of one service created from one spec version are interchangeable for placement. */
function groupKey(task: Task): string {
  const version = task.specVersion !== undefined ? String(task.specVersion) : JSON.stringify(task.spec);
  return `${task.serviceId}\u0000${version}`;
}

export function placeTasks(nodes: NodeSet, tasks: Iterable<Task>, now: number): PlacementResult {
  const result: PlacementResult = { assigned: [], unplaced: [] };
  const groups = new Map<string, Task[]>();
  const preset: Task[] = [];
  for (const task of tasks) {
    if (task.nodeId !== '') {
      preset.push(task);
      continue;
    }
    const key = groupKey(task);
    const group = groups.get(key);
    if (group === undefined) groups.set(key, [task]);
    else group.push(task);
  }
  // Tasks bound to a node go first: they have no other choice, the others can go around them.
  placePreset(nodes, preset, result);
  for (const group of groups.values()) placeGroup(nodes, group, now, result);
  return result;
}

function placePreset(nodes: NodeSet, tasks: readonly Task[], result: PlacementResult): void {
  const reqs = new Map<string, Requirements>();
  for (const task of tasks) {
    const key = groupKey(task);
    let req = reqs.get(key);
    if (req === undefined) {
      req = requirementsOf(task);
      reqs.set(key, req);
    }
    const why = explainNode(nodes.get(task.nodeId), task.nodeId, req);
    if (why !== undefined) {
      result.unplaced.push({ task, reason: why });
      continue;
    }
    nodes.hold(task.id, task.nodeId, req.footprint);
    result.assigned.push({ task, nodeId: task.nodeId });
  }
}

function placeGroup(nodes: NodeSet, tasks: readonly Task[], now: number, result: PlacementResult): void {
  const req = requirementsOf(tasks[0]);
  let next = 0;
  if (req.error === undefined) {
    const candidates: NodeInfo[] = [];
    for (const node of nodes.values()) if (passesStatic(node, req) && hasRoom(node, req)) candidates.push(node);
    const spreader = new GroupSpreader(req, now, (node) => {
      const task = tasks[next++];
      nodes.hold(task.id, node.id, req.footprint);
      result.assigned.push({ task, nodeId: node.id });
    });
    spreader.place(candidates, tasks.length);
  }
  if (next === tasks.length) return;
  const reason = explainNoNode(nodes.values(), req);
  for (let i = next; i < tasks.length; i++) result.unplaced.push({ task: tasks[i], reason });
}
