/**
 * The entry point of the agent bundle that provisioning installs on a VM: swarmd, plus one flag of
 * its own, `--join-token-file <path>`. The token is read from that file (0600, root's) and handed to
 * swarmd in memory, so it never appears on a command line (`ps` shows every process's arguments to
 * every user). Provisioning deletes the file once the node has joined: the token is used once, not kept.
 */
import { readFileSync } from 'node:fs';
import { runSwarmd } from '../agent/cli/swarmd';

function withTokenFromFile(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const inline = arg.startsWith('--join-token-file=') ? arg.slice('--join-token-file='.length) : undefined;
    if (arg !== '--join-token-file' && inline === undefined) {
      out.push(arg);
      continue;
    }
    const file = inline ?? argv[++i];
    let token = '';
    try {
      token = readFileSync(file, 'utf8').trim();
    } catch {
      // Gone after a successful join: the node restarts from its state directory and needs no token.
    }
    if (token !== '') out.push('--join-token', token);
  }
  return out;
}

process.exitCode = await runSwarmd(withTokenFromFile(process.argv.slice(2)));
process.exit();
