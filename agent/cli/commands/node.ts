/** `swarmctl node ...`: list, inspect, promote/demote, drain/activate/pause, remove, update labels. */
import { type Command, InvalidArgumentError } from 'commander';
import type { ControlApi } from '../../api/control';
import { isApiError } from '../../api/errors';
import type { Node, NodeAvailability, NodeRole, NodeSpec } from '../../api/objects';
import { CliError, type CliContext } from '../context';
import { formatNodeIds, formatNodeInspect, formatNodeList } from '../format/node';
import { resolveNode } from '../resolve';
import { readModifyWrite } from '../update';
import { makeGroup } from './group';

type SpecChange = (spec: NodeSpec, input: string) => NodeSpec;

async function updateNode(api: ControlApi, input: string, change: SpecChange): Promise<Node> {
  return readModifyWrite<Node, NodeSpec>({
    subject: `node ${input}`,
    current: await resolveNode(api, input),
    read: async (nodeId) => (await api.getNode({ nodeId })).node,
    change: (spec) => change(spec, input),
    write: async (current, spec) => (await api.updateNode({ nodeId: current.id, version: current.meta.version, spec })).node,
  });
}

/** Applies `change` to each node in turn; one failure does not stop the others (each gets its line). */
async function updateNodes(ctx: CliContext, inputs: readonly string[], change: SpecChange): Promise<void> {
  const api = ctx.api();
  for (const input of inputs) {
    try {
      await updateNode(api, input, change);
    } catch (err) {
      // An unreachable manager, or a single node: nothing else to try, let it end the command.
      if (inputs.length === 1 || isApiError(err, 'Unavailable')) throw err;
      // Our own messages name the node already; the manager's may not.
      ctx.fail(err, isApiError(err) ? `node ${input}` : undefined);
    }
  }
}

function setRole(role: NodeRole): SpecChange {
  return (spec, input) => {
    if (spec.role === role) throw new CliError(`node ${input} is already a ${role}`);
    return { ...spec, role };
  };
}

const AVAILABILITY_WORDS: Readonly<Record<NodeAvailability, string>> = { active: 'active', pause: 'paused', drain: 'drained' };

function setAvailability(availability: NodeAvailability): SpecChange {
  return (spec, input) => {
    if (spec.availability === availability) throw new CliError(`node ${input} is already ${AVAILABILITY_WORDS[availability]}`);
    return { ...spec, availability };
  };
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function parseLabel(value: string, previous: [string, string][]): [string, string][] {
  const at = value.indexOf('=');
  const key = (at < 0 ? value : value.slice(0, at)).trim();
  if (key === '') throw new InvalidArgumentError('a label needs a key (key=value).');
  return [...previous, [key, at < 0 ? '' : value.slice(at + 1).trim()]];
}

interface LabelOptions {
  labelAdd: [string, string][];
  labelRm: string[];
}

function changeLabels(options: LabelOptions): SpecChange {
  return (spec, input) => {
    const labels = { ...spec.labels };
    for (const [key, value] of options.labelAdd) labels[key] = value;
    for (const key of options.labelRm) {
      if (!(key in labels)) throw new CliError(`node ${input} has no label "${key}"`);
      delete labels[key];
    }
    const unchanged =
      Object.keys(labels).length === Object.keys(spec.labels).length && Object.entries(labels).every(([key, value]) => spec.labels[key] === value);
    if (unchanged) throw new CliError(`node ${input} already has these labels`);
    return { ...spec, labels };
  };
}

export function addNodeCommands(program: Command, ctx: CliContext): void {
  const node = makeGroup(program.command('node').description('Node management'));

  node
    .command('ls')
    .alias('list')
    .description('List nodes')
    .option('-q, --quiet', 'Only display IDs')
    .action(async (options: { quiet?: boolean }) => {
      const { nodes } = await ctx.api().listNodes({});
      ctx.print(options.quiet === true ? formatNodeIds(nodes) : formatNodeList(nodes));
    });

  node
    .command('inspect')
    .description('Inspect a node')
    .argument('<node>', 'node ID, ID prefix, name or hostname')
    .action(async (input: string) => {
      ctx.print(formatNodeInspect(await resolveNode(ctx.api(), input)));
    });

  const changes: [name: string, description: string, change: SpecChange][] = [
    ['promote', 'Promote nodes to managers', setRole('manager')],
    ['demote', 'Demote managers to workers', setRole('worker')],
    ['activate', 'Make nodes available for new tasks again', setAvailability('active')],
    ['pause', 'Stop placing new tasks on nodes (running tasks stay)', setAvailability('pause')],
    ['drain', 'Move all tasks off nodes (for maintenance)', setAvailability('drain')],
  ];
  for (const [name, description, change] of changes) {
    node
      .command(name)
      .description(description)
      .argument('<node...>', 'node IDs, ID prefixes, names or hostnames')
      .action(async (inputs: string[]) => {
        await updateNodes(ctx, inputs, change);
      });
  }

  node
    .command('rm')
    .alias('remove')
    .description('Remove a node from the cluster')
    .argument('<node>', 'node ID, ID prefix, name or hostname')
    .option('-f, --force', 'Remove the node even if it is still up (its certificate stops working)')
    .action(async (input: string, options: { force?: boolean }) => {
      const api = ctx.api();
      const target = await resolveNode(api, input);
      await api.removeNode({ nodeId: target.id, force: options.force === true });
    });

  node
    .command('update')
    .description("Update a node's labels")
    .argument('<node>', 'node ID, ID prefix, name or hostname')
    .option('--label-add <key=value>', 'Add or replace a label (repeatable)', parseLabel, [])
    .option('--label-rm <key>', 'Remove a label (repeatable)', collect, [])
    .action(async (input: string, options: LabelOptions) => {
      if (options.labelAdd.length === 0 && options.labelRm.length === 0) {
        throw new CliError('nothing to update: give --label-add or --label-rm');
      }
      await updateNode(ctx.api(), input, changeLabels(options));
    });
}
