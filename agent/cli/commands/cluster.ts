/** `swarmctl cluster ...`: list, inspect, update settings and rotate join tokens. */
import { type Command, InvalidArgumentError } from 'commander';
import type { ClusterView } from '../../api/control';
import {
  MAX_HEARTBEAT_PERIOD_MS,
  MAX_TASK_HISTORY,
  MIN_CERT_EXPIRY_MS,
  MIN_HEARTBEAT_PERIOD_MS,
} from '../../api/control-schema';
import type { ClusterSpec } from '../../api/objects';
import { CliError, type CliContext } from '../context';
import { formatDuration, parseDuration } from '../duration';
import { formatClusterInspect, formatClusterList } from '../format/cluster';
import { resolveCluster } from '../resolve';
import { readModifyWrite } from '../update';
import { makeGroup } from './group';

type TokenRole = 'worker' | 'manager';

interface ClusterUpdateOptions {
  rotateJoinToken: TokenRole[];
  heartbeatPeriod?: number;
  taskHistory?: number;
  certExpiry?: number;
}

function durationBetween(min: number, max: number) {
  return (value: string): number => {
    let ms: number;
    try {
      ms = parseDuration(value);
    } catch (err) {
      throw new InvalidArgumentError(err instanceof Error ? err.message : String(err));
    }
    if (ms < min || ms > max) {
      const range = max === Number.MAX_SAFE_INTEGER ? `at least ${formatDuration(min)}` : `between ${formatDuration(min)} and ${formatDuration(max)}`;
      throw new InvalidArgumentError(`must be ${range}.`);
    }
    return ms;
  };
}

function parseTaskHistory(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > MAX_TASK_HISTORY) throw new InvalidArgumentError(`must be a whole number from 0 to ${MAX_TASK_HISTORY}.`);
  return n;
}

function parseTokenRole(value: string, previous: TokenRole[]): TokenRole[] {
  if (value !== 'worker' && value !== 'manager') throw new InvalidArgumentError('must be "worker" or "manager".');
  return previous.includes(value) ? previous : [...previous, value];
}

function changeSettings(options: ClusterUpdateOptions, subject: string) {
  return (spec: ClusterSpec): ClusterSpec => {
    const next: ClusterSpec = {
      ...spec,
      orchestration: { ...spec.orchestration, taskHistoryRetentionLimit: options.taskHistory ?? spec.orchestration.taskHistoryRetentionLimit },
      dispatcher: { ...spec.dispatcher, heartbeatPeriodMs: options.heartbeatPeriod ?? spec.dispatcher.heartbeatPeriodMs },
      caConfig: { ...spec.caConfig, nodeCertExpiryMs: options.certExpiry ?? spec.caConfig.nodeCertExpiryMs },
    };
    const unchanged =
      next.orchestration.taskHistoryRetentionLimit === spec.orchestration.taskHistoryRetentionLimit &&
      next.dispatcher.heartbeatPeriodMs === spec.dispatcher.heartbeatPeriodMs &&
      next.caConfig.nodeCertExpiryMs === spec.caConfig.nodeCertExpiryMs;
    if (unchanged && options.rotateJoinToken.length === 0) throw new CliError(`${subject} already has these settings`);
    return next;
  };
}

export function addClusterCommands(program: Command, ctx: CliContext): void {
  const cluster = makeGroup(program.command('cluster').description('Cluster management'));

  cluster
    .command('ls')
    .alias('list')
    .description('List clusters')
    .action(async () => {
      const { clusters } = await ctx.api().listClusters({});
      ctx.print(formatClusterList(clusters));
    });

  cluster
    .command('inspect')
    .description('Inspect a cluster')
    .argument('<cluster>', 'cluster ID, ID prefix or name')
    .action(async (input: string) => {
      ctx.print(formatClusterInspect(await resolveCluster(ctx.api(), input)));
    });

  cluster
    .command('update')
    .description("Update a cluster's settings, or rotate its join tokens")
    .argument('<cluster>', 'cluster ID, ID prefix or name')
    .option('--rotate-join-token <role>', 'Issue a new join token for "worker" or "manager" (repeatable)', parseTokenRole, [])
    .option(
      '--heartbeat-period <duration>',
      'How often agents report to the dispatcher, e.g. 5s',
      durationBetween(MIN_HEARTBEAT_PERIOD_MS, MAX_HEARTBEAT_PERIOD_MS),
    )
    .option('--task-history <n>', 'Finished tasks kept per service slot or node', parseTaskHistory)
    .option(
      '--cert-expiry <duration>',
      'How long node certificates are valid, e.g. 2160h0m0s',
      durationBetween(MIN_CERT_EXPIRY_MS, Number.MAX_SAFE_INTEGER),
    )
    .action(async (input: string, options: ClusterUpdateOptions) => {
      const settings = [options.heartbeatPeriod, options.taskHistory, options.certExpiry];
      if (options.rotateJoinToken.length === 0 && settings.every((setting) => setting === undefined)) {
        throw new CliError('nothing to update: give --rotate-join-token, --heartbeat-period, --task-history or --cert-expiry');
      }
      const api = ctx.api();
      const subject = `cluster ${input}`;
      const updated = await readModifyWrite<ClusterView, ClusterSpec>({
        subject,
        current: await resolveCluster(api, input),
        read: async (clusterId) => (await api.getCluster({ clusterId })).cluster,
        change: changeSettings(options, subject),
        write: async (current, spec) =>
          (
            await api.updateCluster({
              clusterId: current.id,
              version: current.meta.version,
              spec,
              rotateWorkerToken: options.rotateJoinToken.includes('worker'),
              rotateManagerToken: options.rotateJoinToken.includes('manager'),
            })
          ).cluster,
      });
      // SwarmKit prints the ID of the cluster it updated.
      ctx.print(`${updated.id}\n`);
    });
}
