/**
 * The managers of bench:converge: real swarmd processes (agent/cli/swarmd-main.ts, the code
 * bin/swarmd.mjs runs) on loopback, with real raft and mutual TLS, each with its own state directory
 * and control socket. converge-probe.ts is loaded into each so the benchmark can read its memory and
 * CPU time; with `cpuProfDir` each writes V8 CPU profiles into <cpuProfDir>/<name> when it stops.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ControlClient } from '../../agent/api/control-client';
import type { Node } from '../../agent/api/objects';
import { freePort, until } from '../cluster/harness';
import type { UsageReport, UsageRequest } from './converge-probe';

const REPO = resolve(import.meta.dirname, '../..');
const SWARMD_MAIN = join(REPO, 'agent/cli/swarmd-main.ts');
const PROBE = join(import.meta.dirname, 'converge-probe.ts');
/** Lines of output kept per manager, for the error message when one fails. */
const KEPT_LINES = 200;

export interface ManagerStartOptions {
  joinAddr?: string;
  joinToken?: string;
  cpuProfDir?: string;
  /** Keep each manager's whole output in <logDir>/<name>.log. */
  logDir?: string;
  logLevel: string;
}

export class ManagerProcess {
  private child: ChildProcess | undefined;
  private readonly lines: string[] = [];
  private exited: Promise<void> = Promise.resolve();
  private stopping = false;

  constructor(
    readonly name: string,
    readonly stateDir: string,
    readonly port: number,
  ) {}

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  get socket(): string {
    return join(this.stateDir, 'swarmd.sock');
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get output(): string {
    return this.lines.join('\n');
  }

  async start(options: ManagerStartOptions): Promise<void> {
    const nodeArgs = ['--import', 'tsx', '--expose-gc', '--import', PROBE];
    // One directory per manager: V8 writes a profile per thread (tsx's loader runs in a worker), the
    // main thread's is the largest.
    if (options.cpuProfDir !== undefined) nodeArgs.push('--cpu-prof', '--cpu-prof-dir', join(options.cpuProfDir, this.name));
    const args = [
      '--state-dir', this.stateDir,
      '--listen-remote-api', this.address,
      '--hostname', this.name,
      // No Docker here: the managers are drained, so they never run tasks.
      '--engine-addr', join(this.stateDir, 'no-docker.sock'),
      '--log-level', options.logLevel,
    ];
    if (options.joinAddr !== undefined) args.push('--join-addr', options.joinAddr, '--join-token', options.joinToken ?? '');
    const child = spawn(process.execPath, [...nodeArgs, SWARMD_MAIN, ...args], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    this.child = child;
    if (options.logDir !== undefined) {
      const file = createWriteStream(join(options.logDir, `${this.name}.log`), { flags: 'a' });
      child.stdout?.pipe(file);
      child.stderr?.pipe(file);
    }
    let buffer = '';
    const onData = (chunk: Buffer) => {
      buffer += chunk.toString();
      let newline;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        this.lines.push(buffer.slice(0, newline));
        if (this.lines.length > KEPT_LINES) this.lines.shift();
        buffer = buffer.slice(newline + 1);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    let running = false;
    this.exited = new Promise((done) => child.once('exit', () => done()));
    child.once('exit', (code) => {
      if (!running || this.stopping) return;
      process.stderr.write(`${this.name} exited with ${code}:\n${this.output}\n`);
    });
    await Promise.race([
      until(`${this.name} to start`, () => this.lines.some((l) => l.includes('"node running"')), 120_000, 50),
      this.exited.then(() => {
        throw new Error(`${this.name} exited before running:\n${this.output}`);
      }),
    ]);
    running = true;
  }

  /** Memory and CPU time, from inside the process (after a full GC when `gc`). */
  usage(gc: boolean): Promise<UsageReport> {
    const child = this.child;
    if (child === undefined) return Promise.reject(new Error(`${this.name} is not running`));
    return new Promise((resolveUsage, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.name} did not report its usage`)), 30_000);
      const onMessage = (message: unknown) => {
        if (typeof message !== 'object' || message === null || (message as { type?: unknown }).type !== 'usage') return;
        clearTimeout(timer);
        child.off('message', onMessage);
        resolveUsage(message as UsageReport);
      };
      child.on('message', onMessage);
      const request: UsageRequest = { type: 'usage', gc };
      child.send(request);
    });
  }

  /** SIGTERM (a clean stop, which writes the CPU profile), SIGKILL after 20 s. */
  async stop(): Promise<void> {
    const child = this.child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    this.stopping = true;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    await this.exited;
    clearTimeout(timer);
  }
}

export interface ManagerCluster {
  readonly dir: string;
  readonly managers: ManagerProcess[];
  readonly workerToken: string;
  /** The raft leader's process (the cluster's founder unless an election moved it). */
  leader(): Promise<ManagerProcess>;
  client(manager: ManagerProcess): ControlClient;
  stop(): Promise<void>;
}

/**
 * Founds a cluster on the first manager, joins the others with the manager token, waits until all are
 * READY managers, and drains them so that every task goes to the simulated workers.
 */
export async function startManagers(count: number, options: Omit<ManagerStartOptions, 'joinAddr' | 'joinToken'>): Promise<ManagerCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'swarmdesk-converge-'));
  const managers: ManagerProcess[] = [];
  const clients = new Map<ManagerProcess, ControlClient>();
  const client = (manager: ManagerProcess) => {
    let c = clients.get(manager);
    if (c === undefined) {
      c = ControlClient.forSocket(manager.socket, { timeoutMs: 120_000 });
      clients.set(manager, c);
    }
    return c;
  };
  const stop = async () => {
    for (const c of clients.values()) c.close();
    await Promise.all(managers.map((m) => m.stop()));
    await rm(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 1; i <= count; i++) managers.push(new ManagerProcess(`mgr-${i}`, join(dir, `mgr-${i}`), await freePort()));
    const [first, ...others] = managers;
    if (first === undefined) throw new Error('at least one manager');
    await first.start(options);
    const { clusters } = await client(first).listClusters({});
    const tokens = clusters[0]?.rootCa.joinTokens;
    if (tokens === undefined) throw new Error('the cluster has no join tokens');
    for (const m of others) await m.start({ ...options, joinAddr: first.address, joinToken: tokens.manager });
    const nodes = await until(`${count} READY managers`, async () => {
      const listed = (await client(first).listNodes({})).nodes;
      const ready = listed.filter((n) => n.role === 'manager' && n.status.state === 'ready' && n.managerStatus?.reachability === 'reachable');
      return ready.length === count ? listed : undefined;
    }, 120_000, 200);
    for (const node of nodes) await drain(client(first), node);
    const leader = async () => {
      const listed = (await client(first).listNodes({})).nodes;
      const addr = listed.find((n) => n.managerStatus?.leader === true)?.managerStatus?.addr;
      const found = managers.find((m) => m.address === addr);
      if (found === undefined) throw new Error(`no leader among the managers (leader address ${addr})`);
      return found;
    };
    return { dir, managers, workerToken: tokens.worker, leader, client, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function drain(client: ControlClient, node: Node): Promise<void> {
  await client.updateNode({ nodeId: node.id, version: node.meta.version, spec: { ...node.spec, availability: 'drain' } });
}
