/** `swarmctl task ...`: list, inspect and remove tasks. */
import type { Command } from 'commander';
import { isApiError } from '../../api/errors';
import type { CliContext } from '../context';
import { formatTaskIds, formatTaskInspect, formatTaskList, isCurrentTask, nodeNameMap } from '../format/task';
import { resolveNode, resolveService, resolveTask } from '../resolve';
import { makeGroup } from './group';

interface ListOptions {
  all?: boolean;
  quiet?: boolean;
  service?: string;
  node?: string;
}

export function addTaskCommands(program: Command, ctx: CliContext): void {
  const task = makeGroup(program.command('task').description('Task management'));

  task
    .command('ls')
    .alias('list')
    .description('List tasks')
    .option('-a, --all', 'Show all tasks (default shows those meant to run)')
    .option('-q, --quiet', 'Only display IDs')
    .option('--service <service>', 'Only tasks of this service (ID, ID prefix or name)')
    .option('--node <node>', 'Only tasks on this node (ID, ID prefix, name or hostname)')
    .action(async (options: ListOptions) => {
      const api = ctx.api();
      const serviceId = options.service === undefined ? undefined : (await resolveService(api, options.service)).id;
      const nodeId = options.node === undefined ? undefined : (await resolveNode(api, options.node)).id;
      const [{ tasks }, { nodes }] = await Promise.all([api.listTasks({ serviceId, nodeId }), api.listNodes({})]);
      const shown = options.all === true ? tasks : tasks.filter(isCurrentTask);
      ctx.print(options.quiet === true ? formatTaskIds(shown) : formatTaskList(shown, nodeNameMap(nodes), ctx.now()));
    });

  task
    .command('inspect')
    .description('Inspect a task')
    .argument('<task>', 'task ID or ID prefix')
    .action(async (input: string) => {
      const api = ctx.api();
      const [found, { nodes }] = await Promise.all([resolveTask(api, input), api.listNodes({})]);
      ctx.print(formatTaskInspect(found, nodeNameMap(nodes), ctx.now()));
    });

  task
    .command('rm')
    .alias('remove')
    .description('Remove tasks (a replicated service starts a replacement)')
    .argument('<task...>', 'task IDs or ID prefixes')
    .action(async (inputs: string[]) => {
      const api = ctx.api();
      for (const input of inputs) {
        try {
          await api.removeTask({ taskId: (await resolveTask(api, input)).id });
          ctx.print(`${input}\n`);
        } catch (err) {
          if (inputs.length === 1 || isApiError(err, 'Unavailable')) throw err;
          ctx.fail(err, isApiError(err) ? `task ${input}` : undefined);
        }
      }
    });
}
