/**
 * The provisioning service the desktop app serves: jobs started at once with progress as events
 * tagged with their job id, a job cancelled in the middle of its upload (the machine left clean),
 * and the job list a reloaded window reads.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProvisioningService, type ProvisionJobEvent } from '../../electron/main/provision/service';
import { AGENT_RESOURCES, buildAgentBundle } from '../../scripts/build-agent-bundle';
import { privateLab, rootWithLabKey, skipWithoutLab, type TestLab, vmSh } from './fixture';
import { type HostManager, startHostManager } from './host-manager';

describe.skipIf(skipWithoutLab)('provisioning service (what the desktop app calls)', () => {
  let t: TestLab;
  let manager: HostManager;

  beforeAll(async () => {
    await buildAgentBundle({ arches: ['x64'] });
    t = await privateLab(1);
    manager = await startHostManager(t.lab.config.hostIp);
  }, 600_000);
  afterAll(async () => {
    await manager?.stop();
    await t?.down();
  }, 180_000);

  it('cancels a job during its upload: the outcome says cancelled, the rollback leaves nothing on the machine', async () => {
    const vm = t.vms[0];
    const events: ProvisionJobEvent[] = [];
    const service: ProvisioningService = new ProvisioningService({
      knownHostsPath: vm.knownHostsPath,
      bundleDir: AGENT_RESOURCES,
      cluster: () => manager.control,
      emit: (e) => {
        events.push(e);
        if (e.event.kind === 'step' && e.event.id === 'upload' && e.event.status === 'running') service.cancel(e.jobId);
      },
    });
    const { jobId } = service.start('add', { id: vm.name, target: rootWithLabKey(vm), role: 'worker', manager: { port: manager.port } });
    const outcome = await service.wait(jobId);
    expect(outcome).toEqual({ ok: false, error: { code: 'cancelled', message: 'cancelled', step: 'upload' } });
    expect(events.every((e) => e.jobId === jobId)).toBe(true);
    const [job] = service.list();
    expect(job.steps.map((s) => `${s.id} ${s.status}`)).toEqual([
      'connect ok', 'os ok', 'privileges ok', 'docker ok', 'disk ok', 'clock ok', 'manager-reachable ok', 'upload failed', 'cleanup ok',
    ]);
    expect(job.outcome).toEqual(outcome);
    expect((await vmSh(vm, 'ls -d /opt/swarmd /etc/swarmd /var/lib/swarmd /run/swarmd 2>/dev/null; true')).trim()).toBe('');
    expect((await manager.control.listNodes({})).nodes.map((n) => n.description?.hostname)).not.toContain(vm.name);
  }, 300_000);

  it('refuses to add or remove machines while this app has no cluster, but can test a connection', async () => {
    const vm = t.vms[0];
    const service = new ProvisioningService({ knownHostsPath: vm.knownHostsPath, bundleDir: AGENT_RESOURCES, cluster: () => undefined, emit: () => undefined });
    expect(() => service.start('add', { target: rootWithLabKey(vm), role: 'worker' })).toThrow('this app runs no manager yet: create or join a cluster first');
    const { jobId } = service.start('test', { target: rootWithLabKey(vm), role: 'worker', manager: { port: manager.port } });
    expect(await service.wait(jobId)).toMatchObject({ ok: true, message: expect.stringMatching(/is ready to be provisioned$/) });
  }, 120_000);
});
