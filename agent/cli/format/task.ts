/** How swarmctl shows tasks: the task table (`task ls`, under `service inspect`) and `task inspect`. */
import { type Node, type Task, taskStateName, TaskState } from '../../api/objects';
import { timeAgo } from './ago';
import { nodeName } from './node';
import { formatSummary, item, section } from './summary';
import { formatTable } from './table';

export const TASK_LIST_HEADERS = ['Task ID', 'Service', 'Slot', 'Image', 'Desired State', 'Last State', 'Node'] as const;

/** Node IDs to what people call them (name, else hostname); an unknown node shows as its ID. */
export type NodeNames = ReadonlyMap<string, string>;

export function nodeNameMap(nodes: readonly Node[]): NodeNames {
  return new Map(nodes.map((node) => [node.id, nodeName(node) || node.id]));
}

function nodeLabel(nodeId: string, nodes: NodeNames): string {
  return nodeId === '' ? '' : (nodes.get(nodeId) ?? nodeId);
}

/**
 * Tasks people look at by default: those meant to run (SwarmKit hides tasks whose desired state is
 * past RUNNING unless asked for all).
 */
export function isCurrentTask(task: Task): boolean {
  return task.desiredState <= TaskState.RUNNING;
}

/** By slot (global tasks by node), then newest first, as SwarmKit lists a slot's history. */
function byPosition(nodes: NodeNames) {
  return (a: Task, b: Task): number =>
    a.slot - b.slot ||
    nodeLabel(a.nodeId, nodes).localeCompare(nodeLabel(b.nodeId, nodes)) ||
    b.meta.createdAt.localeCompare(a.meta.createdAt) ||
    a.id.localeCompare(b.id);
}

export function taskListRow(task: Task, nodes: NodeNames, now: Date): string[] {
  return [
    task.id,
    task.serviceAnnotations.name,
    task.slot === 0 ? '' : String(task.slot),
    task.spec.container.image,
    taskStateName(task.desiredState),
    `${taskStateName(task.status.state)} ${timeAgo(new Date(task.status.timestamp), now)}`,
    nodeLabel(task.nodeId, nodes),
  ];
}

export function formatTaskList(tasks: readonly Task[], nodes: NodeNames, now: Date): string {
  const sorted = [...tasks].sort(byPosition(nodes));
  return formatTable(TASK_LIST_HEADERS, sorted.map((task) => taskListRow(task, nodes, now)));
}

export function formatTaskIds(tasks: readonly Task[]): string {
  return tasks.map((task) => `${task.id}\n`).join('');
}

function formatPorts(task: Task): string {
  return (task.status.portStatus?.ports ?? [])
    .map((port) => `0.0.0.0:${port.publishedPort ?? 0}->${port.targetPort}/${port.protocol}`)
    .join(', ');
}

/** After SwarmKit's printTaskSummary; the container's command line is the service's, as run. */
export function formatTaskInspect(task: Task, nodes: NodeNames, now: Date): string {
  const { status } = task;
  const container = task.spec.container;
  const finished = status.state > TaskState.RUNNING;
  return formatSummary([
    ...item('ID', task.id),
    ...item('Name', task.name),
    ...item('Slot', task.slot === 0 ? undefined : String(task.slot)),
    ...item('Service', task.serviceAnnotations.name),
    ...section('Status', [
      ...item('  Desired State', taskStateName(task.desiredState)),
      ...item('  Last State', taskStateName(status.state)),
      ...item('  Timestamp', `${status.timestamp} (${timeAgo(new Date(status.timestamp), now)})`),
      ...item('  Message', status.message),
      ...item('  Error', status.err),
      ...item('  ContainerID', status.containerStatus?.containerId),
      ...item('  Pid', status.containerStatus?.pid ? String(status.containerStatus.pid) : undefined),
      ...item('  ExitCode', finished && status.containerStatus !== undefined ? String(status.containerStatus.exitCode) : undefined),
    ]),
    ...item('Ports', formatPorts(task)),
    ...item('Node', nodeLabel(task.nodeId, nodes)),
    ...section('Spec', [
      ...item('  Image', container.image),
      ...item('  Command', container.command === undefined ? undefined : JSON.stringify(container.command.join(' '))),
      ...item('  Args', container.args === undefined ? undefined : `[${container.args.join(', ')}]`),
      ...item('  Env', container.env === undefined ? undefined : `[${container.env.join(', ')}]`),
    ]),
  ]);
}
