// The lab's network: one Linux bridge on the host holding the host's address, and per VM a network
// namespace joined to the bridge by a veth pair. Every step is written to be re-run without changing
// anything when the state is already right (`ip ... replace`), which is what makes `lab up` idempotent.
import { existsSync } from 'node:fs';
import type { LabConfig, VmLayout } from './config';
import { run, tryRun } from './sh';

async function linkExists(name: string, netns?: string): Promise<boolean> {
  const argv = netns ? ['ip', '-n', netns, 'link', 'show', 'dev', name] : ['ip', 'link', 'show', 'dev', name];
  return (await tryRun(argv)).code === 0;
}

export function netnsExists(netns: string): boolean {
  return existsSync(`/run/netns/${netns}`);
}

/** Names of this lab's namespaces that exist now, whatever the state file says (`down` after a crash). */
export async function listLabNetns(cfg: LabConfig): Promise<string[]> {
  const out = await run(['ip', 'netns', 'list']);
  const pattern = new RegExp(`^${cfg.prefix}-vm\\d+$`);
  return out
    .split('\n')
    .map((line) => line.split(' ')[0])
    .filter((name) => pattern.test(name));
}

/** Host-side links of this lab (bridge and veths), found by name. */
export async function listLabLinks(cfg: LabConfig): Promise<string[]> {
  const out = await run(['ip', '-o', 'link', 'show']);
  const pattern = new RegExp(`^${cfg.prefix}(0|v\\d+)$`);
  return out
    .split('\n')
    .map((line) => line.split(':')[1]?.trim().split('@')[0] ?? '')
    .filter((name) => pattern.test(name));
}

const OWNER_ALIAS = 'swarmdesk-lab:';

/**
 * The lab directory that owns this prefix, read from the bridge's alias (set when the bridge is made).
 * Names derive from the prefix alone, so without this check a second lab directory using the same prefix
 * would adopt, or `down` would delete, another lab's namespaces.
 */
export async function bridgeOwner(cfg: LabConfig): Promise<string | undefined> {
  const result = await tryRun(['ip', '-j', 'link', 'show', 'dev', cfg.bridge]);
  if (result.code !== 0) return undefined;
  const [link] = JSON.parse(result.stdout) as { ifalias?: string }[];
  const alias = link?.ifalias ?? '';
  return alias.startsWith(OWNER_ALIAS) ? alias.slice(OWNER_ALIAS.length) : '';
}

/** Refuses a subnet that some other interface of the host already has an address in. */
async function checkSubnetFree(cfg: LabConfig): Promise<void> {
  const links = JSON.parse(await run(['ip', '-j', '-4', 'addr', 'show'])) as { ifname: string; addr_info?: { local: string }[] }[];
  for (const link of links) {
    if (link.ifname === cfg.bridge) continue;
    const clash = link.addr_info?.find((a) => a.local.startsWith(`${cfg.subnet}.`));
    if (clash) throw new Error(`subnet ${cfg.subnet}.0/24 is already used by ${link.ifname} (${clash.local}); pick another with --subnet`);
  }
}

/** Refuses to go on when another lab owns the prefix or another interface sits in the subnet. */
export async function checkNamesFree(cfg: LabConfig): Promise<void> {
  const owner = await bridgeOwner(cfg);
  if (owner !== undefined && owner !== cfg.dir) {
    throw new Error(`prefix ${cfg.prefix} is in use by the lab in ${owner || '(unknown)'}; pick another with --prefix`);
  }
  await checkSubnetFree(cfg);
}

/** Returns true when something had to be created. */
export async function ensureBridge(cfg: LabConfig): Promise<boolean> {
  let created = false;
  await checkNamesFree(cfg);
  if ((await bridgeOwner(cfg)) === undefined) {
    await run(['ip', 'link', 'add', cfg.bridge, 'type', 'bridge']);
    await run(['ip', 'link', 'set', cfg.bridge, 'alias', `${OWNER_ALIAS}${cfg.dir}`]);
    created = true;
  }
  await run(['ip', 'addr', 'replace', `${cfg.hostIp}/24`, 'dev', cfg.bridge]);
  await run(['ip', 'link', 'set', cfg.bridge, 'up']);
  await allowBridgedForwarding(cfg);
  return created;
}

/**
 * With br_netfilter loaded, frames crossing the bridge go through the host's iptables FORWARD chain, whose
 * policy a host dockerd sets to DROP: then VMs could reach the host but not each other. One ACCEPT rule for
 * bridge-to-bridge traffic keeps the lab working whatever else runs on the machine.
 */
async function allowBridgedForwarding(cfg: LabConfig): Promise<void> {
  const rule = ['FORWARD', '-i', cfg.bridge, '-o', cfg.bridge, '-j', 'ACCEPT'];
  let check;
  try {
    check = await tryRun(['iptables', '-w', '-C', ...rule]);
  } catch {
    return; // no iptables on the host: nothing can be filtering bridged traffic through it
  }
  if (check.code !== 0) await run(['iptables', '-w', '-I', ...rule]);
}

async function removeBridgedForwarding(cfg: LabConfig): Promise<void> {
  const rule = ['FORWARD', '-i', cfg.bridge, '-o', cfg.bridge, '-j', 'ACCEPT'];
  try {
    for (let i = 0; i < 10 && (await tryRun(['iptables', '-w', '-C', ...rule])).code === 0; i++) {
      await run(['iptables', '-w', '-D', ...rule]);
    }
  } catch {
    // no iptables: no rule was added
  }
}

export async function ensureVmNetwork(cfg: LabConfig, vm: VmLayout): Promise<boolean> {
  let created = false;
  if (!netnsExists(vm.netns)) {
    await run(['ip', 'netns', 'add', vm.netns]);
    created = true;
  }
  // A veth pair lives and dies as one: if the host end exists, its peer is eth0 in the namespace.
  if (!(await linkExists(vm.hostVeth))) {
    if (await linkExists('eth0', vm.netns)) await run(['ip', '-n', vm.netns, 'link', 'del', 'eth0']);
    await run(['ip', 'link', 'add', vm.hostVeth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', vm.netns]);
    created = true;
  }
  await run(['ip', 'link', 'set', vm.hostVeth, 'master', cfg.bridge, 'up']);
  const n = ['ip', '-n', vm.netns];
  await run([...n, 'link', 'set', 'lo', 'up']);
  await run([...n, 'addr', 'replace', `${vm.ip}/24`, 'dev', 'eth0']);
  await run([...n, 'link', 'set', 'eth0', 'up']);
  await run([...n, 'route', 'replace', 'default', 'via', cfg.hostIp]);
  return created;
}

/** Deletes a link if it exists. A veth also vanishes on its own, shortly after its peer's namespace is deleted. */
async function deleteLink(name: string): Promise<void> {
  const result = await tryRun(['ip', 'link', 'del', name]);
  if (result.code !== 0 && (await linkExists(name))) await run(['ip', 'link', 'del', name]);
}

export async function removeVmNetwork(netns: string, hostVeth: string | undefined): Promise<void> {
  if (netnsExists(netns)) await run(['ip', 'netns', 'del', netns]);
  if (hostVeth) await deleteLink(hostVeth);
}

export async function removeLabLinks(cfg: LabConfig): Promise<void> {
  for (const link of await listLabLinks(cfg)) await deleteLink(link);
  await removeBridgedForwarding(cfg);
}
