/**
 * Preflight against a lab VM (its own sshd and dockerd): every check reported as a step with its
 * result; a manager port nobody listens on, a clock off by minutes, a stopped Docker Engine and a
 * missing one (with the install offered, needing consent) each fail their step with a message saying
 * what to do.
 */
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isProvisionError, type ProvisionError } from '../../electron/main/provision/errors';
import { preflight, type PreflightOptions } from '../../electron/main/provision/preflight';
import { connectSsh } from '../../electron/main/provision/ssh';
import { Progress, type ProvisionEvent } from '../../electron/main/provision/steps';
import type { LabVm } from '../lab/lab';
import { overrideRootSshPath, privateLab, rootWithLabKey, skipWithoutLab, type TestLab, vmSh, waitForSshd } from './fixture';

describe.skipIf(skipWithoutLab)('preflight on a lab VM', () => {
  let t: TestLab;
  let vm: LabVm;
  let manager: Server;
  let managerPort = 0;

  beforeAll(async () => {
    t = await privateLab(1);
    vm = t.vms[0];
    // Stands in for a manager: something listening on the lab bridge's host address.
    manager = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => manager.listen(0, t.lab.config.hostIp, resolve));
    managerPort = (manager.address() as { port: number }).port;
  }, 240_000);
  afterAll(async () => {
    manager?.close();
    await t?.down();
  }, 120_000);

  const runPreflight = async (options: PreflightOptions) => {
    const events: ProvisionEvent[] = [];
    const conn = await connectSsh(rootWithLabKey(vm), { knownHosts: t.knownHosts });
    try {
      const facts = await preflight(conn, new Progress(vm.name, (e) => events.push(e)), options);
      return { facts, events, error: undefined };
    } catch (err) {
      if (!isProvisionError(err)) throw err;
      return { facts: undefined, events, error: err as ProvisionError };
    } finally {
      conn.close();
    }
  };
  const ended = (events: ProvisionEvent[]) =>
    events.flatMap((e) => (e.kind === 'step' && e.status !== 'running' ? [`${e.id} ${e.status}: ${e.message ?? ''}`] : []));

  it('reports each check with its result, the manager address defaulting to the one this machine reached the VM from', async () => {
    const { facts, events, error } = await runPreflight({ manager: { port: managerPort } });
    expect(error).toBeUndefined();
    const hostOs = (await vmSh(vm, '. /etc/os-release; echo "$PRETTY_NAME"')).trim();
    const docker = (await vmSh(vm, "docker version --format '{{.Server.Version}} {{.Server.APIVersion}}'")).trim().split(' ');
    expect(ended(events)).toEqual([
      `os ok: ${hostOs}, x86_64`,
      'privileges ok: logged in as root',
      `docker ok: Docker Engine ${docker[0]} (API ${docker[1]}) answers on /var/run/docker.sock`,
      expect.stringMatching(/^disk ok: \d+ (MB|GB) free under \/opt, \d+ (MB|GB) under \/var\/lib$/),
      expect.stringMatching(/^clock ok: (in sync \(within 1 s\)|[\d.]+ s (ahead of|behind) this machine)$/),
      `manager-reachable ok: ${t.lab.config.hostIp}:${managerPort} accepts connections from the machine`,
    ]);
    // Every step announced itself running before its result.
    expect(events.filter((e) => e.kind === 'step' && e.status === 'running').map((e) => (e.kind === 'step' ? e.id : ''))).toEqual(['os', 'privileges', 'docker', 'disk', 'clock', 'manager-reachable']);
    expect(facts).toMatchObject({ arch: 'x64', hostname: vm.name, systemd: false, managerAddress: `${t.lab.config.hostIp}:${managerPort}`, docker: { version: docker[0], apiVersion: docker[1] } });
  }, 90_000);

  it('fails the manager check when nothing listens at the manager address', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, t.lab.config.hostIp, resolve));
    const port = (closed.address() as { port: number }).port;
    await new Promise((resolve) => closed.close(resolve));
    const { events, error } = await runPreflight({ manager: { host: t.lab.config.hostIp, port } });
    expect(error?.code).toBe('preflight-failed');
    expect(ended(events).at(-1)).toMatch(new RegExp(`^manager-reachable failed: the machine cannot open a TCP connection to the manager at ${t.lab.config.hostIp}:${port}`));
  }, 90_000);

  it('names a skewed clock, which way and by how much, and says what to do; a small skew passes', async () => {
    // The lab's VMs share this machine's kernel clock. Preflight reads the VM's with `date` over SSH,
    // so root's SSH sessions (only those) get a PATH whose `date` reads the clock off by
    // /root/skewed-clock/offset seconds; sshd_config is put back afterwards.
    const skewedBy = async (offset: number) => {
      await vmSh(vm, `echo ${offset} > /root/skewed-clock/offset`);
      return runPreflight({});
    };
    const secondsIn = (line: string | undefined) => Number(/clock is ([\d.]+) s /.exec(line ?? '')?.[1]);
    const restore = await overrideRootSshPath(vm, '/root/skewed-clock');
    try {
      await vmSh(
        vm,
        `printf '#!/bin/sh\\nexec %s -d "$(cat /root/skewed-clock/offset) seconds" "$@"\\n' "$(command -v date)" > /root/skewed-clock/date && chmod 755 /root/skewed-clock/date`,
      );
      const ahead = await skewedBy(300);
      expect(ahead.error?.code).toBe('preflight-failed');
      const aheadLine = ended(ahead.events).at(-1);
      expect(aheadLine).toMatch(/^clock failed: the machine's clock is [\d.]+ s ahead of this machine: certificates would look not yet valid or expired\. Turn on time synchronisation \(e\.g\. timedatectl set-ntp true\) and retry$/);
      expect(Math.abs(secondsIn(aheadLine) - 300)).toBeLessThan(5);

      const behind = await skewedBy(-300);
      expect(behind.error?.code).toBe('preflight-failed');
      const behindLine = ended(behind.events).at(-1);
      expect(behindLine).toMatch(/^clock failed: the machine's clock is [\d.]+ s behind this machine: .*timedatectl set-ntp true/);
      expect(Math.abs(secondsIn(behindLine) - 300)).toBeLessThan(5);

      // Within the minute certificates tolerate: the check passes and says by how much.
      const small = await skewedBy(-20);
      expect(small.error).toBeUndefined();
      expect(ended(small.events).at(-1)).toMatch(/^clock ok: (19|20|21)(\.\d)? s behind this machine$/);
      expect(Math.abs((small.facts?.clockSkewSeconds ?? 0) + 20)).toBeLessThan(5);
    } finally {
      await restore();
    }
    // Put back: in sync again.
    expect(ended((await runPreflight({})).events).at(-1)).toMatch(/^clock ok: (in sync \(within 1 s\)|[\d.]+ s (ahead of|behind) this machine)$/);
  }, 120_000);

  it('says Docker is installed but not running when its engine is stopped', async () => {
    await vmSh(vm, 'kill "$(cat /run/docker.pid)"; for i in $(seq 100); do [ -S /run/docker.sock ] || exit 0; sleep 0.2; done; exit 1');
    const { events, error } = await runPreflight({});
    expect(error?.code).toBe('preflight-failed');
    expect(ended(events).at(-1)).toBe('docker failed: Docker Engine is installed but not running (no /var/run/docker.sock): start it (systemctl start docker) and retry');
  }, 90_000);

  it('offers to install docker.io when Docker is missing on Debian, and goes no further without consent', async () => {
    // A machine without Docker: sshd sessions get a PATH of links to every program but docker's.
    await vmSh(
      vm,
      // One cp -s per directory (not one ln per program): quick even on a loaded machine.
      'mkdir -p /root/nodocker && cd /root/nodocker && for d in /usr/local/sbin /usr/local/bin /usr/sbin /usr/bin /sbin /bin; do cp -sn $d/* . 2>/dev/null; done; ' +
        'rm -f docker*; echo "SetEnv PATH=/root/nodocker" >> /etc/ssh/sshd_config; kill -HUP "$(cat /run/sshd.pid)"',
    );
    await waitForSshd(vm);
    const { events, error } = await runPreflight({});
    expect(error?.code).toBe('consent-required');
    expect(ended(events).at(-1)).toMatch(/^docker failed: Docker Engine is not installed\. swarmdesk can install Debian GNU\/Linux .*'s docker\.io package \(apt-get install docker\.io\) and start it: allow the Docker installation to go on$/);
    expect(events.some((e) => e.kind === 'step' && e.id === 'install-docker')).toBe(false);
  }, 90_000);
});
