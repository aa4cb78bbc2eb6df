/**
 * A private Docker Engine for tests: Debian's dockerd started as root with everything of its own (data
 * root, exec root, pidfile, Unix socket, all under one temp dir), so it never touches or depends on a
 * system Docker, and several test files can run one each at the same time.
 *
 * Storage is vfs (works on any filesystem, inside containers too; the test image is tiny). iptables is
 * off, so published ports go through docker-proxy: it listens on 127.0.0.1 (--ip) and forwards to the
 * container over a bridge made for this engine alone (`sdt-br<N>`, 10.231.<N>.0/24), claimed
 * atomically by creating it. Nothing is routed or masqueraded out of that bridge.
 *
 * Prerequisites: root, and the Debian packages docker.io (dockerd, containerd, runc, docker-proxy) and
 * busybox-static (the test image). Outside CI a test file without them is skipped; in CI (CI=true) it
 * must fail instead, so a broken install step can never pass as green (see dockerTestsSkipped).
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Docker from 'dockerode';

const run = promisify(execFile);

const BRIDGE_PREFIX = 'sdt-br';
const SUBNET_PREFIX = '10.231';
const MAX_BRIDGES = 200;
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 30_000;

const REQUIRED_BINARIES = ['dockerd', 'containerd', 'runc', 'docker-proxy', 'ip', 'tar'];
const SEARCH_PATH = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

function findBinary(name: string): string | undefined {
  return SEARCH_PATH.map((dir) => join(dir, name)).find((path) => existsSync(path));
}

/** Debian's busybox-static puts it in /bin (/usr/bin once /usr is merged). */
export function busyboxPath(): string | undefined {
  return ['/bin/busybox', '/usr/bin/busybox'].find((path) => existsSync(path));
}

/** What is missing to run the Docker tests here; empty when they can run. */
export function missingDockerPrerequisites(): string[] {
  const missing: string[] = [];
  if (process.platform !== 'linux') missing.push(`Linux (this is ${process.platform})`);
  if (process.getuid?.() !== 0) missing.push('root');
  for (const name of REQUIRED_BINARIES) if (findBinary(name) === undefined) missing.push(name);
  if (busyboxPath() === undefined) missing.push('busybox (Debian busybox-static)');
  return missing;
}

/**
 * True when a Docker test file should be skipped: only outside CI, and only when a prerequisite is
 * missing. In CI this is always false, and startPrivateDockerd then fails naming what is missing.
 */
export function dockerTestsSkipped(): boolean {
  return process.env.CI !== 'true' && missingDockerPrerequisites().length > 0;
}

export interface PrivateDockerd {
  /** `unix:///...`: what swarmd's --engine-addr takes. */
  readonly engineAddr: string;
  readonly socketPath: string;
  /** A dockerode client of this engine. */
  readonly docker: Docker;
  /** The address published ports listen on. */
  readonly hostIp: string;
  /** The engine's log so far (for failure messages). */
  log(): Promise<string>;
  /** Removes every container, stops the daemon, deletes its bridge and its files. */
  stop(): Promise<void>;
}

async function ip(...args: string[]): Promise<void> {
  await run('ip', args);
}

/** Creates a free `sdt-br<N>` bridge; creation fails if another engine holds that name, so N is ours. */
async function claimBridge(): Promise<{ name: string; cidr: string }> {
  const { stdout } = await run('ip', ['-4', '-o', 'addr', 'show']);
  for (let n = 1; n <= MAX_BRIDGES; n++) {
    const subnet = `${SUBNET_PREFIX}.${n}.`;
    if (stdout.includes(` ${subnet}`)) continue; // a leftover of a crashed run, or someone else's
    const name = `${BRIDGE_PREFIX}${n}`;
    try {
      await ip('link', 'add', 'name', name, 'type', 'bridge');
    } catch {
      continue;
    }
    const cidr = `${subnet}1/24`;
    await ip('addr', 'add', cidr, 'dev', name);
    await ip('link', 'set', name, 'up');
    return { name, cidr };
  }
  throw new Error(`no free ${BRIDGE_PREFIX}<N> bridge among ${MAX_BRIDGES}`);
}

async function waitForEngine(docker: Docker, child: ChildProcess, logPath: string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  let lastError = '';
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) break;
    try {
      await docker.ping();
      return;
    } catch (err) {
      lastError = err instanceof Error ? err.message : String(err);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const log = await readFile(logPath, 'utf8').catch(() => '');
  throw new Error(`private dockerd did not come up (${lastError}); its log ends with:\n${log.split('\n').slice(-20).join('\n')}`);
}

function exited(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

export async function startPrivateDockerd(): Promise<PrivateDockerd> {
  const missing = missingDockerPrerequisites();
  if (missing.length > 0) {
    throw new Error(`cannot start a private dockerd, missing: ${missing.join(', ')} (apt-get install -y docker.io busybox-static, as root)`);
  }
  const dir = await mkdtemp(join(tmpdir(), 'swarmdesk-dockerd-'));
  const socketPath = join(dir, 'docker.sock');
  const logPath = join(dir, 'dockerd.log');
  const bridge = await claimBridge();
  const logFd = openSync(logPath, 'a');
  const child = spawn(
    findBinary('dockerd') ?? 'dockerd',
    [
      '--data-root', join(dir, 'data'),
      '--exec-root', join(dir, 'exec'),
      '--pidfile', join(dir, 'docker.pid'),
      '--host', `unix://${socketPath}`,
      '--storage-driver', 'vfs',
      '--iptables=false',
      '--ip6tables=false',
      '--ip-masq=false',
      '--ip-forward=false',
      '--bridge', bridge.name,
      '--ip', '127.0.0.1',
    ],
    // The engine's PATH must reach containerd, runc and docker-proxy.
    { stdio: ['ignore', logFd, logFd], env: { ...process.env, PATH: `${SEARCH_PATH.join(':')}:${process.env.PATH ?? ''}` } },
  );
  closeSync(logFd);
  const docker = new Docker({ socketPath, host: undefined, timeout: 60_000 });

  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    // Containers go first, killed at once: dockerd would otherwise give each its stop grace on exit.
    try {
      const containers = await docker.listContainers({ all: true });
      await Promise.all(containers.map((c) => docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined)));
    } catch {
      // the engine is already gone
    }
    child.kill('SIGTERM');
    if (!(await exited(child, STOP_TIMEOUT_MS))) {
      child.kill('SIGKILL');
      await exited(child, 5000);
    }
    await ip('link', 'delete', bridge.name).catch(() => undefined);
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
  };

  try {
    await waitForEngine(docker, child, logPath);
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    engineAddr: `unix://${socketPath}`,
    socketPath,
    docker,
    hostIp: '127.0.0.1',
    log: () => readFile(logPath, 'utf8').catch(() => ''),
    stop,
  };
}
