/**
 * A command that only groups subcommands (`swarmctl node`, `swarmctl cluster`, swarmctl itself).
 * Run bare it prints its help and succeeds, as SwarmKit's (cobra's) commands do; given a subcommand it
 * does not know it fails with one line, instead of commander's help-on-stderr.
 */
import type { Command } from 'commander';
import { CliError } from '../context';

export function makeGroup(command: Command): Command {
  return command.helpCommand(true).allowExcessArguments(true).action((_options: unknown, self: Command) => {
    const [unknown] = self.args;
    if (unknown !== undefined) {
      const path = commandPath(self);
      throw new CliError(`unknown command "${unknown}" for "${path}" (see ${path} --help)`);
    }
    self.outputHelp();
  });
}

export function commandPath(command: Command): string {
  const names: string[] = [];
  for (let at: Command | null = command; at !== null; at = at.parent) names.unshift(at.name());
  return names.join(' ');
}
