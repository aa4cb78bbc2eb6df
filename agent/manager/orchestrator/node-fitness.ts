/**
 * Whether a node suits a service's tasks, as the orchestrators (not the scheduler) see it: a task is
 * moved off a node that is down, drained or no longer meets the service's placement constraints; a
 * global service gets a new task only on a node that is ready and active. Constraints are parsed and
 * matched by the one parser (agent/api/constraint.ts) the scheduler uses too, so both agree on every node.
 */
import { type ConstraintSubject, constraintsMatch, parseConstraints } from '../../api/constraint';
import type { Node, TaskSpec } from '../../api/objects';

/** `run`: may get new tasks; `keep`: keeps what it has (unknown state after a leader change, paused); `evict`: its tasks must go. */
export type NodeFitness = 'run' | 'keep' | 'evict';

export function constraintSubjectOf(node: Node): ConstraintSubject {
  return {
    id: node.id,
    hostname: node.description?.hostname ?? '',
    role: node.role,
    platform: node.description?.platform ?? { os: '', arch: '' },
    labels: node.spec.labels,
    engineLabels: node.description?.engine?.labels ?? {},
  };
}

/** An unreadable constraint is met by no node (the control API refuses such specs up front). */
export function meetsConstraints(node: Node, spec: TaskSpec): boolean {
  const constraints = spec.placement?.constraints ?? [];
  if (constraints.length === 0) return true;
  const parsed = parseConstraints(constraints);
  return parsed.ok && constraintsMatch(parsed.constraints, constraintSubjectOf(node));
}

/** Why a node's tasks of this spec must move, or undefined when they may stay. */
export function evictionReason(node: Node | undefined, spec: TaskSpec): string | undefined {
  if (node === undefined) return 'node removed';
  if (node.status.state === 'down') return 'node is down';
  if (node.spec.availability === 'drain') return 'node is drained';
  if (!meetsConstraints(node, spec)) return 'node no longer meets the placement constraints';
  return undefined;
}

export function nodeFitness(node: Node | undefined, spec: TaskSpec): NodeFitness {
  if (node === undefined || evictionReason(node, spec) !== undefined) return 'evict';
  return node.status.state === 'ready' && node.spec.availability === 'active' ? 'run' : 'keep';
}
