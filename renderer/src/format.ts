/**
 * How the UI writes cluster values, in the CLI's vocabulary (agent/cli/format): state names in upper
 * case as swarmctl prints them, memory as go-humanize's IBytes, CPUs as plain decimals.
 */
import type { NodeView, ServiceView, Task } from '../../electron/contract';
import { taskStateName, type PortConfig, type TaskState } from '../../agent/api/objects';

import { timeAgo } from '../../agent/cli/format/ago';
export { formatDuration, parseDuration } from '../../agent/cli/duration';

/** `5 minutes ago` for an ISO timestamp; never `from now` (the page's clock ticks only every few seconds). */
export function since(timestamp: string | undefined, now: Date): string {
  if (!timestamp) return '';
  const then = new Date(timestamp);
  if (Number.isNaN(then.getTime())) return '';
  return timeAgo(then.getTime() > now.getTime() ? now : then, now);
}

export { formatBytes } from '../../agent/cli/format/bytes';

export function formatCpus(nanoCpus: number): string {
  return String(Math.round(nanoCpus / 1e6) / 1e3);
}

export function stateName(state: TaskState): string {
  try {
    return taskStateName(state);
  } catch {
    return String(state);
  }
}

/** The operator's name for the node, else its hostname, else its ID. */
export function nodeName(node: NodeView): string {
  if (node.spec.name !== undefined && node.spec.name !== '') return node.spec.name;
  return node.description?.hostname || node.id;
}

/** `leader`, `reachable`, `unreachable`, `unknown` for managers; '' for workers. */
export function managerStatusText(node: NodeView): string {
  if (node.managerStatus !== undefined) return node.managerStatus.leader ? 'leader' : node.managerStatus.reachability;
  return node.role === 'manager' ? 'unknown' : '';
}

export function nodeAddress(node: NodeView): string {
  return node.managerStatus?.addr || node.status.addr;
}

export function portText(port: PortConfig): string {
  return `${port.publishedPort ? port.publishedPort : '*'}:${port.targetPort}/${port.protocol}`;
}

export function publishedPortsText(service: ServiceView): string {
  const ports = service.endpoint?.ports ?? service.spec.endpoint?.ports ?? [];
  return ports.map(portText).join(', ');
}

export function serviceModeText(service: ServiceView): string {
  return 'global' in service.spec.mode ? 'global' : 'replicated';
}

export function updateStatusText(service: ServiceView): string {
  const status = service.status.updateStatus;
  if (status === undefined) return '';
  return status.state.replace('_', ' ');
}

/** A task's name as Docker shows it: `web.3` (replicated) or `web.<node>` (global). */
export function taskName(task: Task): string {
  if (task.name) return task.name;
  return `${task.serviceAnnotations.name}.${task.slot > 0 ? task.slot : task.nodeId}`;
}

export function shortId(id: string): string {
  return id.slice(0, 12);
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return 'code' in err && typeof err.code === 'string' ? `${err.message} (${err.code})` : err.message;
  return String(err);
}
