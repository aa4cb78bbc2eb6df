/** The counts the Overview page shows, computed from the store's tables. Pure. */
import { TaskState } from '../../../agent/api/objects';
import type { NodeView, ServiceView, Task } from '../../../electron/contract';

export interface NodeCounts {
  total: number;
  ready: number;
  managers: number;
  workers: number;
  drained: number;
}

export function nodeCounts(nodes: Iterable<NodeView>): NodeCounts {
  const counts: NodeCounts = { total: 0, ready: 0, managers: 0, workers: 0, drained: 0 };
  for (const node of nodes) {
    counts.total++;
    if (node.status.state === 'ready') counts.ready++;
    if (node.role === 'manager') counts.managers++;
    else counts.workers++;
    if (node.spec.availability === 'drain') counts.drained++;
  }
  return counts;
}

export interface TaskCounts {
  /** Tasks desired running. */
  desired: number;
  running: number;
  /** Desired running but FAILED or REJECTED. */
  failed: number;
}

export function taskCounts(tasks: Iterable<Task>): TaskCounts {
  const counts: TaskCounts = { desired: 0, running: 0, failed: 0 };
  for (const task of tasks) {
    if (task.desiredState > TaskState.RUNNING) continue;
    counts.desired++;
    if (task.status.state === TaskState.RUNNING) counts.running++;
    else if (task.status.state === TaskState.FAILED || task.status.state === TaskState.REJECTED) counts.failed++;
  }
  return counts;
}

export type ServiceHealth = 'healthy' | 'converging' | 'updating' | 'paused' | 'down';

export function serviceHealth(service: ServiceView): ServiceHealth {
  const update = service.status.updateStatus?.state;
  if (update === 'paused' || update === 'rollback_paused') return 'paused';
  if (update === 'updating' || update === 'rollback_started') return 'updating';
  const { running, desired } = service.replicas;
  if (running >= desired) return 'healthy';
  return running === 0 ? 'down' : 'converging';
}

export function serviceHealthCounts(services: Iterable<ServiceView>): Record<ServiceHealth, number> {
  const counts: Record<ServiceHealth, number> = { healthy: 0, converging: 0, updating: 0, paused: 0, down: 0 };
  for (const service of services) counts[serviceHealth(service)]++;
  return counts;
}
