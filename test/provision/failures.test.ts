/**
 * Provisioning that must stop with a clear message and leave the machine as it was (issue 6's error
 * cases, against lab VMs and a real manager): a machine whose OS or CPU architecture swarmdesk does not
 * run on, stopped by preflight before anything is uploaded; a node that joins but never becomes READY,
 * failed once the READY timeout has passed with what the manager last saw, rolled back, and provisioned
 * as usual once it can reach the manager.
 */
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AgentBundle, loadAgentBundle } from '../../electron/main/provision/bundle';
import { type MachineRequest, Provisioner } from '../../electron/main/provision/provisioner';
import type { ProvisionEvent } from '../../electron/main/provision/steps';
import { AGENT_RESOURCES, buildAgentBundle } from '../../scripts/build-agent-bundle';
import type { LabVm } from '../lab/lab';
import { agentProcesses, overrideRootSshPath, privateLab, provisionLeftovers, rootWithLabKey, skipWithoutLab, type TestLab, vmSh } from './fixture';
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

/** The VM's own firewall chain that keeps the agent's session from reaching the manager. */
const NO_SESSION_CHAIN = 'swarmdesk-test-no-session';

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

  it('fails a node that never becomes READY once the timeout has passed, saying what the manager last saw; the install is rolled back, and provisioning again succeeds', async () => {
    const vm = t.vms[1];
    const readyTimeoutS = 20;
    const host = t.lab.config.hostIp;
    // The VM's own firewall lets exactly two new connections through to the manager, then drops the
    // rest. It goes up when the upload starts (preflight's reachability check has had its connection),
    // so the agent's join gets its two (agent/ca/join-client.ts: the root CA, then the certificate)
    // and the node exists in the cluster, but its dispatcher session, the next connection, never
    // reaches the manager: the node can never be READY.
    const blockSessions = () =>
      vmSh(
        vm,
        `iptables -w -N ${NO_SESSION_CHAIN} && ` +
          `iptables -w -A ${NO_SESSION_CHAIN} -p tcp --syn -d ${host} --dport ${manager.port} -m limit --limit 1/day --limit-burst 2 -j ACCEPT && ` +
          `iptables -w -A ${NO_SESSION_CHAIN} -p tcp --syn -d ${host} --dport ${manager.port} -j DROP && ` +
          `iptables -w -I OUTPUT -j ${NO_SESSION_CHAIN}`,
      );
    const unblock = () => vmSh(vm, `iptables -w -D OUTPUT -j ${NO_SESSION_CHAIN} 2>/dev/null; iptables -w -F ${NO_SESSION_CHAIN} 2>/dev/null; iptables -w -X ${NO_SESSION_CHAIN} 2>/dev/null; true`);
    /** Packets the chain's ACCEPT and DROP rules matched, in that order. */
    const matched = async () =>
      (await vmSh(vm, `iptables -w -L ${NO_SESSION_CHAIN} -n -v -x`)).split('\n').filter((l) => /\b(ACCEPT|DROP)\b/.test(l)).map((l) => Number(l.trim().split(/\s+/)[0]));

    const events: ProvisionEvent[] = [];
    const at = new Map<string, number>();
    let firewall: Promise<boolean> | undefined;
    let agentStarted = false;
    const listener = (e: ProvisionEvent) => {
      events.push(e);
      if (e.kind !== 'step') return;
      at.set(`${e.id} ${e.status}`, Date.now());
      if (e.id === 'upload' && e.status === 'running') firewall = blockSessions().then(() => !agentStarted);
      if (e.id === 'start' && e.status === 'running') agentStarted = true;
    };
    let nodeId: string | undefined;
    try {
      const outcome = await provisioner(readyTimeoutS * 1000).provision(request(vm), { listener });
      expect(await firewall, 'the firewall was up before the agent started').toBe(true);
      const [accepted, dropped] = await matched();
      const what = `${JSON.stringify(outcome)}; firewall accepted ${accepted} and dropped ${dropped} connection attempts\n${events.filter((e) => e.kind !== 'output').map((e) => JSON.stringify(e)).join('\n')}`;
      nodeId = stepMessage(events, 'join')?.replace(/^node /, '');
      expect(nodeId, what).toMatch(/^\w+$/);
      // A node the manager created when it issued the certificate, and never heard from since.
      expect(outcome, what).toEqual({
        ok: false,
        error: { code: 'join-failed', step: 'ready', message: `node ${nodeId} did not become READY within ${readyTimeoutS} s; last seen: UNKNOWN (joined; waiting for its first session)` },
      });
      expect(ended(events).slice(-4), what).toEqual(['start ok', 'join ok', 'ready failed', 'cleanup ok']);
      expect((at.get('ready failed') ?? 0) - (at.get('ready running') ?? 0), what).toBeGreaterThanOrEqual(readyTimeoutS * 1000);
      expect(dropped, what).toBeGreaterThan(0);

      // The design (provisioner.ts): a failed fresh install is rolled back entirely, its node with it;
      // an upgrade would go back to the version before. Nothing is left on the machine or in the cluster.
      expect(stepMessage(events, 'cleanup')).toBe('nothing of the attempt is left on the machine');
      expect(await provisionLeftovers(vm)).toBe('');
      expect(await agentProcesses(vm)).toEqual([]);
      expect(await nodeIds()).not.toContain(nodeId);
    } finally {
      await firewall?.catch(() => undefined);
      await unblock();
    }

    // The machine as it was: the same request, with the manager reachable, is a fresh install that ends READY.
    const retry: ProvisionEvent[] = [];
    const again = await provisioner().provision(request(vm), { listener: (e) => retry.push(e) });
    expect(again, JSON.stringify(retry.filter((e) => e.kind !== 'output'))).toMatchObject({ ok: true, version: bundle.manifest.version });
    const newId = again.ok ? again.nodeId : undefined;
    expect(again.ok && again.message).toBe(`joined: node ${newId} is READY`);
    expect(newId).not.toBe(nodeId);
    const { node } = await manager.control.getNode({ nodeId: newId ?? '' });
    expect(node).toMatchObject({ status: { state: 'ready' }, description: { hostname: vm.name } });
    expect(await agentProcesses(vm)).toEqual([`/opt/swarmd/${bundle.manifest.version}/node/bin/node`]);
  }, 600_000);
});
