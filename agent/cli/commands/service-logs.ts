/**
 * `swarmctl service logs <service> [--follow] [--tail N] [--timestamps]`: every replica's output,
 * from every node, one line each, prefixed like Docker's: `web.1.<task id>@<hostname>    | line`.
 */
import { type Command, InvalidArgumentError } from 'commander';
import { MAX_TAIL, type LogLine } from '../../api/logs';
import type { CliContext } from '../context';
import { resolveService } from '../resolve';

interface LogsFlags {
  follow?: boolean;
  tail?: number;
  timestamps?: boolean;
}

function tailCount(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > MAX_TAIL) throw new InvalidArgumentError(`must be a whole number from 0 to ${MAX_TAIL}`);
  return n;
}

export function addServiceLogsCommand(service: Command, ctx: CliContext): void {
  service
    .command('logs')
    .description('Show the logs of a service\'s tasks, from every node')
    .argument('<service>', 'service ID, ID prefix or name')
    .option('-f, --follow', 'keep printing new lines until interrupted')
    .option('--tail <lines>', 'only the last lines of each task', tailCount)
    .option('-t, --timestamps', 'show when each line was written')
    .action(async (input: string, flags: LogsFlags) => {
      const api = ctx.api();
      const target = await resolveService(api, input);
      const [{ tasks }, { nodes }] = await Promise.all([api.listTasks({ serviceId: target.id }), api.listNodes({})]);
      const taskNames = new Map(tasks.map((task) => [task.id, task.name ?? task.id]));
      const hostnames = new Map(nodes.map((node) => [node.id, node.spec.name || node.description?.hostname || node.id]));
      const format = (line: LogLine) =>
        `${flags.timestamps === true ? `${line.timestamp} ` : ''}${taskNames.get(line.taskId) ?? line.taskId}@${hostnames.get(line.nodeId) ?? line.nodeId}    | ${line.data}\n`;
      await new Promise<void>((resolve, reject) => {
        ctx.controlClient().subscribeLogs(
          { selector: { serviceIds: [target.id] }, options: { follow: flags.follow === true, ...(flags.tail === undefined ? {} : { tail: flags.tail }) } },
          {
            send: (lines) => ctx.print(lines.map(format).join('')),
            end: (error) => (error ? reject(error) : resolve()),
          },
        );
      });
    });
}
