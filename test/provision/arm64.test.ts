/**
 * Provisioning an arm64 machine (issue 6: "Linux x86_64 and arm64"). No arm64 hardware here: a lab VM
 * answers uname -m with aarch64 in root's SSH sessions (as failures.test.ts fakes other
 * architectures), and qemu-user's binfmt_misc handler really runs the arm64 Node.js the provisioner
 * uploads for it (test/lab/arm64-emulation.ts). Checked: the arm64 runtime chosen, uploaded, verified
 * and installed under /opt/swarmd/<version>; the agent running that very file (an AArch64 ELF, as its
 * header says) through the emulator; the node READY in the cluster, describing itself as aarch64; and
 * after removal nothing left on the VM or in the cluster.
 */
import { execFileSync } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentBundle } from '../../electron/main/provision/bundle';
import { OPT_DIR } from '../../electron/main/provision/layout';
import { type MachineRequest, Provisioner } from '../../electron/main/provision/provisioner';
import type { ProvisionEvent } from '../../electron/main/provision/steps';
import { AGENT_RESOURCES, buildAgentBundle } from '../../scripts/build-agent-bundle';
import { aarch64Handler, ARM64_SETUP, missingArm64Emulation } from '../lab/arm64-emulation';
import type { LabVm } from '../lab/lab';
import { agentProcesses, inCi, overrideRootSshPath, privateLab, provisionLeftovers, rootWithLabKey, skipWithoutLab, type TestLab, vmSh } from './fixture';
import { startHostManager, type HostManager } from './host-manager';

/** Skipped on a developer machine that cannot emulate arm64; in CI the suite fails naming what is missing. */
const skipped = skipWithoutLab || (!inCi && missingArm64Emulation().length > 0);

/** EM_AARCH64 in an ELF header's e_machine field (bytes 18-19, little-endian). */
const EM_AARCH64 = 183;

describe.skipIf(skipped)('provisioning an arm64 machine (qemu-user emulation)', () => {
  let t: TestLab;
  let vm: LabVm;
  let manager: HostManager;
  let bundle: AgentBundle;
  let nodeId: string | undefined;
  const FAKE_DIR = '/root/fake-arm64';

  beforeAll(async () => {
    const missing = missingArm64Emulation();
    if (missing.length > 0) throw new Error(`arm64 programs cannot run here; missing: ${missing.join('; ')} (${ARM64_SETUP})`);
    // The manifest as this build wrote it: other test files build the x64 runtime into the same
    // directory at the same time and rewrite manifest.json, which a reload could catch without arm64.
    bundle = { dir: AGENT_RESOURCES, manifest: await buildAgentBundle({ arches: ['arm64'] }) };
    t = await privateLab(1);
    vm = t.vms[0];
    manager = await startHostManager(t.lab.config.hostIp);
    // The VM shares this machine's kernel, whose uname -m says x86_64: in root's SSH sessions (only
    // those) uname -m answers aarch64; every other question goes to the real uname. labDown discards it.
    const realUname = (await vmSh(vm, 'command -v uname')).trim();
    await overrideRootSshPath(vm, FAKE_DIR);
    const fake = join(vm.rootDir, FAKE_DIR, 'uname');
    await writeFile(fake, `#!/bin/sh\nif [ "$*" = -m ]; then echo aarch64; else exec ${realUname} "$@"; fi\n`);
    await chmod(fake, 0o755);
  }, 600_000);
  afterAll(async () => {
    await manager?.stop();
    await t?.down();
  }, 180_000);

  const provisioner = () => new Provisioner({ knownHosts: t.knownHosts, bundle, cluster: manager.control, readyTimeoutMs: 120_000 });
  const request = (): MachineRequest => ({ id: vm.name, target: rootWithLabKey(vm), role: 'worker', manager: { port: manager.port } });
  const ended = (events: ProvisionEvent[]) => events.flatMap((e) => (e.kind === 'step' && e.status !== 'running' ? [`${e.id} ${e.status}`] : []));
  const stepMessage = (events: ProvisionEvent[], id: string) => events.flatMap((e) => (e.kind === 'step' && e.id === id && e.status === 'ok' ? [e.message] : [])).at(-1);

  it('installs the arm64 runtime, runs the agent on it through the emulator, and the node is READY as aarch64', async () => {
    const { version, nodeVersion, runtimes } = bundle.manifest;
    const runtime = runtimes.arm64;
    if (runtime === undefined) throw new Error('the bundle has no arm64 runtime');
    const events: ProvisionEvent[] = [];
    const outcome = await provisioner().provision(request(), { listener: (e) => events.push(e) });
    const log = events.filter((e) => e.kind !== 'output').map((e) => JSON.stringify(e)).join('\n');
    expect(outcome, log).toMatchObject({ ok: true, version });
    if (outcome.ok) nodeId = outcome.nodeId;
    expect(ended(events)).toEqual([
      'connect ok', 'os ok', 'privileges ok', 'docker ok', 'disk ok', 'clock ok', 'manager-reachable ok',
      'upload ok', 'verify ok', 'install ok', 'configure ok', 'start ok', 'join ok', 'ready ok', 'cleanup ok',
    ]);
    const osName = (await vmSh(vm, '. /etc/os-release; echo "$PRETTY_NAME"')).trim();
    expect(stepMessage(events, 'os')).toBe(`${osName}, aarch64`);
    // The arm64 tarball was the one uploaded and checksummed on the VM.
    expect(events.some((e) => e.kind === 'step' && e.id === 'upload' && e.title.includes(`(arm64)`)), log).toBe(true);
    expect(events.some((e) => e.kind === 'output' && e.step === 'upload' && e.line.includes(runtime.file)), log).toBe(true);
    expect(events.some((e) => e.kind === 'output' && e.step === 'verify' && e.line.startsWith(`${runtime.sha256} `)), log).toBe(true);

    // The installed node is the uploaded tarball's bin/node, an AArch64 executable by its ELF header
    // (7f 'E' 'L' 'F', class 2 = 64-bit, data 1 = little-endian, e_machine at bytes 18-19).
    const node = `${OPT_DIR}/${version}/node/bin/node`;
    const packed = execFileSync('sh', ['-c', `tar -xzOf ${join(AGENT_RESOURCES, runtime.file)} package/bin/node | sha256sum`], { encoding: 'utf8', maxBuffer: 1024 * 1024 }).split(' ')[0];
    expect((await vmSh(vm, `sha256sum ${node}`)).split(' ')[0]).toBe(packed);
    const header = (await vmSh(vm, `od -An -v -tu1 -N20 ${node}`)).trim().split(/\s+/).map(Number);
    expect(header.slice(0, 6)).toEqual([0x7f, 0x45, 0x4c, 0x46, 2, 1]);
    expect(header[18] + header[19] * 256).toBe(EM_AARCH64);

    // The agent's process: the kernel ran the emulator (exe), which was given the uploaded node
    // (cmdline, P flag: interpreter, file, the original argv) and maps it.
    const handler = aarch64Handler();
    if (handler === undefined) throw new Error('the aarch64 binfmt_misc handler went away');
    const pid = (await vmSh(vm, 'cat /run/swarmd/swarmd.pid')).trim();
    expect((await vmSh(vm, `readlink /proc/${pid}/exe`)).trim()).toBe(realpathSync(handler.interpreter));
    const argv = (await vmSh(vm, `tr '\\0' '\\n' < /proc/${pid}/cmdline`)).split('\n');
    expect(argv.slice(0, 4)).toEqual([handler.interpreter, node, node, `${OPT_DIR}/${version}/swarmd.mjs`]);
    expect((await vmSh(vm, `grep -o ' /opt/swarmd/.*' /proc/${pid}/maps | sort -u`)).trim()).toBe(node);
    expect(await agentProcesses(vm)).toEqual([node]);
    expect(stepMessage(events, 'start')).toBe(`running ${node} (through ${realpathSync(handler.interpreter)}) (supervised, pid file /run/swarmd/swarmd.pid)`);
    // The same runtime, asked directly on the VM, is Node's arm64 build.
    expect((await vmSh(vm, `${node} -p '[process.version, process.arch].join(" ")'`)).trim()).toBe(`v${nodeVersion} arm64`);

    // READY in the cluster, and described by the agent itself (Node's os.arch(), not uname) as aarch64.
    const { nodes } = await manager.control.listNodes({});
    expect(nodes.find((n) => n.id === nodeId), JSON.stringify(nodes)).toMatchObject({
      role: 'worker',
      status: { state: 'ready' },
      description: { hostname: vm.name, platform: { os: 'linux', arch: 'aarch64' } },
    });
  }, 180_000);

  it('removing the arm64 machine stops the emulated agent and leaves nothing behind', async () => {
    if (nodeId === undefined) throw new Error('the machine was not provisioned');
    const events: ProvisionEvent[] = [];
    const outcome = await provisioner().remove(request(), { listener: (e) => events.push(e) });
    expect(outcome, JSON.stringify(events)).toMatchObject({ ok: true, nodeId });
    expect(ended(events)).toEqual(['connect ok', 'privileges ok', 'drain ok', 'stop ok', 'uninstall ok', 'remove-node ok']);
    expect((await manager.control.listNodes({})).nodes.map((n) => n.id)).not.toContain(nodeId);
    expect(await provisionLeftovers(vm)).toBe('');
    expect(await agentProcesses(vm)).toEqual([]);
    // No emulator process left in the VM either (the lab's VMs share one pid namespace: its own are
    // those in its network namespace).
    const emulated = await vmSh(
      vm,
      `me=$(readlink /proc/self/ns/net); for p in /proc/[0-9]*; do [ "$(readlink $p/ns/net 2>/dev/null)" = "$me" ] && readlink $p/exe 2>/dev/null; done | grep qemu || true`,
    );
    expect(emulated.trim()).toBe('');
  }, 180_000);
});
