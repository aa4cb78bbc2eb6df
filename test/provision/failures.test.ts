/**
 * Provisioning that must stop with a clear message and leave the machine as it was (issue 6's error
 * cases, against lab VMs and a real manager): a machine whose OS or CPU architecture swarmdesk does not
 * run on, stopped by preflight before anything is uploaded.
 */
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AgentBundle, loadAgentBundle } from '../../electron/main/provision/bundle';
import { type MachineRequest, Provisioner } from '../../electron/main/provision/provisioner';
import type { ProvisionEvent } from '../../electron/main/provision/steps';
import { AGENT_RESOURCES, buildAgentBundle } from '../../scripts/build-agent-bundle';
import type { LabVm } from '../lab/lab';
import { overrideRootSshPath, privateLab, provisionLeftovers, rootWithLabKey, skipWithoutLab, type TestLab, vmSh } from './fixture';
import { startHostManager, type HostManager } from './host-manager';

/** What FreeBSD 14.1 has in /etc/os-release. */
const FREEBSD_OS_RELEASE = `NAME=FreeBSD
VERSION="14.1-RELEASE"
VERSION_ID="14.1"
ID=freebsd
ANSI_COLOR="0;31"
PRETTY_NAME="FreeBSD 14.1-RELEASE"
CPE_NAME="cpe:/o:freebsd:freebsd:14.1"
HOME_URL="https://FreeBSD.org/"
BUG_REPORT_URL="https://bugs.FreeBSD.org/"
`;

describe.skipIf(skipWithoutLab)('provisioning failures on lab VMs', () => {
  let t: TestLab;
  let manager: HostManager;
  let bundle: AgentBundle;

  beforeAll(async () => {
    await buildAgentBundle({ arches: ['x64'] });
    bundle = await loadAgentBundle(AGENT_RESOURCES);
    t = await privateLab(2);
    manager = await startHostManager(t.lab.config.hostIp);
  }, 600_000);
  afterAll(async () => {
    await manager?.stop();
    await t?.down();
  }, 180_000);

  const provisioner = (readyTimeoutMs = 120_000) => new Provisioner({ knownHosts: t.knownHosts, bundle, cluster: manager.control, readyTimeoutMs });
  const request = (vm: LabVm): MachineRequest => ({ id: vm.name, target: rootWithLabKey(vm), role: 'worker', manager: { port: manager.port } });
  const ended = (events: ProvisionEvent[]) => events.flatMap((e) => (e.kind === 'step' && e.status !== 'running' ? [`${e.id} ${e.status}`] : []));
  const stepMessage = (events: ProvisionEvent[], id: string) => events.flatMap((e) => (e.kind === 'step' && e.id === id && e.status !== 'running' ? [e.message] : [])).at(-1);
  const nodeIds = async () => (await manager.control.listNodes({})).nodes.map((n) => n.id).sort();

  it('stops at the OS check on an unsupported OS or CPU architecture, naming what it found and what it needs; nothing is installed', async () => {
    const vm = t.vms[0];
    // The lab's VMs share this machine's kernel, so uname cannot really answer otherwise: in root's
    // SSH sessions (only those) uname -s and -m answer from files a case writes, and cat shows a
    // chosen /etc/os-release when the case gives one. Everything else is the real program.
    const dir = '/root/fake-system';
    const [realUname, realCat] = (await vmSh(vm, 'command -v uname; command -v cat')).trim().split('\n');
    const onVm = (file: string) => join(vm.rootDir, dir, file);
    const nodesBefore = await nodeIds();
    const restore = await overrideRootSshPath(vm, dir);
    try {
      await writeFile(
        onVm('uname'),
        `#!/bin/sh\ncase "$1" in\n  -s) read -r v < ${dir}/kernel && echo "$v" ;;\n  -m) read -r v < ${dir}/machine && echo "$v" ;;\n  *) exec ${realUname} "$@" ;;\nesac\n`,
      );
      await writeFile(onVm('cat'), `#!/bin/sh\nif [ "$#" = 1 ] && [ "$1" = /etc/os-release ] && [ -f ${dir}/os-release ]; then exec ${realCat} ${dir}/os-release; fi\nexec ${realCat} "$@"\n`);
      await chmod(onVm('uname'), 0o755);
      await chmod(onVm('cat'), 0o755);

      const cases = [
        { kernel: 'Linux', machine: 'riscv64', message: 'the riscv64 architecture is not supported: swarmdesk nodes run on x86_64 or arm64' },
        // 32-bit Raspberry Pi OS.
        { kernel: 'Linux', machine: 'armv7l', message: 'the armv7l architecture is not supported: swarmdesk nodes run on x86_64 or arm64' },
        // FreeBSD on a CPU swarmdesk supports: the OS alone is refused.
        { kernel: 'FreeBSD', machine: 'amd64', osRelease: FREEBSD_OS_RELEASE, message: 'FreeBSD 14.1-RELEASE is not supported: swarmdesk nodes run on Linux (x86_64 or arm64)' },
      ];
      for (const c of cases) {
        await writeFile(onVm('kernel'), `${c.kernel}\n`);
        await writeFile(onVm('machine'), `${c.machine}\n`);
        if (c.osRelease === undefined) await vmSh(vm, `rm -f ${dir}/os-release`);
        else await writeFile(onVm('os-release'), c.osRelease);

        const events: ProvisionEvent[] = [];
        const outcome = await provisioner().provision(request(vm), { listener: (e) => events.push(e) });
        const what = `${c.kernel} ${c.machine}: ${JSON.stringify(outcome)}`;
        expect(outcome, what).toEqual({ ok: false, error: { code: 'preflight-failed', step: 'os', message: c.message } });
        expect(stepMessage(events, 'os'), what).toBe(c.message);
        // Provisioning stopped there: no further check, nothing uploaded, nothing asked of the cluster.
        expect(ended(events), what).toEqual(['connect ok', 'os failed']);
        expect(await provisionLeftovers(vm), what).toBe('');
      }
      expect(await nodeIds()).toEqual(nodesBefore);
    } finally {
      await restore();
    }

    // Put back: the VM is Linux on x86_64 again for root's SSH sessions, and passes Test connection.
    const events: ProvisionEvent[] = [];
    const outcome = await provisioner().test(request(vm), { listener: (e) => events.push(e) });
    const osName = (await vmSh(vm, '. /etc/os-release; echo "$PRETTY_NAME"')).trim();
    expect(outcome, JSON.stringify(events)).toEqual({ ok: true, message: `${osName} (x64) is ready to be provisioned` });
    expect(stepMessage(events, 'os')).toBe(`${osName}, x86_64`);
    expect(await provisionLeftovers(vm)).toBe('');
  }, 180_000);
});
