/**
 * The scripting command, run as a user would (node bin/swarmdesk-provision.mjs) against a lab VM and a
 * real manager: first contact stops with the fingerprint to trust (exit 3), `add --trust` prints the
 * same steps as the UI and the node is READY, `remove` takes it out again. The password given through
 * an environment variable never appears in the output.
 */
import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENT_RESOURCES, buildAgentBundle } from '../../scripts/build-agent-bundle';
import { tryRun } from '../lab/sh';
import { allowPasswordLogin, privateLab, skipWithoutLab, type TestLab, vmSh } from './fixture';
import { type HostManager, startHostManager } from './host-manager';

const REPO = resolve(import.meta.dirname, '../..');

function provisionCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [join(REPO, 'bin/swarmdesk-provision.mjs'), ...args], { cwd: REPO, env: { ...process.env, ...env }, timeout: 400_000 }, (err, stdout, stderr) => {
      done({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe.skipIf(skipWithoutLab)('swarmdesk-provision (the scripting command)', () => {
  let t: TestLab;
  let manager: HostManager;
  const password = 'script pass 7';

  beforeAll(async () => {
    await buildAgentBundle({ arches: ['x64'] });
    t = await privateLab(1);
    await allowPasswordLogin(t.vms[0], password);
    manager = await startHostManager(t.lab.config.hostIp);
  }, 600_000);
  afterAll(async () => {
    await manager?.stop();
    await t?.down();
  }, 180_000);

  it('stops at first contact with the fingerprint to trust, then adds the machine printing each step, then removes it', async () => {
    const vm = t.vms[0];
    const knownHosts = join(t.scratch, 'cli_known_hosts');
    const common = ['--host', vm.ip, '--user', 'root', '--password-env', 'VM_PASSWORD', '--known-hosts', knownHosts, '--manager-socket', manager.process.socket, '--manager-addr', manager.address];
    const env = { VM_PASSWORD: password };

    const first = await provisionCli(['add', ...common, '--role', 'worker', '--bundle', AGENT_RESOURCES], env);
    const fingerprint = (await tryRun(['ssh-keygen', '-lf', join(vm.rootDir, 'etc/ssh/ssh_host_ed25519_key.pub')])).stdout.split(' ')[1];
    expect(first.code, first.stdout + first.stderr).toBe(3);
    expect(first.stdout).toContain(`root@${vm.ip}  error   [host-key-unknown] first connection to ${vm.ip}:22`);
    expect(first.stdout).toContain(`(to trust it: --trust ${fingerprint})`);

    const added = await provisionCli(['add', ...common, '--trust', fingerprint, '--role', 'worker', '--label', 'zone=lab', '--bundle', AGENT_RESOURCES], env);
    expect(added.code, added.stdout + added.stderr).toBe(0);
    const finished = added.stdout.split('\n').filter((l) => / (ok|skipped|FAILED) /.test(l)).map((l) => l.replace(/:.*$/, ''));
    const m = `root@${vm.ip}`;
    expect(finished).toEqual([
      `${m}  ok      Connect to root@${vm.ip} over SSH`,
      `${m}  ok      Operating system and architecture`,
      `${m}  ok      Administrator rights (root or sudo)`,
      `${m}  ok      Docker Engine`,
      `${m}  ok      Free disk space`,
      `${m}  ok      Clock compared with this machine`,
      `${m}  ok      Connection from the machine to the manager at ${t.lab.config.hostIp}`,
      expect.stringMatching(new RegExp(`^${m}  ok      Upload the agent `)),
      `${m}  ok      Verify checksums on the machine (SHA-256)`,
      expect.stringMatching(new RegExp(`^${m}  ok      Install under /opt/swarmd/`)),
      `${m}  ok      Configure the agent (/etc/swarmd)`,
      `${m}  ok      Start the agent`,
      `${m}  ok      Join the cluster as a worker`,
      `${m}  ok      Wait until the cluster sees the node READY`,
      `${m}  ok      Clean up`,
    ]);
    const nodeId = /done {4}joined: node (\w+) is READY/.exec(added.stdout)?.[1];
    expect(nodeId, added.stdout).toBeDefined();
    const { node } = await manager.control.getNode({ nodeId: nodeId ?? '' });
    expect(node).toMatchObject({ status: { state: 'ready' }, spec: { labels: { zone: 'lab' } }, description: { hostname: vm.name } });
    expect(added.stdout + added.stderr).not.toContain(password);

    const removed = await provisionCli(['remove', ...common], env);
    expect(removed.code, removed.stdout + removed.stderr).toBe(0);
    expect(removed.stdout).toContain(`${m}  done    root@${vm.ip} removed from the cluster; nothing of swarmdesk is left on it`);
    expect((await manager.control.listNodes({})).nodes.map((n) => n.id)).not.toContain(nodeId);
    expect((await vmSh(vm, 'ls -d /opt/swarmd /etc/swarmd /var/lib/swarmd 2>/dev/null; true')).trim()).toBe('');
  }, 600_000);

  it('refuses a command line without a way to log in, exit code 2', async () => {
    const r = await provisionCli(['test', '--host', t.vms[0].ip]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('swarmdesk-provision: choose one way to log in: --key <path>, --agent, or --password-env <var> / --password-stdin\n');
  }, 60_000);
});
