/** The installed entry point: bin/swarmctl.mjs loads the TypeScript through tsx and runs swarmctl. */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const run = promisify(execFile);

describe('bin/swarmctl.mjs', () => {
  it('prints the help and exits 0', async () => {
    const { stdout, stderr } = await run(process.execPath, ['bin/swarmctl.mjs', '--help'], { cwd: ROOT });
    expect(stderr).toBe('');
    expect(stdout).toContain('Usage: swarmctl [options] [command]');
    expect(stdout).toMatch(/^ {2}node +Node management$/m);
    expect(stdout).toMatch(/^ {2}cluster +Cluster management$/m);
  });

  it('sets the exit code and prints one error line when the manager is not there', async () => {
    const failure = await run(process.execPath, ['bin/swarmctl.mjs', '--socket', '/nonexistent/swarmd.sock', 'node', 'ls'], { cwd: ROOT }).then(
      () => undefined,
      (err: unknown) => err as { code: number; stdout: string; stderr: string },
    );
    expect(failure?.code).toBe(1);
    expect(failure?.stdout).toBe('');
    expect(failure?.stderr).toMatch(/^Error: cannot reach the manager's control socket \/nonexistent\/swarmd\.sock: [^\n]+\n$/);
  });
});

describe('bin/swarmd.mjs', () => {
  it('prints the help with every flag users start it with', async () => {
    const { stdout } = await run(process.execPath, ['bin/swarmd.mjs', '--help'], { cwd: ROOT });
    for (const flag of ['--state-dir', '--listen-control-api', '--listen-remote-api', '--advertise-remote-api', '--hostname', '--join-addr', '--join-token', '--engine-addr', '--heartbeat-tick', '--election-tick', '--force-new-cluster', '--log-level']) {
      expect(stdout).toContain(flag);
    }
  });

  it('refuses a bad flag value with a one-line error and exit code 1', async () => {
    const failure = await run(process.execPath, ['bin/swarmd.mjs', '--log-level', 'loud'], { cwd: ROOT }).then(
      () => undefined,
      (err: unknown) => err as { code: number; stderr: string },
    );
    expect(failure?.code).toBe(1);
    expect(failure?.stderr).toContain("option '--log-level <level>' argument 'loud' is invalid");
  });
});
