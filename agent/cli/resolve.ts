/**
 * Turning what the user typed into one node, cluster, service or task, as SwarmKit's swarmctl does:
 * an exact ID wins, then a name (a node's spec name or its hostname), then a unique ID prefix. Anything else is a
 * CliError that says what matched: "not found", or "ambiguous" with the candidates' IDs.
 */
import type { ControlApi, ServiceView } from '../api/control';
import type { Cluster, Node, Task } from '../api/objects';
import { CliError } from './context';

interface Named {
  id: string;
}

/** At most this many candidate IDs are listed in an "ambiguous" error. */
const MAX_LISTED = 5;

function listIds(matches: readonly Named[]): string {
  const shown = matches.slice(0, MAX_LISTED).map((match) => match.id);
  return matches.length > MAX_LISTED ? `${shown.join(', ')}, ...` : shown.join(', ');
}

export function resolveAmong<T extends Named>(kind: string, objects: readonly T[], input: string, names: (object: T) => readonly string[]): T {
  if (input === '') throw new CliError(`empty ${kind} ID or name`);
  const exact = objects.find((object) => object.id === input);
  if (exact !== undefined) return exact;

  const named = objects.filter((object) => names(object).includes(input));
  if (named.length === 1) return named[0];
  if (named.length > 1) {
    throw new CliError(`${kind} name "${input}" is ambiguous: ${named.length} ${kind}s have it (${listIds(named)}); use an ID`);
  }

  const prefixed = objects.filter((object) => object.id.startsWith(input));
  if (prefixed.length === 1) return prefixed[0];
  if (prefixed.length > 1) {
    throw new CliError(`${kind} ID prefix "${input}" is ambiguous: it matches ${prefixed.length} ${kind}s (${listIds(prefixed)})`);
  }
  throw new CliError(`${kind} "${input}" not found`);
}

export function nodeNames(node: Node): string[] {
  const names: string[] = [];
  if (node.spec.name !== undefined && node.spec.name !== '') names.push(node.spec.name);
  if (node.description !== undefined && node.description.hostname !== '') names.push(node.description.hostname);
  return names;
}

export async function resolveNode(api: ControlApi, input: string): Promise<Node> {
  const { nodes } = await api.listNodes({});
  return resolveAmong('node', nodes, input, nodeNames);
}

export async function resolveCluster(api: ControlApi, input: string): Promise<Cluster> {
  const { clusters } = await api.listClusters({});
  return resolveAmong('cluster', clusters, input, (cluster) => [cluster.spec.name]);
}

export async function resolveService(api: ControlApi, input: string): Promise<ServiceView> {
  const { services } = await api.listServices({});
  return resolveAmong('service', services, input, (service) => [service.spec.name]);
}

/** Tasks have no name of their own: an ID or a unique ID prefix. */
export async function resolveTask(api: ControlApi, input: string): Promise<Task> {
  const { tasks } = await api.listTasks({});
  return resolveAmong('task', tasks, input, () => []);
}
