/**
 * The filter pipeline (SwarmKit's pipeline.go): a node can take a task only if it passes every filter,
 * in this order: ready and active, resources, constraints, platform, host ports, max replicas per node.
 * Each filter answers with the words of its refusal ("insufficient memory"), so when no node fits, the
 * counts of refusals become the reason the task stays pending.
 *
 * Filters are split into static ones (what a node is: state, labels, platform) and dynamic ones (what
 * its tasks take: resources, ports, replicas): while one group of equal tasks is placed, only the
 * dynamic ones can change their answer, so only they are re-checked after each assignment.
 */
import type { Platform, Task } from '../../api/objects';
import { type Constraint, constraintsMatch, parseConstraints } from '../../api/constraint';
import { type NodeInfo, type TaskFootprint, failureKeyOf, footprintOf } from './node-info';

/** What every task of a group asks of a node, derived once from one of them. */
export interface Requirements {
  readonly serviceId: string;
  readonly failureKey: string;
  readonly footprint: TaskFootprint;
  readonly constraints: readonly Constraint[];
  /** Set when the constraints cannot be parsed: no node is tried, this is the reason. */
  readonly error?: string;
  readonly platforms: readonly Platform[];
  /** 0: no limit. */
  readonly maxReplicas: number;
  /** Spread descriptors (`node.labels.zone`), outermost first. */
  readonly spreadOver: readonly string[];
}

export function requirementsOf(task: Task): Requirements {
  const placement = task.spec.placement;
  const parsed = parseConstraints(placement?.constraints);
  return {
    serviceId: task.serviceId,
    failureKey: failureKeyOf(task),
    footprint: footprintOf(task),
    constraints: parsed.ok ? parsed.constraints : [],
    error: parsed.ok ? undefined : parsed.error,
    platforms: placement?.platforms ?? [],
    maxReplicas: placement?.maxReplicasPerNode ?? 0,
    spreadOver: (placement?.preferences ?? []).map((p) => p.spread.descriptor),
  };
}

/** Docker reports `x86_64` where images say `amd64`; compare in one vocabulary. */
const ARCH_ALIASES: Readonly<Record<string, string>> = { x86_64: 'amd64', aarch64: 'arm64', armhf: 'arm', armv7l: 'arm' };

function normalArch(arch: string): string {
  const lower = arch.toLowerCase();
  return ARCH_ALIASES[lower] ?? lower;
}

function platformSupported(node: NodeInfo, platforms: readonly Platform[]): boolean {
  // A node that has not described itself yet is not refused on a guess (SwarmKit does the same).
  if (platforms.length === 0 || (node.platform.os === '' && node.platform.arch === '')) return true;
  const os = node.platform.os.toLowerCase();
  const arch = normalArch(node.platform.arch);
  for (const p of platforms) {
    if ((p.os === '' || p.os.toLowerCase() === os) && (p.arch === '' || normalArch(p.arch) === arch)) return true;
  }
  return false;
}

/** Why `node` cannot take any new task now; undefined when it can. */
function availabilityRefusal(node: NodeInfo): string | undefined {
  if (node.state !== 'ready') return 'not ready';
  if (node.availability === 'drain') return 'drained';
  if (node.availability === 'pause') return 'paused';
  return undefined;
}

/** The static filters that come after resources in the pipeline order. */
function placementRefusal(node: NodeInfo, req: Requirements): string | undefined {
  if (req.constraints.length > 0 && !constraintsMatch(req.constraints, node)) return 'constraint not met';
  if (!platformSupported(node, req.platforms)) return 'unsupported platform';
  return undefined;
}

function resourceRefusal(node: NodeInfo, fp: TaskFootprint): string | undefined {
  const cpu = fp.nanoCpus > 0 && node.availableNanoCpus < fp.nanoCpus;
  const memory = fp.memoryBytes > 0 && node.availableMemoryBytes < fp.memoryBytes;
  if (cpu && memory) return 'insufficient CPU and memory';
  if (cpu) return 'insufficient CPU';
  if (memory) return 'insufficient memory';
  return undefined;
}

function loadRefusal(node: NodeInfo, req: Requirements): string | undefined {
  for (const port of req.footprint.hostPorts) {
    if (node.hostPorts.has(port)) return `host port ${port} in use`;
  }
  if (req.maxReplicas > 0 && node.tasksOfService(req.serviceId) >= req.maxReplicas) {
    return `max replicas per node (${req.maxReplicas}) reached`;
  }
  return undefined;
}

/** The first filter, in pipeline order, that refuses `node`; undefined when the node fits. */
export function refusal(node: NodeInfo, req: Requirements): string | undefined {
  return (
    availabilityRefusal(node) ??
    resourceRefusal(node, req.footprint) ??
    placementRefusal(node, req) ??
    loadRefusal(node, req)
  );
}

/** Whether the node passes the filters that do not depend on its load. */
export function passesStatic(node: NodeInfo, req: Requirements): boolean {
  return availabilityRefusal(node) === undefined && placementRefusal(node, req) === undefined;
}

/** Whether the filters that depend on load can change while a group is placed (else skip them). */
export function hasDynamicFilters(req: Requirements): boolean {
  const fp = req.footprint;
  return fp.nanoCpus > 0 || fp.memoryBytes > 0 || fp.hostPorts.length > 0 || req.maxReplicas > 0;
}

/** Whether the node still has room for one more task of `req` (the static filters already passed). */
export function hasRoom(node: NodeInfo, req: Requirements): boolean {
  return resourceRefusal(node, req.footprint) === undefined && loadRefusal(node, req) === undefined;
}

/** Refusals by pipeline position, so a reason always lists them in the same order. */
const ORDER = ['not ready', 'drained', 'paused', 'insufficient', 'constraint', 'unsupported platform', 'host port', 'max replicas'];

function rank(why: string): number {
  const i = ORDER.findIndex((prefix) => why.startsWith(prefix));
  return i < 0 ? ORDER.length : i;
}

function plural(n: number): string {
  return `${n} node${n === 1 ? '' : 's'}`;
}

/**
 * Why no node can take a task of `req`: each node's first refusal, counted, in pipeline order, e.g.
 * "no suitable node (insufficient memory on 2 nodes; constraint not met on 1 node)".
 */
export function explainNoNode(nodes: Iterable<NodeInfo>, req: Requirements): string {
  if (req.error !== undefined) return req.error;
  const counts = new Map<string, number>();
  let total = 0;
  for (const node of nodes) {
    total++;
    const why = refusal(node, req) ?? 'no room left after this round of placements';
    counts.set(why, (counts.get(why) ?? 0) + 1);
  }
  if (total === 0) return 'no suitable node (no nodes in the cluster)';
  const parts = [...counts].sort((a, b) => rank(a[0]) - rank(b[0])).map(([why, n]) => `${why} on ${plural(n)}`);
  return `no suitable node (${parts.join('; ')})`;
}

/** Why one given node (a global service's) cannot take the task, or undefined if it can. */
export function explainNode(node: NodeInfo | undefined, nodeId: string, req: Requirements): string | undefined {
  if (req.error !== undefined) return req.error;
  if (node === undefined) return `node ${nodeId} is not in the cluster`;
  const why = refusal(node, req);
  return why === undefined ? undefined : `node ${node.name} not suitable: ${why}`;
}
