/**
 * What the scheduler knows about one node: its description (for filters and constraints) and the load
 * the tasks assigned to it put on it (for resources, host ports, spreading and the failure penalty).
 * Kept incrementally by NodeSet from store events, and updated in place by the placement core as it
 * assigns tasks, so a batch sees its own earlier decisions.
 */
import type { Node, NodeAvailability, NodeRole, NodeState, Task } from '../../api/objects';
import { TaskState } from '../../api/objects';
import type { ConstraintSubject } from '../../api/constraint';

/** SwarmKit's penalty: a node where this service's tasks failed this often recently is tried last. */
export const MAX_RECENT_FAILURES = 5;
export const FAILURE_WINDOW_MS = 5 * 60_000;

/** What one task takes from the node it is assigned to. Shared (never mutated) between equal tasks. */
export interface TaskFootprint {
  readonly serviceId: string;
  /** Counts for spreading: its desired state still wants it to run (SwarmKit: desired <= COMPLETE). */
  readonly active: boolean;
  readonly nanoCpus: number;
  readonly memoryBytes: number;
  /** Host-mode published ports, as `protocol/port`. */
  readonly hostPorts: readonly string[];
}

/** Host-mode published ports of a task (`tcp/8080`); ingress ports are the routing mesh's concern. */
export function hostPortsOf(task: Task): string[] {
  const ports = task.endpoint?.ports ?? task.endpoint?.spec.ports ?? [];
  const out: string[] = [];
  for (const p of ports) {
    if (p.publishMode === 'host' && p.publishedPort !== undefined && p.publishedPort > 0) out.push(`${p.protocol}/${p.publishedPort}`);
  }
  return out;
}

export function footprintOf(task: Task): TaskFootprint {
  const reservations = task.spec.resources?.reservations;
  return {
    serviceId: task.serviceId,
    active: task.desiredState <= TaskState.COMPLETE,
    nanoCpus: reservations?.nanoCpus ?? 0,
    memoryBytes: reservations?.memoryBytes ?? 0,
    hostPorts: hostPortsOf(task),
  };
}

/** Failures are counted per service and spec version, so a fixed update is not held against the node. */
export function failureKeyOf(task: Pick<Task, 'serviceId' | 'specVersion'>): string {
  return `${task.serviceId}\u0000${task.specVersion ?? ''}`;
}

export class NodeInfo implements ConstraintSubject {
  hostname = '';
  role: NodeRole = 'worker';
  labels: Readonly<Record<string, string>> = {};
  engineLabels: Readonly<Record<string, string>> = {};
  platform: { os: string; arch: string } = { os: '', arch: '' };
  availability: NodeAvailability = 'active';
  state: NodeState = 'unknown';
  totalNanoCpus = 0;
  totalMemoryBytes = 0;
  /** Total minus the reservations of the tasks held here; may go negative if the node shrank. */
  availableNanoCpus = 0;
  availableMemoryBytes = 0;

  /** Tasks that occupy this node (assigned and not finished), by task id. */
  readonly tasks = new Map<string, TaskFootprint>();
  activeTasks = 0;
  readonly activeByService = new Map<string, number>();
  /** `protocol/port` -> how many tasks publish it (normally one). */
  readonly hostPorts = new Map<string, number>();
  /** failure key -> timestamps (ms) of recent failures, oldest first. */
  readonly recentFailures = new Map<string, number[]>();

  constructor(readonly id: string) {}

  static of(node: Node): NodeInfo {
    const info = new NodeInfo(node.id);
    info.describe(node);
    return info;
  }

  /** Takes the node's current description; the load from its tasks is kept. */
  describe(node: Node): void {
    const d = node.description;
    this.hostname = d?.hostname ?? '';
    this.role = node.role;
    this.labels = node.spec.labels ?? {};
    this.engineLabels = d?.engine?.labels ?? {};
    this.platform = { os: d?.platform.os ?? '', arch: d?.platform.arch ?? '' };
    this.availability = node.spec.availability;
    this.state = node.status.state;
    this.availableNanoCpus += (d?.resources.nanoCpus ?? 0) - this.totalNanoCpus;
    this.availableMemoryBytes += (d?.resources.memoryBytes ?? 0) - this.totalMemoryBytes;
    this.totalNanoCpus = d?.resources.nanoCpus ?? 0;
    this.totalMemoryBytes = d?.resources.memoryBytes ?? 0;
  }

  /** The name people know the node by, for messages. */
  get name(): string {
    return this.hostname || this.id;
  }

  tasksOfService(serviceId: string): number {
    return this.activeByService.get(serviceId) ?? 0;
  }

  /** Records (or replaces) a task's footprint on this node. */
  addTask(taskId: string, fp: TaskFootprint): void {
    const old = this.tasks.get(taskId);
    if (old === fp) return;
    if (old !== undefined) this.release(old);
    this.tasks.set(taskId, fp);
    this.availableNanoCpus -= fp.nanoCpus;
    this.availableMemoryBytes -= fp.memoryBytes;
    if (fp.active) {
      this.activeTasks++;
      this.activeByService.set(fp.serviceId, (this.activeByService.get(fp.serviceId) ?? 0) + 1);
    }
    for (const port of fp.hostPorts) this.hostPorts.set(port, (this.hostPorts.get(port) ?? 0) + 1);
  }

  /** Returns whether the task was held here. */
  removeTask(taskId: string): boolean {
    const old = this.tasks.get(taskId);
    if (old === undefined) return false;
    this.tasks.delete(taskId);
    this.release(old);
    return true;
  }

  private release(fp: TaskFootprint): void {
    this.availableNanoCpus += fp.nanoCpus;
    this.availableMemoryBytes += fp.memoryBytes;
    if (fp.active) {
      this.activeTasks--;
      const n = (this.activeByService.get(fp.serviceId) ?? 0) - 1;
      if (n > 0) this.activeByService.set(fp.serviceId, n);
      else this.activeByService.delete(fp.serviceId);
    }
    for (const port of fp.hostPorts) {
      const n = (this.hostPorts.get(port) ?? 0) - 1;
      if (n > 0) this.hostPorts.set(port, n);
      else this.hostPorts.delete(port);
    }
  }

  recordFailure(key: string, at: number): void {
    const times = (this.recentFailures.get(key) ?? []).filter((t) => at - t < FAILURE_WINDOW_MS);
    times.push(at);
    this.recentFailures.set(key, times);
  }

  recentFailureCount(key: string, now: number): number {
    const times = this.recentFailures.get(key);
    if (times === undefined) return 0;
    let n = 0;
    for (const t of times) if (now - t < FAILURE_WINDOW_MS) n++;
    if (n === 0) this.recentFailures.delete(key);
    return n;
  }
}
