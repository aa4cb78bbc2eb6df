/**
 * Provisioning a machine that runs systemd (issue 6, "run: a systemd unit where systemd runs", and "if
 * Docker is missing on Debian or Ubuntu, offer to install the distribution's package, with consent").
 * The lab's namespace VMs have no init and share this machine's /usr, so the machine here is a Debian
 * root file system booted with systemd-nspawn (test/lab/nspawn.ts), with its own sshd and no Docker.
 *
 * Against a real manager on this machine: without consent, provisioning stops at the Docker check and
 * the machine is as it was; with consent it installs docker.io from the Debian mirror and goes on to a
 * swarmd systemd unit, active and enabled, and a READY node that runs a task on that Docker. Re-provisioning upgrades in place with the
 * same node ID; a restart of the unit, and a killed agent (Restart=always), bring the node back READY
 * with a new session; removal disables and deletes the unit and every file, and removes the node.
 *
 * Needs root, debootstrap, systemd-container and busybox-static (what .ci/run installs), and the Debian mirror. The root
 * file system is built once and kept in /var/tmp/swarmdesk-lab-rootfs. Skipped without the programs
 * on a developer machine; in CI a missing program, or a machine that does not boot, fails.
 */
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TaskState, taskStateName } from '../../agent/api/objects';
import { type AgentBundle, loadAgentBundle } from '../../electron/main/provision/bundle';
import { KnownHosts } from '../../electron/main/provision/known-hosts';
import { LOG_FILE, UNIT_FILE, unitFile } from '../../electron/main/provision/layout';
import { type MachineRequest, Provisioner } from '../../electron/main/provision/provisioner';
import type { ProvisionEvent, StepId } from '../../electron/main/provision/steps';
import { AGENT_RESOURCES, buildAgentBundle } from '../../scripts/build-agent-bundle';
import { until } from '../cluster/harness';
import { bootMachine, ensureRootfs, missingNspawnPrerequisites, type NspawnMachine } from '../lab/nspawn';
import { claimPrivateLab } from '../lab/private-lab';
import { busyboxPath } from '../support/private-dockerd';
import { importTestImage, TEST_IMAGE_REPO } from '../support/test-image';
import { agentProcesses, inCi, provisionLeftovers, vmSh } from './fixture';
import { startHostManager, type HostManager } from './host-manager';

// busybox makes the test image a task runs (no registry here).
const missing = [...missingNspawnPrerequisites(), ...(busyboxPath() === undefined ? ['busybox (busybox-static)'] : [])];
const skipped = !inCi && missing.length > 0;

describe.skipIf(skipped)(`provisioning a machine that runs systemd${skipped ? ` (skipped: missing ${missing.join(', ')})` : ''}`, () => {
  let machine: NspawnMachine;
  let manager: HostManager;
  let bundle: AgentBundle;
  let nodeId: string | undefined;

  beforeAll(async () => {
    if (missing.length > 0) throw new Error(`cannot build or boot a systemd-nspawn machine here; missing: ${missing.join(', ')} (apt-get install debootstrap systemd-container busybox-static)`);
    await buildAgentBundle({ arches: ['x64'] });
    bundle = await loadAgentBundle(AGENT_RESOURCES);
    const rootfs = await ensureRootfs();
    machine = await bootMachine(await claimPrivateLab(), rootfs, { mirrorAccess: true });
    manager = await startHostManager(machine.config.hostIp);
  }, 30 * 60_000);
  afterAll(async () => {
    await manager?.stop();
    await machine?.down();
  }, 180_000);

  const provisioner = (over: Partial<ConstructorParameters<typeof Provisioner>[0]> = {}) =>
    new Provisioner({ knownHosts: new KnownHosts(machine.knownHostsPath), bundle, cluster: manager.control, readyTimeoutMs: 120_000, ...over });
  const request = (over: Partial<MachineRequest> = {}): MachineRequest => ({
    id: machine.name,
    target: { host: machine.ip, port: machine.sshPort, username: 'root', auth: { method: 'key', keyPath: machine.sshKeyPath } },
    role: 'worker',
    manager: { port: manager.port },
    ...over,
  });
  const steps = (events: ProvisionEvent[]) => events.flatMap((e) => (e.kind === 'step' && e.status !== 'running' ? [`${e.id} ${e.status}`] : []));
  const stepMessage = (events: ProvisionEvent[], id: StepId) => events.flatMap((e) => (e.kind === 'step' && e.id === id && e.status !== 'running' ? [e.message ?? ''] : []))[0];
  const output = (events: ProvisionEvent[], id: StepId) => events.flatMap((e) => (e.kind === 'output' && e.step === id ? [e.line] : []));
  const describeEvents = (events: ProvisionEvent[]) => events.filter((e) => e.kind !== 'output').map((e) => JSON.stringify(e)).join('\n');
  const sh = (command: string) => vmSh(machine, command);
  /** What systemctl says, whatever its exit code (is-active exits 3 for inactive). */
  const systemctl = async (...args: string[]) => (await machine.exec(`systemctl ${args.join(' ')}`)).stdout.trim();
  const mainPid = async () => Number(await systemctl('show', '-p', 'MainPID', '--value', 'swarmd'));
  /** The manager's record of this node opening a session (the dispatcher's log line). */
  const sessions = () => manager.process.lines.filter((l) => l.includes('"node session established"') && nodeId !== undefined && l.includes(nodeId)).length;
  const nodeState = async () => (await manager.control.getNode({ nodeId: nodeId ?? '' })).node.status.state;
  /** What a declined install must not touch: dpkg's database, apt's lists, the installed units. */
  const packageState = () => sh('stat -c "%n %s %Y" /var/lib/dpkg/status; ls -A /var/lib/apt/lists /etc/systemd/system; command -v docker dockerd; true');

  it('without consent, stops at the Docker check offering to install docker.io, and leaves the machine as it was', async () => {
    const before = await packageState();
    expect(before).not.toContain('/usr/bin/docker');
    const events: ProvisionEvent[] = [];
    const outcome = await provisioner().provision(request(), { listener: (e) => events.push(e) });
    expect(outcome.ok, describeEvents(events)).toBe(false);
    if (!outcome.ok) {
      expect(outcome.error).toMatchObject({ code: 'consent-required', step: 'docker' });
      expect(outcome.error.message).toBe(
        "Docker Engine is not installed. swarmdesk can install Debian GNU/Linux 12 (bookworm)'s docker.io package (apt-get install docker.io) and start it: allow the Docker installation to go on",
      );
    }
    expect(steps(events)).toEqual(['connect ok', 'os ok', 'privileges ok', 'docker failed']);
    // The OS check saw systemd as the init system.
    expect(output(events, 'os')).toEqual(['Debian GNU/Linux 12 (bookworm), x86_64, systemd']);
    expect(await packageState()).toBe(before);
    expect(await provisionLeftovers(machine)).toBe('');
  }, 120_000);

  it('with consent, installs docker.io from the mirror, then runs the agent as a systemd unit and the node becomes READY', async () => {
    const events: ProvisionEvent[] = [];
    const outcome = await provisioner().provision(request({ installDocker: true }), { listener: (e) => events.push(e) });
    expect(outcome, `${describeEvents(events)}\n${output(events, 'install-docker').slice(-20).join('\n')}`).toMatchObject({ ok: true, version: bundle.manifest.version });
    if (outcome.ok) nodeId = outcome.nodeId;
    expect(steps(events)).toEqual([
      'connect ok', 'os ok', 'privileges ok', 'docker ok', 'install-docker ok', 'disk ok', 'clock ok', 'manager-reachable ok',
      'upload ok', 'verify ok', 'install ok', 'configure ok', 'start ok', 'join ok', 'ready ok', 'cleanup ok',
    ]);
    expect(stepMessage(events, 'docker')).toBe('not installed: installing it, as allowed');
    expect(stepMessage(events, 'install-docker')).toMatch(/^Docker Engine \S+ \(API [\d.]+\) installed and running$/);
    // apt-get's own output, streamed under the step.
    expect(output(events, 'install-docker').some((l) => /^Setting up docker\.io /.test(l))).toBe(true);
    expect(await sh("dpkg-query -W -f='${Status}' docker.io")).toBe('install ok installed');
    expect(await systemctl('is-active', 'docker')).toBe('active');

    // The agent runs under systemd, not the supervisor.
    const version = bundle.manifest.version;
    expect(stepMessage(events, 'start')).toBe(`running /opt/swarmd/${version}/node/bin/node (systemd unit swarmd)`);
    expect(await systemctl('is-active', 'swarmd')).toBe('active');
    expect(await systemctl('is-enabled', 'swarmd')).toBe('enabled');
    expect(await sh(`cat ${UNIT_FILE}`)).toBe(unitFile());
    expect((await sh(`readlink /proc/${await mainPid()}/exe`)).trim()).toBe(`/opt/swarmd/${version}/node/bin/node`);
    expect(await sh('ls -A /run/swarmd 2>/dev/null; true')).toBe('');
    expect(await sh('ls /etc/swarmd')).toBe('swarmd.conf\n');

    const { node } = await manager.control.getNode({ nodeId: nodeId ?? '' });
    expect(node).toMatchObject({ role: 'worker', status: { state: 'ready' }, description: { hostname: machine.name } });
    expect(sessions()).toBeGreaterThan(0);
  }, 15 * 60_000);

  it('the node runs a task on the Docker Engine installed with consent', async () => {
    const docker = new Docker({ socketPath: machine.hostPath('/run/docker.sock') });
    const [image] = await importTestImage(docker, ['1'], TEST_IMAGE_REPO);
    // The host manager has no Docker Engine (startHostManager): drained, it is given no task.
    const self = (await manager.control.listNodes({})).nodes.find((n) => n.description?.hostname === 'host-manager');
    if (self === undefined) throw new Error('the host manager is not in node ls');
    await manager.control.updateNode({ nodeId: self.id, version: self.meta.version, spec: { ...self.spec, availability: 'drain' } });
    // Busybox sh as PID 1 ignores SIGTERM without the trap: the removal would wait out the grace period.
    const { service } = await manager.control.createService({
      spec: { name: 'on-systemd', labels: {}, mode: { replicated: { replicas: 1 } }, task: { container: { image, command: ['/bin/sh', '-c', 'trap "exit 0" TERM; sleep 3600 & wait'] } } },
    });
    let last = '';
    const task = await until('the task RUNNING on the machine', async () => {
      const { tasks } = await manager.control.listTasks({ serviceId: service.id });
      last = tasks.map((t) => `${t.nodeId} ${taskStateName(t.status.state)} ${t.status.err ?? ''}`).join('; ');
      return tasks.find((t) => t.status.state === TaskState.RUNNING);
    }, 120_000).catch((err: unknown) => {
      throw new Error(`${(err as Error).message}: ${last}`);
    });
    expect(task.nodeId).toBe(nodeId);
    const ps = (all = '') => sh(`docker ps ${all} --filter label=com.docker.swarm.service.name=on-systemd --format '{{.Names}} {{.State}}'`);
    expect(await ps()).toBe(`on-systemd.1.${task.id} running\n`);
    await manager.control.removeService({ serviceId: service.id });
    await until('no on-systemd container left', async () => ((await ps('-a')) === '' ? true : undefined), 60_000);
  }, 300_000);

  it('re-provisioning upgrades the unit\'s agent in place and keeps the node ID', async () => {
    const pidBefore = await mainPid();
    const next: AgentBundle = { dir: bundle.dir, manifest: { ...bundle.manifest, version: `${bundle.manifest.version}-next` } };
    const events: ProvisionEvent[] = [];
    const outcome = await provisioner({ bundle: next }).provision(request(), { listener: (e) => events.push(e) });
    expect(outcome, describeEvents(events)).toMatchObject({ ok: true, nodeId, version: next.manifest.version, message: `upgraded: node ${nodeId} is READY` });
    // Docker is there now: nothing to install, no consent asked.
    expect(steps(events)).not.toContain('install-docker ok');
    expect(stepMessage(events, 'start')).toBe(`running /opt/swarmd/${next.manifest.version}/node/bin/node (systemd unit swarmd)`);
    expect(await systemctl('is-active', 'swarmd')).toBe('active');
    expect(await systemctl('is-enabled', 'swarmd')).toBe('enabled');
    const pid = await mainPid();
    expect(pid).not.toBe(pidBefore);
    expect((await sh(`readlink /proc/${pid}/exe`)).trim()).toBe(`/opt/swarmd/${next.manifest.version}/node/bin/node`);
    expect((await sh('ls /opt/swarmd')).trim().split('\n').sort()).toEqual(['current', next.manifest.version].sort());
    const { nodes } = await manager.control.listNodes({});
    expect(nodes.filter((n) => n.description?.hostname === machine.name).map((n) => [n.id, n.status.state])).toEqual([[nodeId, 'ready']]);
  }, 300_000);

  /** After `disturb` (which ends the agent's process), a new process runs as the same node, opens a new session, and the node is READY. */
  async function backReady(disturb: () => Promise<void>): Promise<void> {
    const pidBefore = await mainPid();
    const sessionsBefore = sessions();
    const logBefore = Number((await sh(`stat -c %s ${LOG_FILE}`)).trim());
    await disturb();
    const pid = await until('systemd runs a new agent process', async () => {
      const p = await mainPid();
      return p !== 0 && p !== pidBefore && (await systemctl('is-active', 'swarmd')) === 'active' ? p : undefined;
    }, 60_000, 250);
    await until('the new agent runs as the node again', async () => ((await sh(`tail -c +${logBefore + 1} ${LOG_FILE}`)).includes(`"msg":"node running","nodeId":"${nodeId}"`) ? true : undefined), 60_000, 250);
    await until('the manager sees a new session of the node', () => (sessions() > sessionsBefore ? true : undefined), 60_000, 250);
    await until('the node READY', async () => ((await nodeState()) === 'ready' ? true : undefined), 60_000, 250);
    expect(await mainPid()).toBe(pid);
    expect((JSON.parse(await sh('cat /var/lib/swarmd/node-state.json')) as { nodeId?: string }).nodeId).toBe(nodeId);
  }

  it('systemctl restart swarmd brings the node back READY with the same identity', async () => {
    await backReady(async () => {
      await sh('systemctl restart swarmd');
    });
  }, 240_000);

  it('a killed agent is restarted by systemd (Restart=always) and the node is READY again', async () => {
    await backReady(async () => {
      await sh('kill -KILL "$(systemctl show -p MainPID --value swarmd)"');
    });
    expect(Number(await systemctl('show', '-p', 'NRestarts', '--value', 'swarmd'))).toBeGreaterThan(0);
  }, 240_000);

  it('removing the machine disables and deletes the unit and every file, and removes the node', async () => {
    const events: ProvisionEvent[] = [];
    const outcome = await provisioner().remove(request(), { listener: (e) => events.push(e) });
    expect(outcome, describeEvents(events)).toMatchObject({ ok: true, nodeId });
    expect(steps(events)).toEqual(['connect ok', 'privileges ok', 'drain ok', 'stop ok', 'uninstall ok', 'remove-node ok']);
    expect(await provisionLeftovers(machine)).toBe('');
    expect(await agentProcesses(machine)).toEqual([]);
    // systemd has forgotten the unit: not loaded, not enabled, no link left in a target's wants.
    expect(await systemctl('list-unit-files', '--no-legend', 'swarmd.service')).toBe('');
    expect(await systemctl('show', '-p', 'LoadState', '--value', 'swarmd')).toBe('not-found');
    expect(await systemctl('is-active', 'swarmd')).toBe('inactive');
    expect(await sh('find /etc/systemd -name "swarmd*"')).toBe('');
    expect((await manager.control.listNodes({})).nodes.map((n) => n.id)).not.toContain(nodeId);
    // Docker, installed with consent, stays: it is the user's now.
    expect(await systemctl('is-active', 'docker')).toBe('active');
  }, 300_000);
});
