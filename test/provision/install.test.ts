/**
 * Provisioning lab VMs into a real cluster (a swarmd manager on this machine, on the lab bridge):
 * three VMs at once (two workers, one manager) each joined and READY; a replicated service run across
 * them, seen in each VM's Docker; the agent running with the uploaded Node.js runtime from /opt/swarmd
 * (not this machine's Node); an upgrade that keeps the node's identity; a remove that leaves nothing;
 * a refused join rolled back to a clean machine.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClusterView } from '../../agent/api/control';
import { type Task, TaskState, taskStateName } from '../../agent/api/objects';
import { type AgentBundle, loadAgentBundle } from '../../electron/main/provision/bundle';
import { type MachineRequest, Provisioner } from '../../electron/main/provision/provisioner';
import type { ProvisionEvent } from '../../electron/main/provision/steps';
import { AGENT_RESOURCES, buildAgentBundle } from '../../scripts/build-agent-bundle';
import { until } from '../cluster/harness';
import { TEST_IMAGE_REPO } from '../lab/engine';
import type { LabVm } from '../lab/lab';
import { startHostManager, type HostManager } from './host-manager';
import { agentProcesses, privateLab, provisionLeftovers, rootWithLabKey, skipWithoutLab, type TestLab, vmSh } from './fixture';

/** One of the images labUp imports into every VM's engine. */
const TEST_IMAGE = `${TEST_IMAGE_REPO}:1`;

describe.skipIf(skipWithoutLab)('provisioning lab VMs into a cluster', () => {
  let t: TestLab;
  let manager: HostManager;
  let bundle: AgentBundle;
  const nodeIds = new Map<string, string>();

  beforeAll(async () => {
    await buildAgentBundle({ arches: ['x64'] });
    bundle = await loadAgentBundle(AGENT_RESOURCES);
    t = await privateLab(4);
    manager = await startHostManager(t.lab.config.hostIp);
  }, 600_000);
  afterAll(async () => {
    await manager?.stop();
    await t?.down();
  }, 180_000);

  const provisioner = (over: Partial<ConstructorParameters<typeof Provisioner>[0]> = {}) =>
    new Provisioner({ knownHosts: t.knownHosts, bundle, cluster: manager.control, readyTimeoutMs: 120_000, ...over });
  const request = (vm: LabVm, role: 'worker' | 'manager' = 'worker'): MachineRequest => ({ id: vm.name, target: rootWithLabKey(vm), role, labels: { lab: vm.name }, manager: { port: manager.port } });
  const steps = (events: ProvisionEvent[], machine: string) =>
    events.flatMap((e) => (e.kind === 'step' && e.machine === machine && e.status !== 'running' ? [`${e.id} ${e.status}`] : []));

  it('provisions three VMs at once, two workers and a manager, each READY with its own progress', async () => {
    const events: ProvisionEvent[] = [];
    const [vm1, vm2, vm3] = t.vms;
    const outcomes = await provisioner().provisionAll([request(vm1), request(vm2), request(vm3, 'manager')], { listener: (e) => events.push(e) });
    for (const [i, outcome] of outcomes.entries()) {
      const vm = t.vms[i];
      expect(outcome, `${vm.name}: ${JSON.stringify(outcome)}\n${events.filter((e) => e.machine === vm.name).map((e) => JSON.stringify(e)).join('\n')}`).toMatchObject({ ok: true, version: bundle.manifest.version });
      if (outcome.ok && outcome.nodeId !== undefined) nodeIds.set(vm.name, outcome.nodeId);
      expect(steps(events, vm.name)).toEqual([
        'connect ok', 'os ok', 'privileges ok', 'docker ok', 'disk ok', 'clock ok', 'manager-reachable ok',
        'upload ok', 'verify ok', 'install ok', 'configure ok', 'start ok', 'join ok', 'ready ok', 'cleanup ok',
      ]);
      expect(events.at(-1)?.kind === 'finished' || events.some((e) => e.kind === 'finished' && e.machine === vm.name)).toBe(true);
    }
    // The agent's own log lines streamed under the join step.
    expect(events.some((e) => e.kind === 'output' && e.machine === 'vm1' && e.step === 'join' && e.line.includes('joined the cluster'))).toBe(true);

    const { nodes } = await manager.control.listNodes({});
    for (const [vm, role] of [[vm1, 'worker'], [vm2, 'worker'], [vm3, 'manager']] as const) {
      const node = nodes.find((n) => n.id === nodeIds.get(vm.name));
      expect(node, vm.name).toMatchObject({ role, status: { state: 'ready' }, description: { hostname: vm.name }, spec: { labels: { lab: vm.name } } });
    }
    expect(nodes.find((n) => n.id === nodeIds.get('vm3'))?.managerStatus?.reachability).toBe('reachable');
  }, 600_000);

  it('runs a replicated service across the three VMs: every task RUNNING, spread 2/2/2, each VM\'s Docker showing <service>.<slot>.<task id>; removed, the containers are gone', async () => {
    const vms = t.vms.slice(0, 3);
    // The host manager has no Docker Engine (startHostManager): drained, as a user would drain a
    // manager without Docker, it is given no tasks and every replica lands on a VM.
    const self = (await manager.control.listNodes({})).nodes.find((n) => n.description?.hostname === 'host-manager');
    if (self === undefined) throw new Error('the host manager is not in node ls');
    const vmOf = new Map<string | undefined, string>([...vms.map((vm) => [nodeIds.get(vm.name), vm.name] as const), [self.id, 'host-manager']]);
    await manager.control.updateNode({ nodeId: self.id, version: self.meta.version, spec: { ...self.spec, availability: 'drain' } });

    // No registry here: labUp imported the test image (Debian's busybox-static) into every VM's engine.
    for (const vm of vms) expect((await vmSh(vm, `docker image ls --format '{{.Repository}}:{{.Tag}}' ${TEST_IMAGE}`)).trim(), vm.name).toBe(TEST_IMAGE);
    // Busybox sh as PID 1 ignores SIGTERM without the trap: each stop would wait out the grace period.
    const { service } = await manager.control.createService({
      spec: { name: 'spread', labels: {}, mode: { replicated: { replicas: 6 } }, task: { container: { image: TEST_IMAGE, command: ['/bin/sh', '-c', 'trap "exit 0" TERM; sleep 3600 & wait'] } } },
    });
    const current = async () => (await manager.control.listTasks({ serviceId: service.id })).tasks.filter((task) => task.desiredState === TaskState.RUNNING);
    const states = (tasks: Task[]) => tasks.map((task) => `${task.slot}@${vmOf.get(task.nodeId) ?? (task.nodeId || 'unassigned')} ${taskStateName(task.status.state)} ${task.status.err ?? ''}`).join('; ');
    let last: Task[] = [];
    const running = await until('6 tasks RUNNING', async () => {
      last = await current();
      return last.length === 6 && last.every((task) => task.status.state === TaskState.RUNNING) ? last : undefined;
    }, 120_000).catch((err: unknown) => {
      throw new Error(`${(err as Error).message}: ${states(last)}`);
    });
    expect(running.map((task) => task.slot).sort()).toEqual([1, 2, 3, 4, 5, 6]);
    expect(running.filter((task) => task.nodeId === self.id)).toEqual([]);
    expect(vms.map((vm) => running.filter((task) => vmOf.get(task.nodeId) === vm.name).length), states(running)).toEqual([2, 2, 2]);

    // Each VM's own Docker shows its two replicas, named as in the seed.
    const dockerPs = async (vm: LabVm, all = '') => (await vmSh(vm, `docker ps ${all} --filter label=com.docker.swarm.service.name=spread --format '{{.Names}} {{.State}}'`)).trim().split('\n').filter((l) => l !== '').sort();
    for (const vm of vms) {
      const expected = running.filter((task) => vmOf.get(task.nodeId) === vm.name).map((task) => `spread.${task.slot}.${task.id} running`).sort();
      expect(await dockerPs(vm), vm.name).toEqual(expected);
    }

    await manager.control.removeService({ serviceId: service.id });
    for (const vm of vms) await until(`${vm.name}: no spread container in docker ps -a`, async () => ((await dockerPs(vm, '-a')).length === 0 ? true : undefined), 60_000);
    // The manager forgets the tasks once stopped, then the service.
    await until('the service gone from the cluster', async () => ((await manager.control.listServices({})).services.length === 0 ? true : undefined), 60_000);
    expect((await manager.control.listTasks({ serviceId: service.id })).tasks).toEqual([]);
  }, 300_000);

  it('runs the agent with the uploaded runtime under /opt/swarmd, not this machine\'s Node, and keeps no join token', async () => {
    for (const vm of t.vms.slice(0, 3)) {
      const exe = (await vmSh(vm, 'readlink /proc/$(cat /run/swarmd/swarmd.pid)/exe')).trim();
      expect(exe).toBe(`/opt/swarmd/${bundle.manifest.version}/node/bin/node`);
      expect(exe).not.toBe(process.execPath);
      expect((await vmSh(vm, '/opt/swarmd/current/node/bin/node --version')).trim()).toBe(`v${bundle.manifest.nodeVersion}`);
      // The token was used once: not in a file, not in the configuration, not on the command line.
      const { rootCa } = ((await manager.control.listClusters({})).clusters[0] as ClusterView);
      const visible = await vmSh(vm, 'ls /etc/swarmd; cat /etc/swarmd/swarmd.conf; tr "\\0" " " < /proc/$(cat /run/swarmd/swarmd.pid)/cmdline');
      expect(visible).not.toContain('SWMTKN');
      expect(visible).not.toContain(rootCa.joinTokens.worker);
      expect(visible.split('\n')[0]).toBe('swarmd.conf');
    }
  }, 120_000);

  it('re-provisioning a machine upgrades it in place and keeps the node\'s identity', async () => {
    const vm = t.vms[0];
    const pidBefore = (await vmSh(vm, 'cat /run/swarmd/swarmd.pid')).trim();
    const next: AgentBundle = { dir: bundle.dir, manifest: { ...bundle.manifest, version: `${bundle.manifest.version}-next` } };
    const events: ProvisionEvent[] = [];
    const outcome = await provisioner({ bundle: next }).provision(request(vm), { listener: (e) => events.push(e) });
    expect(outcome, JSON.stringify(events.filter((e) => e.kind !== 'output'))).toMatchObject({ ok: true, nodeId: nodeIds.get(vm.name), version: next.manifest.version });
    expect(outcome.ok && outcome.message).toBe(`upgraded: node ${nodeIds.get(vm.name)} is READY`);
    expect((await vmSh(vm, 'readlink /opt/swarmd/current')).trim()).toBe(`/opt/swarmd/${next.manifest.version}`);
    // The previous version's directory is gone once the new one runs.
    expect((await vmSh(vm, 'ls /opt/swarmd')).trim().split('\n').sort()).toEqual(['current', next.manifest.version].sort());
    expect((await vmSh(vm, 'cat /run/swarmd/swarmd.pid')).trim()).not.toBe(pidBefore);
    const { nodes } = await manager.control.listNodes({});
    expect(nodes.filter((n) => n.description?.hostname === vm.name).map((n) => [n.id, n.status.state])).toEqual([[nodeIds.get(vm.name), 'ready']]);
  }, 300_000);

  it('removing a machine drains it, stops and uninstalls the agent and removes the node; nothing is left', async () => {
    const vm = t.vms[1];
    const events: ProvisionEvent[] = [];
    const outcome = await provisioner().remove(request(vm), { listener: (e) => events.push(e) });
    expect(outcome, JSON.stringify(events)).toMatchObject({ ok: true, nodeId: nodeIds.get(vm.name) });
    expect(steps(events, vm.name)).toEqual(['connect ok', 'privileges ok', 'drain ok', 'stop ok', 'uninstall ok', 'remove-node ok']);
    expect((await manager.control.listNodes({})).nodes.map((n) => n.id)).not.toContain(nodeIds.get(vm.name));
    expect(await provisionLeftovers(vm)).toBe('');
    expect(await agentProcesses(vm)).toEqual([]);
  }, 300_000);

  it('a refused join fails with the cluster\'s reason and leaves the machine as it was', async () => {
    const vm = t.vms[3];
    const wrongToken = {
      ...manager.control,
      listClusters: async () => {
        const { clusters } = await manager.control.listClusters({});
        const c = clusters[0] as ClusterView;
        // A token of the right shape for another cluster.
        const other = c.rootCa.joinTokens.worker.replace(/-[a-z0-9]+$/, (s) => `-${'x'.repeat(s.length - 1)}`);
        return { clusters: [{ ...c, rootCa: { ...c.rootCa, joinTokens: { worker: other, manager: other } } }] };
      },
      getNode: manager.control.getNode,
      updateNode: manager.control.updateNode,
      removeNode: manager.control.removeNode,
      listTasks: manager.control.listTasks,
    };
    const events: ProvisionEvent[] = [];
    const outcome = await provisioner({ cluster: wrongToken }).provision(request(vm), { listener: (e) => events.push(e) });
    expect(outcome.ok).toBe(false);
    if (!outcome.ok) {
      expect(outcome.error.code).toBe('join-failed');
      expect(outcome.error.step).toBe('join');
      expect(outcome.error.message).toMatch(/^the cluster refused the join: .*token/i);
    }
    expect(steps(events, vm.name).slice(-2)).toEqual(['join failed', 'cleanup ok']);
    expect(await provisionLeftovers(vm)).toBe('');
    const upload = events.find((e) => e.kind === 'step' && e.id === 'upload' && e.status === 'ok');
    const staging = upload?.kind === 'step' ? upload.message?.replace('uploaded to ', '') : undefined;
    expect(staging).toMatch(/^\/tmp\/swarmd-upload\.\w+$/);
    expect((await vm.exec(`test -e ${staging}`)).code).toBe(1);
  }, 300_000);
});
