// The VM lab, end to end, on a lab of its own (own dir, name prefix and subnet), so it never disturbs a
// developer's lab or another test file's. Needs root, iproute2, openssh-server, docker.io and
// busybox-static: skipped without them on a developer machine, failed without them in CI.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpdCommand } from '../support/test-image';
import { claimPrivateLab } from './private-lab';
import { cgroupMounts, pidAlive } from './processes';
import { type Lab, LAB_IMAGES, labDown, labStatus, labUp, type LabVm, missingLabPrerequisites } from './lab';

const execFileP = promisify(execFile);

const inCi = process.env.CI === 'true';
const missing = missingLabPrerequisites();
// Filled in by beforeAll with a lab of this file's own (dir, name prefix, subnet).
const opts = { dir: '', prefix: '', subnet: '' };

async function ssh(vm: LabVm, extraOpts: string[], command: string): Promise<{ code: number; out: string }> {
  const [cmd, ...args] = vm.sshArgv();
  try {
    const { stdout, stderr } = await execFileP(cmd, ['-o', 'BatchMode=yes', '-o', 'ConnectTimeout=10', ...extraOpts, ...args, command], {
      timeout: 20_000,
    });
    return { code: 0, out: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

async function httpGet(url: string): Promise<string> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  return (await res.text()).trim();
}

describe.skipIf(!inCi && missing.length > 0)('the VM lab (up, reach, down)', () => {
  let lab: Lab;
  let a: LabVm;
  let b: LabVm;
  let downDone = false;

  beforeAll(async () => {
    // In CI a missing prerequisite lands here: labUp throws naming what is missing, and every test fails.
    Object.assign(opts, await claimPrivateLab());
    lab = await labUp({ ...opts, vms: 2 });
    [a, b] = lab.vms;
  }, 120_000);

  afterAll(async () => {
    if (!downDone && opts.dir !== '') await labDown(opts);
  }, 60_000);

  it('has VMs at consecutive addresses after the host on the bridge', () => {
    expect(lab.vms.map((vm) => [vm.name, vm.ip])).toEqual([
      ['vm1', `${opts.subnet}.11`],
      ['vm2', `${opts.subnet}.12`],
    ]);
  });

  it('gives each VM its own Docker Engine answering on its socket', async () => {
    const infos = await Promise.all(lab.vms.map((vm) => vm.docker().info() as Promise<{ ID: string; Name: string; Driver: string }>));
    expect(infos.map((i) => i.Name)).toEqual(['vm1', 'vm2']);
    expect(infos.map((i) => i.Driver)).toEqual(['vfs', 'vfs']);
    expect(infos[0].ID).not.toBe(infos[1].ID);
    // The docker CLI too, as the printed instructions tell a person to use it.
    const { stdout } = await execFileP('docker', ['-H', a.engineAddr, 'info', '--format', '{{.Name}}']);
    expect(stdout.trim()).toBe('vm1');
  });

  it('logs in over ssh as root with the lab key, verifying the recorded host key', async () => {
    for (const vm of lab.vms) {
      const res = await ssh(vm, [], 'hostname; id -u; docker info --format "{{.Name}}"');
      expect(res, res.out).toMatchObject({ code: 0 });
      // Inside, the VM's own engine is the default one, as on a real machine.
      expect(res.out.trim().split('\n')).toEqual([vm.name, '0', vm.name]);
    }
    // The same login against a known_hosts that lacks the VM's key is refused: the check is real.
    const empty = path.join(opts.dir, 'empty_known_hosts');
    writeFileSync(empty, '');
    const refused = await ssh(a, ['-o', `UserKnownHostsFile=${empty}`], 'true');
    expect(refused.code).not.toBe(0);
    expect(refused.out).toMatch(/Host key verification failed/);
  });

  it('gives processes in each VM their own /etc, /opt and /var/lib', async () => {
    const written = await a.exec('echo from-vm1 > /opt/marker && echo lab > /var/lib/marker && cat /etc/hostname');
    expect(written).toMatchObject({ code: 0, stdout: 'vm1\n' });
    const seen = await b.exec('cat /opt/marker /var/lib/marker 2>&1; cat /etc/hostname');
    expect(seen.stdout).not.toContain('from-vm1');
    expect(seen.stdout).toContain('vm2');
    expect(existsSync('/opt/marker')).toBe(false);
    expect((await a.exec(['cat', '/opt/marker'])).stdout).toBe('from-vm1\n');
  });

  it('lets VM A reach VM B and the host at their lab addresses', async () => {
    await b.exec('mkdir -p /opt/www && echo hello-from-vm2 > /opt/www/index.html');
    const server = b.start(['busybox', 'httpd', '-f', '-v', '-p', `${b.ip}:8000`, '-h', '/opt/www'], { name: 'httpd-test' });
    const hostServer = http.createServer((_req, res) => res.end('hello-from-host\n'));
    await new Promise<void>((resolve) => hostServer.listen(0, lab.config.hostIp, resolve));
    try {
      let fromB = '';
      for (let i = 0; i < 50 && !fromB.includes('hello'); i++) {
        // (busybox 1.35's wget crashes on "connection refused" when given -T: no timeout flag here.)
        fromB = (await a.exec(`busybox wget -q -O- http://${b.ip}:8000/`)).stdout;
        if (!fromB.includes('hello')) await new Promise((r) => setTimeout(r, 100));
      }
      expect(fromB, server.output()).toBe('hello-from-vm2\n');
      const port = (hostServer.address() as AddressInfo).port;
      const fromHost = await a.exec(`busybox wget -q -O- http://${lab.config.hostIp}:${port}/`);
      expect(fromHost).toMatchObject({ code: 0, stdout: 'hello-from-host\n' });
    } finally {
      hostServer.close();
      await server.stop();
    }
    // The server ran inside VM B with its output captured, and saw the request come from A's address.
    expect(server.output()).toContain(`${a.ip}:`);
    expect(server.output()).toMatch(/response:200/);
  });

  it('has the test image in both engines under both tags, as two images', async () => {
    for (const vm of lab.vms) {
      const ids = await Promise.all(LAB_IMAGES.map(async (ref) => ((await vm.docker().getImage(ref).inspect()) as { Id: string }).Id));
      expect(ids).toHaveLength(2);
      expect(ids[0]).not.toBe(ids[1]);
    }
  });

  it("answers from the host at VM A's address on a container's published port", async () => {
    const container = await a.docker().createContainer({
      Image: LAB_IMAGES[1],
      Cmd: httpdCommand(80),
      ExposedPorts: { '80/tcp': {} },
      HostConfig: { PortBindings: { '80/tcp': [{ HostPort: '18080' }] } },
    });
    await container.start();
    let body = '';
    for (let i = 0; i < 50 && body === ''; i++) {
      body = await httpGet(`http://${a.ip}:18080/version`).catch(() => '');
      if (body === '') await new Promise((r) => setTimeout(r, 100));
    }
    expect(body).toBe('2');
    // Published on A only: B has no such port.
    await expect(httpGet(`http://${b.ip}:18080/version`)).rejects.toThrow();
  });

  it('changes nothing when brought up again', async () => {
    const before = await labStatus(opts);
    const again = await labUp({ ...opts, vms: 2 });
    expect(again.actions).toEqual([]);
    const after = await labStatus(opts);
    const pids = (s: typeof before): unknown[] => s.vms.map((vm) => [vm.name, vm.sshdPid, vm.dockerdPid]);
    expect(pids(after)).toEqual(pids(before));
    expect(after.vms.every((vm) => vm.sshdPid !== undefined && vm.dockerdPid !== undefined && vm.dockerAnswers)).toBe(true);
  }, 60_000);

  it('leaves no namespace, link, process, cgroup or file behind after down', async () => {
    const status = await labStatus(opts);
    const containerPid = ((await a.docker().listContainers()).length > 0
      ? ((await a.docker().getContainer((await a.docker().listContainers())[0].Id).inspect()) as { State: { Pid: number } }).State.Pid
      : 0);
    expect(containerPid).toBeGreaterThan(0);
    const daemonPids = status.vms.flatMap((vm) => [vm.sshdPid ?? 0, vm.dockerdPid ?? 0]);

    await labDown(opts);
    downDone = true;

    const { stdout: netns } = await execFileP('ip', ['netns', 'list']);
    expect(netns).not.toMatch(new RegExp(`${opts.prefix}-`));
    const { stdout: links } = await execFileP('ip', ['-o', 'link', 'show']);
    expect(links).not.toMatch(new RegExp(`\\d+: ${opts.prefix}`));
    expect([...daemonPids, containerPid].filter(pidAlive)).toEqual([]);
    for (const mount of cgroupMounts()) expect(existsSync(path.join(mount, opts.prefix)), mount).toBe(false);
    expect(existsSync(opts.dir)).toBe(false);
    expect(readdirSync('/run/netns').filter((n) => n.startsWith(`${opts.prefix}-`))).toEqual([]);
    expect((await labStatus(opts)).vms).toEqual([]);
  }, 60_000);
});

describe('the VM lab prerequisites', () => {
  it.runIf(inCi)('are all installed in CI (a missing one fails here instead of skipping the lab tests)', () => {
    expect(missing).toEqual([]);
  });
});
