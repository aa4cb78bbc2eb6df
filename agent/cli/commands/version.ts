/** `swarmctl version`: this program's version, and the manager's when it answers. */
import type { Command } from 'commander';
import { SWARMDESK_VERSION } from '../../version';
import { ControlClient } from '../../api/control-client';
import type { CliContext } from '../context';

/** Short: `version` must not hang for the full call deadline when the manager is stuck. */
const VERSION_TIMEOUT_MS = 5000;

export const SWARMCTL_VERSION: string = SWARMDESK_VERSION;

export function addVersionCommand(program: Command, ctx: CliContext): void {
  program
    .command('version')
    .description('Print version number of swarm')
    .action(async () => {
      ctx.print(`swarmctl version ${SWARMCTL_VERSION}\n`);
      const client = ControlClient.forSocket(ctx.socketPath, { timeoutMs: VERSION_TIMEOUT_MS });
      try {
        const manager = await client.getVersion({});
        ctx.print(`manager version ${manager.version} (Node.js ${manager.runtime.replace(/^v/, '')})\n`);
      } catch {
        // No manager at the socket: the local version is all there is to print.
      } finally {
        client.close();
      }
    });
}
