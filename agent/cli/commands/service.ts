/** `swarmctl service ...`: create, list, inspect, update, roll back and remove services. */
import { type Command, InvalidArgumentError, Option } from 'commander';
import type { ControlApi, ServiceView } from '../../api/control';
import { isApiError } from '../../api/errors';
import type { PlacementPreference, ServiceSpec } from '../../api/objects';
import { validateServiceSpec } from '../../api/service-spec';
import { CliError, type CliContext } from '../context';
import { formatServiceIds, formatServiceInspect, formatServiceList } from '../format/service';
import { isCurrentTask, nodeNameMap } from '../format/task';
import { resolveService } from '../resolve';
import {
  applySharedFlags,
  collect,
  collectText,
  FAILURE_ACTIONS,
  oneOf,
  ORDERS,
  parseCount,
  parseCpus,
  parseDurationFlag,
  parseKeyValue,
  parseMemory,
  parseMount,
  parsePort,
  parsePortToRemove,
  parseRatio,
  RESTART_CONDITIONS,
  type SharedServiceFlags,
} from '../service-flags';
import { applyUpdateFlags, CREATE_ONLY_FLAGS, refuseCreateOnlyFlags, type UpdateFlags } from '../service-update-flags';
import { readModifyWrite } from '../update';
import { makeGroup } from './group';
import { addServiceLogsCommand } from './service-logs';

const parseEnv = (text: string): string => parseKeyValue(text).join('=');

function parsePreference(text: string): PlacementPreference {
  const [strategy, descriptor] = parseKeyValue(text);
  if (strategy !== 'spread') throw new InvalidArgumentError('use spread=node.labels.<name>.');
  return { spread: { descriptor } };
}

/** Options both `create` and `update` take; each replaces one setting of the spec. */
function addSharedOptions(command: Command): Command {
  command
    .option('--replicas <n>', 'Number of tasks (replicated services)', parseCount)
    .option('--command <word>', 'Command to run instead of the image entrypoint (repeat for each word; "" removes it)', collectText)
    .option('--args <arg>', 'Argument to the command (repeat for each one; "" removes them)', collectText)
    .option('--hostname <name>', 'Container hostname ("" removes it)')
    .option('--workdir <dir>', 'Working directory inside the container ("" removes it)')
    .option('--user <user>', 'User the command runs as ("" removes it)')
    .option('--stop-signal <signal>', 'Signal that stops the container, e.g. SIGTERM ("" removes it)')
    .option('--stop-grace-period <duration>', 'Time to wait before killing the container, e.g. 10s', parseDurationFlag)
    .option('--cpu-limit <cpus>', 'CPU limit, e.g. 0.5 (0 removes it)', parseCpus)
    .option('--memory-limit <bytes>', 'Memory limit, e.g. 64MiB or 1g (0 removes it)', parseMemory)
    .option('--cpu-reservation <cpus>', 'CPUs reserved on the node, e.g. 0.5 (0 removes it)', parseCpus)
    .option('--memory-reservation <bytes>', 'Memory reserved on the node, e.g. 64MiB (0 removes it)', parseMemory)
    .option('--restart-condition <condition>', 'Restart when: any, on-failure or none', oneOf(RESTART_CONDITIONS, { failure: 'on-failure' }))
    .option('--restart-delay <duration>', 'Delay between restarts, e.g. 5s', parseDurationFlag)
    .option('--restart-max-attempts <n>', 'Restarts allowed in the window (0 = unlimited)', parseCount)
    .option('--restart-window <duration>', 'Window in which restarts are counted (0s = forever)', parseDurationFlag)
    .option('--replicas-max-per-node <n>', 'At most this many tasks per node (0 = no limit)', parseCount);
  for (const kind of ['update', 'rollback'] as const) {
    const doing = kind === 'update' ? 'an update' : 'a rollback';
    command
      .option(`--${kind}-parallelism <n>`, `Tasks replaced at once during ${doing} (0 = all)`, parseCount)
      .option(`--${kind}-delay <duration>`, `Delay between batches during ${doing}, e.g. 4s`, parseDurationFlag)
      .option(`--${kind}-failure-action <action>`, `On a failed task during ${doing}: ${kind === 'update' ? 'pause, continue or rollback' : 'pause or continue'}`, oneOf(FAILURE_ACTIONS))
      .option(`--${kind}-monitor <duration>`, `How long a new task is watched for failure during ${doing}`, parseDurationFlag)
      .option(`--${kind}-max-failure-ratio <ratio>`, `Failed fraction tolerated during ${doing} (0 to 1)`, parseRatio)
      .option(`--${kind}-order <order>`, `stop-first or start-first during ${doing}`, oneOf(ORDERS));
  }
  return command;
}

interface CreateFlags extends SharedServiceFlags {
  name: string;
  image: string;
  mode?: 'replicated' | 'global';
  label?: [string, string][];
  env?: string[];
  mount?: ServiceSpec['task']['container']['mounts'];
  ports?: NonNullable<ServiceSpec['endpoint']>['ports'];
  constraint?: string[];
  placementPref?: PlacementPreference[];
}

export function specFromCreateFlags(flags: CreateFlags): ServiceSpec {
  if (flags.mode === 'global' && flags.replicas !== undefined) throw new CliError('--replicas is for replicated services, not --mode global');
  const spec: ServiceSpec = {
    name: flags.name,
    labels: Object.fromEntries(flags.label ?? []),
    mode: flags.mode === 'global' ? { global: {} } : { replicated: { replicas: 1 } },
    task: { container: { image: flags.image } },
  };
  if (flags.env !== undefined) spec.task.container.env = flags.env;
  if (flags.mount !== undefined) spec.task.container.mounts = flags.mount;
  if (flags.constraint !== undefined || flags.placementPref !== undefined) {
    spec.task.placement = { constraints: flags.constraint ?? [], ...(flags.placementPref === undefined ? {} : { preferences: flags.placementPref }) };
  }
  if (flags.ports !== undefined) spec.endpoint = { mode: 'vip', ports: flags.ports };
  return validateServiceSpec(applySharedFlags(spec, flags, `service ${flags.name}`));
}

async function showService(ctx: CliContext, input: string, all: boolean): Promise<void> {
  const api = ctx.api();
  const service = await resolveService(api, input);
  const [{ tasks }, { nodes }] = await Promise.all([api.listTasks({ serviceId: service.id }), api.listNodes({})]);
  const shown = all ? tasks : tasks.filter(isCurrentTask);
  ctx.print(formatServiceInspect(service, shown, nodeNameMap(nodes), ctx.now()));
}

/** Runs `act` on each service; one failure does not stop the others (each gets its line). */
async function eachService(ctx: CliContext, inputs: readonly string[], act: (api: ControlApi, service: ServiceView) => Promise<void>): Promise<void> {
  const api = ctx.api();
  for (const input of inputs) {
    try {
      await act(api, await resolveService(api, input));
      ctx.print(`${input}\n`);
    } catch (err) {
      if (inputs.length === 1 || isApiError(err, 'Unavailable')) throw err;
      ctx.fail(err, isApiError(err) ? `service ${input}` : undefined);
    }
  }
}

export function addServiceCommands(program: Command, ctx: CliContext): void {
  const service = makeGroup(program.command('service').description('Service management'));

  addSharedOptions(
    service
      .command('create')
      .description('Create a service')
      .requiredOption('--name <name>', 'Service name')
      .requiredOption('--image <image>', 'Container image')
      .option('--mode <mode>', 'replicated (default) or global', oneOf(['replicated', 'global'] as const))
      .option('--label <key=value>', 'Service label (repeatable)', collect(parseKeyValue))
      .option('--env <KEY=value>', 'Environment variable (repeatable)', collect(parseEnv))
      .option('--mount <mount>', 'Mount, e.g. type=bind,source=/srv,target=/www,readonly (repeatable)', collect(parseMount))
      .option('--ports <port>', 'Publish a port on the node: published:target[/protocol] (repeatable)', collect(parsePort))
      .option('--constraint <expr>', 'Placement constraint, e.g. node.role==manager (repeatable)', collectText)
      .option('--placement-pref <pref>', 'Spread tasks over a label: spread=node.labels.<name> (repeatable)', collect(parsePreference)),
  ).action(async (flags: CreateFlags) => {
    const { service: created } = await ctx.api().createService({ spec: specFromCreateFlags(flags) });
    ctx.print(`${created.id}\n`);
  });

  service
    .command('ls')
    .alias('list')
    .description('List services')
    .option('-q, --quiet', 'Only display IDs')
    .action(async (options: { quiet?: boolean }) => {
      const { services } = await ctx.api().listServices({});
      ctx.print(options.quiet === true ? formatServiceIds(services) : formatServiceList(services));
    });

  service
    .command('inspect')
    .description('Inspect a service and its tasks')
    .argument('<service>', 'service ID, ID prefix or name')
    .option('-a, --all', 'Show all tasks (default shows those meant to run)')
    .action(async (input: string, options: { all?: boolean }) => {
      await showService(ctx, input, options.all === true);
    });

  const updateCommand = addSharedOptions(
    service
      .command('update')
      .description('Update a service')
      .argument('<service>', 'service ID, ID prefix or name')
      .option('--image <image>', 'Container image')
      .option('--env-add <KEY=value>', 'Add or replace an environment variable (repeatable)', collect(parseEnv))
      .option('--env-rm <KEY>', 'Remove an environment variable (repeatable)', collectText)
      .option('--constraint-add <expr>', 'Add a placement constraint (repeatable)', collectText)
      .option('--constraint-rm <expr>', 'Remove a placement constraint (repeatable)', collectText)
      .option('--label-add <key=value>', 'Add or replace a service label (repeatable)', collect(parseKeyValue))
      .option('--label-rm <key>', 'Remove a service label (repeatable)', collectText)
      .option('--mount-add <mount>', 'Add or replace (by target) a mount, e.g. type=volume,source=data,target=/data (repeatable)', collect(parseMount))
      .option('--mount-rm <target>', 'Remove the mount at this target path (repeatable)', collectText)
      .option('--publish-add <port>', 'Publish a port on the node, or change the one on that published port: published:target[/protocol] (repeatable)', collect(parsePort))
      .option('--publish-rm <port>', 'Stop publishing a port, by its target: target[/protocol] (repeatable)', collect(parsePortToRemove))
      .option('--placement-pref-add <pref>', 'Add a spread preference: spread=node.labels.<name> (repeatable)', collect(parsePreference))
      .option('--placement-pref-rm <pref>', 'Remove a spread preference: spread=node.labels.<name> (repeatable)', collect(parsePreference))
      .option('--force', 'Replace every task, even if nothing changed'),
  );
  for (const { flag } of Object.values(CREATE_ONLY_FLAGS)) {
    // Hidden: taken only to be refused with a hint, rather than commander's bare "unknown option".
    updateCommand.addOption(new Option(`${flag} <value>`).hideHelp().argParser(collectText));
  }
  updateCommand.action(async (input: string, flags: UpdateFlags & Record<string, unknown>) => {
    refuseCreateOnlyFlags(flags);
    if (Object.values(flags).every((value) => value === undefined)) {
      throw new CliError(`nothing to update: give the settings to change (see swarmctl service update --help)`);
    }
    const api = ctx.api();
    const subject = `service ${input}`;
    const updated = await readModifyWrite<ServiceView, ServiceSpec>({
      subject,
      current: await resolveService(api, input),
      read: async (serviceId) => (await api.getService({ serviceId })).service,
      change: (spec) => applyUpdateFlags(spec, flags, subject),
      write: async (current, spec) =>
        (await api.updateService({ serviceId: current.id, version: current.meta.version, spec, force: flags.force === true })).service,
    });
    ctx.print(`${updated.id}\n`);
  });

  service
    .command('rollback')
    .description('Go back to the spec the last update replaced')
    .argument('<service>', 'service ID, ID prefix or name')
    .action(async (input: string) => {
      const api = ctx.api();
      const rolled = await readModifyWrite<ServiceView, ServiceSpec>({
        subject: `service ${input}`,
        current: await resolveService(api, input),
        read: async (serviceId) => (await api.getService({ serviceId })).service,
        change: (spec) => spec,
        write: async (current) => (await api.rollbackService({ serviceId: current.id, version: current.meta.version })).service,
      });
      ctx.print(`${rolled.id}\n`);
    });

  addServiceLogsCommand(service, ctx);

  service
    .command('rm')
    .alias('remove')
    .description('Remove services (their tasks are stopped and removed)')
    .argument('<service...>', 'service IDs, ID prefixes or names')
    .action(async (inputs: string[]) => {
      await eachService(ctx, inputs, async (api, target) => {
        await api.removeService({ serviceId: target.id });
      });
    });
}
