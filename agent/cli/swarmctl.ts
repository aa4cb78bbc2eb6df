/**
 * swarmctl: the command line for a swarmdesk cluster, after SwarmKit's swarmctl. It talks to a
 * manager's control socket (--socket, else $SWARM_SOCKET, else ./swarmkitstate/swarmd.sock).
 *
 * runSwarmctl never exits the process and never throws: it returns the exit code (0, or 1 for a usage
 * or API error) after writing any error as one `Error: ...` line on stderr.
 */
import { Command, CommanderError } from 'commander';
import { addClusterCommands } from './commands/cluster';
import { makeGroup } from './commands/group';
import { addNodeCommands } from './commands/node';
import { addServiceCommands } from './commands/service';
import { addTaskCommands } from './commands/task';
import { addVersionCommand } from './commands/version';
import { CliContext, DEFAULT_SOCKET, errorLine, messageOf, type SwarmctlIo } from './context';

export type { SwarmctlIo } from './context';

function buildProgram(ctx: CliContext): Command {
  const program = new Command('swarmctl')
    .description('Control a swarmdesk cluster through a manager')
    .option('-s, --socket <path>', `manager's control socket (default: $SWARM_SOCKET, else ${DEFAULT_SOCKET})`)
    // Settings below are inherited by every subcommand made with .command().
    .exitOverride()
    .configureOutput({
      writeOut: (text) => ctx.io.stdout.write(text),
      // Commander writes to stderr only for help shown as an error (`help <unknown>`): runSwarmctl
      // says that in one line instead.
      writeErr: () => undefined,
      // Errors are written once, as one line, by runSwarmctl.
      outputError: () => undefined,
    })
    .hook('preAction', (command) => {
      ctx.socketOption = command.opts<{ socket?: string }>().socket;
    });
  makeGroup(program);
  addNodeCommands(program, ctx);
  addServiceCommands(program, ctx);
  addTaskCommands(program, ctx);
  addClusterCommands(program, ctx);
  addVersionCommand(program, ctx);
  return program;
}

/** `argv` is what follows the program name (process.argv.slice(2)). */
export async function runSwarmctl(argv: readonly string[], io: SwarmctlIo): Promise<number> {
  const ctx = new CliContext(io);
  try {
    await buildProgram(ctx).parseAsync([...argv], { from: 'user' });
    return ctx.failed ? 1 : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help, or `help <command>`: commander has printed the help already.
      if (err.exitCode === 0) return 0;
      const message = err.code === 'commander.help' ? `unknown command in "swarmctl ${argv.join(' ')}" (see swarmctl --help)` : err.message;
      io.stderr.write(errorLine(message));
      return 1;
    }
    io.stderr.write(errorLine(messageOf(err)));
    return 1;
  } finally {
    ctx.close();
  }
}
