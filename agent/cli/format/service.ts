/** How swarmctl shows services: `service ls` and `service inspect`, laid out as the seed shows them. */
import type { ServiceView } from '../../api/control';
import type { Mount, PortConfig, Resources, RestartPolicy, Task, UpdateConfig } from '../../api/objects';
import { formatDuration } from '../duration';
import { timeAgo } from './ago';
import { formatBytes } from './bytes';
import { formatSummary, item, section, type SummaryLine } from './summary';
import { formatTable } from './table';
import { formatTaskList, type NodeNames } from './task';

export const SERVICE_LIST_HEADERS = ['ID', 'Name', 'Image', 'Replicas'] as const;

/** `running/desired`; a global service says so, since its desired count follows the nodes. */
export function replicasText(service: ServiceView): string {
  const counts = `${service.replicas.running}/${service.replicas.desired}`;
  return 'global' in service.spec.mode ? `${counts} (global)` : counts;
}

export function formatServiceList(services: readonly ServiceView[]): string {
  return formatTable(
    SERVICE_LIST_HEADERS,
    services.map((service) => [service.id, service.spec.name, service.spec.task.container.image, replicasText(service)]),
  );
}

export function formatServiceIds(services: readonly ServiceView[]): string {
  return services.map((service) => `${service.id}\n`).join('');
}

/** SwarmKit prints CPUs with %g: 0.5, 2, 0.001. */
function formatCpus(nanoCpus: number): string {
  return String(nanoCpus / 1e9);
}

function resourceLines(heading: string, resources: Partial<Resources> | undefined): SummaryLine[] {
  if (resources === undefined) return [];
  return section(`    ${heading}:`, [
    ...item('      CPU', resources.nanoCpus ? formatCpus(resources.nanoCpus) : undefined),
    ...item('      Memory', resources.memoryBytes ? formatBytes(resources.memoryBytes) : undefined),
  ]);
}

function formatRestart(restart: RestartPolicy): string {
  const attempts = restart.maxAttempts === 0 ? 'unlimited attempts' : `at most ${restart.maxAttempts} attempts`;
  const window = restart.windowMs === 0 ? '' : ` in ${formatDuration(restart.windowMs)}`;
  return `${restart.condition}, delay ${formatDuration(restart.delayMs)}, ${attempts}${window}`;
}

function formatUpdateConfig(config: UpdateConfig): string {
  const parallelism = config.parallelism === 0 ? 'all at once' : `parallelism ${config.parallelism}`;
  return [
    parallelism,
    `delay ${formatDuration(config.delayMs)}`,
    `on failure ${config.failureAction}`,
    `monitor ${formatDuration(config.monitorMs)}`,
    `max failure ratio ${config.maxFailureRatio}`,
    config.order,
  ].join(', ');
}

/** As `--ports` takes them: `8080:80/tcp`; `80/tcp` when the node picks the published port. */
export function formatPort(port: PortConfig): string {
  const published = port.publishedPort === undefined || port.publishedPort === 0 ? '' : `${port.publishedPort}:`;
  return `${published}${port.targetPort}/${port.protocol}`;
}

/** `bind /srv/www:/www:ro`, `volume cache:/cache`, `tmpfs /tmp`. */
function formatMount(mount: Mount): string {
  const source = mount.source === undefined || mount.source === '' ? '' : `${mount.source}:`;
  return `${mount.type} ${source}${mount.target}${mount.readOnly === true ? ':ro' : ''}`;
}

function updateStatusLines(service: ServiceView, now: Date): SummaryLine[] {
  const status = service.status.updateStatus;
  if (status === undefined) return [];
  return section('Update Status', [
    ...item(' State', status.state),
    ...item(' Started', status.startedAt === undefined ? undefined : timeAgo(new Date(status.startedAt), now)),
    ...item(' Completed', status.completedAt === undefined ? undefined : timeAgo(new Date(status.completedAt), now)),
    ...item(' Message', status.message),
  ]);
}

/**
 * After SwarmKit's printServiceSummary: what the seed shows (ID, Name, Replicas, Template, Container,
 * Image), then whatever else the spec sets, each only when set.
 */
export function formatServiceSummary(service: ServiceView, now: Date): string {
  const { spec } = service;
  const container = spec.task.container;
  const placement = spec.task.placement;
  const resources = spec.task.resources;
  const labelKeys = Object.keys(spec.labels).sort();
  return formatSummary([
    ...item('ID', service.id),
    ...item('Name', spec.name),
    ...(labelKeys.length === 0 ? [] : section('Labels', labelKeys.map((key) => ({ label: `  ${key}`, value: spec.labels[key] })))),
    ...item('Replicas', replicasText(service)),
    ...updateStatusLines(service, now),
    ...section('Template'),
    ...section(' Container'),
    ...item('  Image', container.image),
    ...item('  Command', container.command === undefined ? undefined : JSON.stringify(container.command.join(' '))),
    ...item('  Args', container.args === undefined ? undefined : `[${container.args.join(', ')}]`),
    ...item('  Env', container.env === undefined ? undefined : `[${container.env.join(', ')}]`),
    ...item('  Dir', container.dir),
    ...item('  User', container.user),
    ...item('  Hostname', container.hostname),
    ...item('  Mounts', container.mounts?.map(formatMount).join(', ')),
    ...item('  Stop Signal', container.stopSignal),
    ...item('  Stop Grace', container.stopGracePeriodMs === undefined ? undefined : formatDuration(container.stopGracePeriodMs)),
    ...item('  Constraints', placement?.constraints.join(', ')),
    ...item('  Preferences', placement?.preferences?.map((preference) => `spread=${preference.spread.descriptor}`).join(', ')),
    ...item('  Max Per Node', placement?.maxReplicasPerNode === undefined ? undefined : String(placement.maxReplicasPerNode)),
    ...(resources === undefined
      ? []
      : section('  Resources', [...resourceLines('Reservations', resources.reservations), ...resourceLines('Limits', resources.limits)])),
    ...item('  Restart', spec.task.restart === undefined ? undefined : formatRestart(spec.task.restart)),
    ...item('Ports', spec.endpoint?.ports.map(formatPort).join(', ')),
    ...item('Update', spec.update === undefined ? undefined : formatUpdateConfig(spec.update)),
    ...item('Rollback', spec.rollback === undefined ? undefined : formatUpdateConfig(spec.rollback)),
  ]);
}

/** The summary, then (after a blank line, as SwarmKit prints it) the service's task table. */
export function formatServiceInspect(service: ServiceView, tasks: readonly Task[], nodes: NodeNames, now: Date): string {
  const summary = formatServiceSummary(service, now);
  return tasks.length === 0 ? summary : `${summary}\n${formatTaskList(tasks, nodes, now)}`;
}
