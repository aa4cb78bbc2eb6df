/** How swarmctl shows clusters: `cluster ls` and `cluster inspect` (laid out as SwarmKit prints it). */
import type { Cluster } from '../../api/objects';
import { formatDuration } from '../duration';
import { field, formatFields } from './fields';
import { formatTable } from './table';

export function formatClusterList(clusters: readonly Cluster[]): string {
  return formatTable(
    ['ID', 'Name'],
    clusters.map((cluster) => [cluster.id, cluster.spec.name]),
  );
}

/**
 * SwarmKit's printClusterSummary: ID and Name are aligned; the settings below them are plain
 * "label: value" lines, exactly as the SwarmKit transcripts show them.
 */
export function formatClusterInspect(cluster: Cluster): string {
  const { spec } = cluster;
  const settings = [
    'Orchestration settings:',
    `  Task history entries: ${spec.orchestration.taskHistoryRetentionLimit}`,
    'Dispatcher settings:',
    `  Dispatcher heartbeat period: ${formatDuration(spec.dispatcher.heartbeatPeriodMs)}`,
    'Certificate Authority settings:',
    `  Certificate Validity Duration: ${formatDuration(spec.caConfig.nodeCertExpiryMs)}`,
    '  Join Tokens:',
    `    Worker: ${cluster.rootCa.joinTokens.worker}`,
    `    Manager: ${cluster.rootCa.joinTokens.manager}`,
  ];
  return formatFields([...field('ID', cluster.id), ...field('Name', spec.name)]) + settings.map((line) => `${line}\n`).join('');
}
