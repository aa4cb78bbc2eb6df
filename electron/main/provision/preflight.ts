/**
 * Preflight: what the machine is and whether it can run a node, each check a step with its result:
 * OS and CPU architecture, root or sudo, Docker Engine (installed, running, reachable, API version;
 * installing Debian's package only with the user's consent), free disk, clock skew, and whether the
 * machine can open a TCP connection to the manager.
 */
import { ProvisionError } from './errors';
import type { Progress } from './steps';
import type { SshConnection } from './ssh';
import { shellQuote } from './shell';

export type NodeArch = 'x64' | 'arm64';

export interface MachineFacts {
  /** e.g. "Debian GNU/Linux 12 (bookworm)". */
  osName: string;
  /** os-release ID and ID_LIKE, e.g. ["debian"] or ["ubuntu", "debian"]. */
  osFamily: string[];
  arch: NodeArch;
  hostname: string;
  /** Whether systemd is the init system (a unit file), or the agent runs supervised with a pid file. */
  systemd: boolean;
  docker?: { version: string; apiVersion: string; socket: string };
  /** host:port of the manager the machine will join (checked reachable from it). */
  managerAddress?: string;
  /** Seconds the machine's clock is ahead (+) or behind (-) this one. */
  clockSkewSeconds?: number;
}

export interface PreflightOptions {
  /** The manager's advertise address (host:port); without a host, the address this machine used to reach the VM. */
  manager?: { host?: string; port: number };
  /** Consent to install the distribution's Docker package when Docker is missing (Debian/Ubuntu). */
  installDocker?: boolean;
  signal?: AbortSignal;
}

/** Free space needed: the runtime and the agent under /opt, node state and images under /var/lib. */
const MIN_FREE_OPT_MB = 300;
const MIN_FREE_VARLIB_MB = 1024;
/** Beyond this, certificates may look not yet valid (or expired) to one side. */
const MAX_CLOCK_SKEW_S = 60;
const DOCKER_SOCKET = '/var/run/docker.sock';

/** key=value lines (os-release style, values optionally double-quoted) as a map. */
export function parseKeyValues(text: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const line of text.split('\n')) {
    const at = line.indexOf('=');
    if (at > 0) map.set(line.slice(0, at).trim(), line.slice(at + 1).trim().replace(/^"(.*)"$/, '$1'));
  }
  return map;
}

export async function preflight(conn: SshConnection, progress: Progress, options: PreflightOptions = {}): Promise<MachineFacts> {
  const { signal } = options;
  const os = await progress.step('os', 'Operating system and architecture', async (ctx) => {
    const out = await conn.run(
      'reading the OS',
      'echo "kernel=$(uname -s)"; echo "machine=$(uname -m)"; echo "hostname=$(uname -n)"; ' +
        'if [ -d /run/systemd/system ]; then echo systemd=yes; else echo systemd=no; fi; ' +
        'cat /etc/os-release 2>/dev/null | grep -E "^(ID|ID_LIKE|PRETTY_NAME)="',
      { signal, timeoutMs: 60_000 },
    );
    const facts = parseKeyValues(out);
    const kernel = facts.get('kernel') ?? '';
    const machine = facts.get('machine') ?? '';
    const osName = facts.get('PRETTY_NAME') ?? kernel;
    if (kernel !== 'Linux') throw new ProvisionError('preflight-failed', `${osName || 'this system'} is not supported: swarmdesk nodes run on Linux (x86_64 or arm64)`);
    const arch: NodeArch | undefined = machine === 'x86_64' || machine === 'amd64' ? 'x64' : machine === 'aarch64' || machine === 'arm64' ? 'arm64' : undefined;
    if (arch === undefined) throw new ProvisionError('preflight-failed', `the ${machine} architecture is not supported: swarmdesk nodes run on x86_64 or arm64`);
    const systemd = facts.get('systemd') === 'yes';
    ctx.line(`${osName}, ${machine}, ${systemd ? 'systemd' : 'no systemd'}`);
    const family = [facts.get('ID') ?? '', ...(facts.get('ID_LIKE') ?? '').split(' ')].filter((s) => s !== '');
    return { value: { osName, osFamily: family, arch, hostname: facts.get('hostname') ?? '', systemd }, message: `${osName}, ${machine}` };
  });
  const facts: MachineFacts = { ...os };

  await progress.step('privileges', 'Administrator rights (root or sudo)', async () => {
    if (conn.isRoot) return { value: undefined, message: 'logged in as root' };
    const uid = (await conn.run('sudo', 'id -u', { sudo: true, signal, timeoutMs: 60_000 })).trim();
    if (uid !== '0') throw new ProvisionError('sudo-failed', `sudo did not make ${conn.target.username} root (id -u says ${uid})`);
    return { value: undefined, message: `${conn.target.username} may use sudo` };
  });

  facts.docker = await checkDocker(conn, progress, facts, options);

  await progress.step('disk', 'Free disk space', async (ctx) => {
    const out = await conn.run('df', 'for d in /opt /var/lib; do [ -d $d ] || d=/; printf "%s " $d; df -Pk $d | tail -n 1; done', { signal, timeoutMs: 60_000 });
    const free = new Map<string, number>();
    for (const line of out.trim().split('\n')) {
      ctx.line(line);
      const cols = line.trim().split(/\s+/);
      free.set(cols[0] ?? '', Math.floor(Number(cols[4]) / 1024));
    }
    const opt = free.get('/opt') ?? free.get('/') ?? 0;
    const varLib = free.get('/var/lib') ?? free.get('/') ?? 0;
    if (opt < MIN_FREE_OPT_MB) throw new ProvisionError('preflight-failed', `only ${opt} MB free under /opt: the agent and its runtime need ${MIN_FREE_OPT_MB} MB`);
    if (varLib < MIN_FREE_VARLIB_MB) throw new ProvisionError('preflight-failed', `only ${varLib} MB free under /var/lib: node state and container images need at least ${MIN_FREE_VARLIB_MB} MB`);
    return { value: undefined, message: `${mb(opt)} free under /opt, ${mb(varLib)} under /var/lib` };
  });

  facts.clockSkewSeconds = await progress.step('clock', 'Clock compared with this machine', async () => {
    const before = Date.now();
    const out = (await conn.run('date', 'date +%s.%N', { signal, timeoutMs: 60_000 })).trim();
    const after = Date.now();
    const remote = Number(out.replace(/\.N$/, '')) * 1000;
    if (!Number.isFinite(remote)) throw new ProvisionError('preflight-failed', `cannot read the machine's clock (date printed ${JSON.stringify(out)})`);
    const skew = (remote - (before + after) / 2) / 1000;
    const rounded = Math.round(skew * 10) / 10;
    const side = `${Math.abs(rounded)} s ${skew >= 0 ? 'ahead of' : 'behind'} this machine`;
    if (Math.abs(skew) > MAX_CLOCK_SKEW_S) {
      throw new ProvisionError('preflight-failed', `the machine's clock is ${side}: certificates would look not yet valid or expired. Turn on time synchronisation (e.g. timedatectl set-ntp true) and retry`);
    }
    return { value: rounded, message: Math.abs(skew) < 1 ? 'in sync (within 1 s)' : side };
  });

  if (options.manager !== undefined) {
    const host = options.manager.host ?? conn.localAddress()?.replace(/^::ffff:/, '');
    if (host === undefined || host === '') throw new ProvisionError('invalid-argument', 'give the manager address the machine should reach');
    const address = host.includes(':') ? `[${host}]:${options.manager.port}` : `${host}:${options.manager.port}`;
    facts.managerAddress = address;
    await progress.step('manager-reachable', `Connection from the machine to the manager at ${address}`, async (ctx) => {
      const h = shellQuote(host);
      const p = String(options.manager?.port ?? 4242);
      const probe =
        `if command -v bash >/dev/null 2>&1; then timeout 8 bash -c 'exec 3<>/dev/tcp/'${h}'/${p}' && echo open; ` +
        `elif command -v nc >/dev/null 2>&1; then nc -z -w 8 ${h} ${p} && echo open; ` +
        'else echo "no-tool"; fi';
      const r = await conn.exec(probe, { signal, timeoutMs: 60_000, onLine: ctx.onLine });
      if (r.stdout.includes('no-tool')) return { value: undefined, message: 'not checked: the machine has neither bash nor nc' };
      if (!r.stdout.includes('open')) {
        throw new ProvisionError(
          'preflight-failed',
          `the machine cannot open a TCP connection to the manager at ${address}${r.stderr.trim() ? ` (${r.stderr.trim().split('\n').pop()})` : ''}: check the address other machines reach this one at, and the firewalls between them`,
        );
      }
      return { value: undefined, message: `${address} accepts connections from the machine` };
    });
  }
  return facts;
}

function mb(n: number): string {
  return n >= 10_240 ? `${Math.round(n / 1024)} GB` : `${n} MB`;
}

/** Docker Engine: installed, running, answering on its socket; its version and API version. */
async function checkDocker(conn: SshConnection, progress: Progress, facts: MachineFacts, options: PreflightOptions): Promise<MachineFacts['docker']> {
  const { signal } = options;
  const probe = async () => {
    const out = await conn.exec(
      'echo "cli=$(command -v docker)"; echo "daemon=$(command -v dockerd)"; ' +
        `if [ -S ${DOCKER_SOCKET} ]; then echo socket=yes; else echo socket=no; fi; ` +
        `if command -v docker >/dev/null 2>&1; then docker -H unix://${DOCKER_SOCKET} version --format 'server={{.Server.Version}}|api={{.Server.APIVersion}}' 2>&1 | tail -n 3; ` +
        `elif command -v curl >/dev/null 2>&1 && [ -S ${DOCKER_SOCKET} ]; then curl -s --max-time 10 --unix-socket ${DOCKER_SOCKET} http://docker/version; fi`,
      { sudo: true, signal, timeoutMs: 60_000 },
    );
    const text = out.stdout;
    const kv = parseKeyValues(text.replace(/\|/g, '\n'));
    const json = /"Version":"([^"]+)".*"ApiVersion":"([^"]+)"/.exec(text) ?? /"ApiVersion":"([^"]+)".*"Version":"([^"]+)"/.exec(text);
    const version = kv.get('server') ?? json?.[1];
    const apiVersion = kv.get('api') ?? json?.[2];
    return {
      installed: (kv.get('cli') ?? '') !== '' || (kv.get('daemon') ?? '') !== '',
      socket: kv.get('socket') === 'yes',
      version: version !== undefined && version !== '' && !version.includes('{{') ? version : undefined,
      apiVersion,
      detail: text.split('\n').filter((l) => l !== '' && !/^(cli|daemon|socket)=/.test(l)).join(' ').trim(),
    };
  };

  let found = await progress.step('docker', 'Docker Engine', async () => {
    const seen = await probe();
    if (seen.version !== undefined) return { value: seen, message: `Docker Engine ${seen.version} (API ${seen.apiVersion ?? 'unknown'}) answers on ${DOCKER_SOCKET}` };
    if (!seen.installed && !seen.socket) {
      const debianLike = facts.osFamily.some((id) => id === 'debian' || id === 'ubuntu');
      if (!debianLike) throw new ProvisionError('preflight-failed', `Docker Engine is not installed on ${facts.osName}: install it (https://docs.docker.com/engine/install/) and retry`);
      if (options.installDocker !== true) {
        throw new ProvisionError(
          'consent-required',
          `Docker Engine is not installed. swarmdesk can install ${facts.osName}'s docker.io package (apt-get install docker.io) and start it: allow the Docker installation to go on`,
        );
      }
      return { value: seen, message: 'not installed: installing it, as allowed' };
    }
    if (!seen.socket) throw new ProvisionError('preflight-failed', `Docker Engine is installed but not running (no ${DOCKER_SOCKET}): start it (systemctl start docker) and retry`);
    throw new ProvisionError('preflight-failed', `Docker Engine does not answer on ${DOCKER_SOCKET}${seen.detail ? `: ${seen.detail}` : ''}`);
  });

  if (found.version === undefined) {
    found = await progress.step('install-docker', "Install Docker Engine (the distribution's docker.io)", async (ctx) => {
      await conn.run(
        'installing docker.io',
        'export DEBIAN_FRONTEND=noninteractive; apt-get update -q && apt-get install -y -q --no-install-recommends docker.io ca-certificates && ' +
          '(if [ -d /run/systemd/system ]; then systemctl enable --now docker; else service docker start; fi)',
        { sudo: true, signal, timeoutMs: 15 * 60_000, onLine: ctx.onLine },
      );
      for (let i = 0; i < 30; i++) {
        const seen = await probe();
        if (seen.version !== undefined) return { value: seen, message: `Docker Engine ${seen.version} (API ${seen.apiVersion ?? 'unknown'}) installed and running` };
        await new Promise((r) => setTimeout(r, 1000));
      }
      throw new ProvisionError('preflight-failed', 'docker.io was installed but the engine does not answer');
    });
  }
  return { version: found.version ?? '', apiVersion: found.apiVersion ?? '', socket: DOCKER_SOCKET };
}
