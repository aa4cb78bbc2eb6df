/**
 * A swarmdesk cluster inside lab VMs, for the real-Docker integration tests: one swarmd per VM,
 * listening on the VM's address, keeping its state in the VM's private /var/lib and running tasks on
 * the VM's own Docker Engine. swarmctl runs in-process (test/cluster/harness.ts) against the manager's
 * control socket, which the host reaches under the VM's root directory. What the engines hold is read
 * through their own sockets, as `docker -H` would, so assertions check Docker's view, not swarmd's.
 */
import path from 'node:path';
import type Docker from 'dockerode';
import { ctlOk, joinTokens, untilNodes } from '../cluster/harness';
import type { LabVm, VmProcess } from './lab';

const REPO = path.resolve(import.meta.dirname, '../..');
const STATE_DIR = '/var/lib/swarmd';
export const SWARM_PORT = 4242;

/** One swarmd in one VM; restarts keep its state directory (and the argv, as a service manager would). */
export class LabSwarmd {
  private proc: VmProcess | undefined;
  /** Output of every run so far, for failure messages. */
  private earlier = '';

  constructor(
    readonly vm: LabVm,
    private readonly argv: readonly string[],
  ) {}

  /** The control socket as seen from the host. */
  get socket(): string {
    return path.join(this.vm.rootDir, STATE_DIR, 'swarmd.sock');
  }

  get address(): string {
    return `${this.vm.ip}:${SWARM_PORT}`;
  }

  get running(): boolean {
    return this.proc !== undefined && this.proc.child.exitCode === null && this.proc.child.signalCode === null;
  }

  /** Starts swarmd in the VM; resolves once it runs and has a session with a dispatcher. */
  async start(): Promise<void> {
    if (this.proc !== undefined) this.earlier += this.proc.output();
    const proc = this.vm.start([process.execPath, path.join(REPO, 'bin/swarmd.mjs'), ...this.argv], { name: 'swarmd', cwd: REPO });
    this.proc = proc;
    await proc.waitForOutput(/"node running"/, 60_000);
    await proc.waitForOutput(/"dispatcher session established","component":"session"/, 60_000);
  }

  /** Sends `signal` (SIGKILL after 15 s) and waits for the exit. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.proc === undefined) return { code: null, signal: null };
    return this.proc.stop(signal, 15_000);
  }

  output(): string {
    return this.earlier + (this.proc?.output() ?? '');
  }

  /** The last lines of output, for failure messages. */
  tail(lines = 30): string {
    return `--- swarmd in ${this.vm.name}:\n${this.output().trimEnd().split('\n').slice(-lines).join('\n')}`;
  }
}

/** swarmd's argv in a VM: its address, its state dir, its engine; joining through `join` if given. */
function swarmdArgv(vm: LabVm, join?: { addr: string; token: string }): string[] {
  const argv = ['--listen-remote-api', `${vm.ip}:${SWARM_PORT}`, '--state-dir', STATE_DIR, '--engine-addr', 'unix:///run/docker.sock'];
  if (join !== undefined) argv.push('--join-addr', join.addr, '--join-token', join.token);
  return argv;
}

export class LabSwarm {
  readonly nodes: LabSwarmd[] = [];
  private workerToken = '';

  private constructor(readonly manager: LabSwarmd) {
    this.nodes.push(manager);
  }

  /** A new cluster: a manager in `managerVm`, then each of `workerVms` joined as a worker. */
  static async create(managerVm: LabVm, workerVms: readonly LabVm[]): Promise<LabSwarm> {
    const swarm = new LabSwarm(new LabSwarmd(managerVm, swarmdArgv(managerVm)));
    await swarm.manager.start();
    swarm.workerToken = (await joinTokens(swarm.manager.socket)).worker;
    await Promise.all(workerVms.map((vm) => swarm.join(vm)));
    return swarm;
  }

  /** Starts swarmd in `vm`, joining as a worker; resolves once `node ls` shows it READY. */
  async join(vm: LabVm): Promise<LabSwarmd> {
    const node = new LabSwarmd(vm, swarmdArgv(vm, { addr: this.manager.address, token: this.workerToken }));
    this.nodes.push(node);
    await node.start();
    await untilNodes(this.manager.socket, `${vm.name} READY`, (rows) => rows.some((r) => r.name === vm.name && r.status === 'READY'), 60_000);
    return node;
  }

  node(vm: LabVm): LabSwarmd {
    const found = this.nodes.find((n) => n.vm === vm);
    if (found === undefined) throw new Error(`no swarmd in ${vm.name}`);
    return found;
  }

  /** swarmctl against the manager; throws with stderr on failure. */
  ctl(...args: string[]): Promise<string> {
    return ctlOk(this.manager.socket, ...args);
  }

  /** Every node's last lines, for failure messages. */
  tails(): string {
    return this.nodes.map((n) => n.tail()).join('\n');
  }

  async killAll(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.stop('SIGKILL')));
  }
}

// ------------------------------------------------------------------------------- swarmctl tables

/** A swarmctl table (`task ls`, `service ls`, `node ls`) as rows keyed by header, by column position. */
export function parseTable(text: string): Record<string, string>[] {
  const [header, rule, ...rows] = text.trimEnd().split('\n');
  if (header === undefined || rule === undefined || !/^-+/.test(rule)) throw new Error(`not a table:\n${text}`);
  const titles = header.trim().split(/\s{2,}/);
  const starts = titles.map((title) => header.indexOf(title));
  return rows.map((row) => Object.fromEntries(titles.map((title, i) => [title, row.slice(starts[i], starts[i + 1]).trim()])));
}

export interface TaskRow {
  id: string;
  service: string;
  slot: string;
  image: string;
  desired: string;
  /** The state word alone (RUNNING, FAILED, ...), without "2 seconds ago". */
  state: string;
  node: string;
}

export function parseTaskLs(text: string): TaskRow[] {
  return parseTable(text).map((r) => ({
    id: r['Task ID'] ?? '',
    service: r.Service ?? '',
    slot: r.Slot ?? '',
    image: r.Image ?? '',
    desired: r['Desired State'] ?? '',
    state: (r['Last State'] ?? '').split(' ')[0] ?? '',
    node: r.Node ?? '',
  }));
}

/** One `Key : value` line of `service inspect` / `task inspect` (the first one, keys trimmed). */
export function field(text: string, key: string): string | undefined {
  for (const line of text.split('\n')) {
    const at = line.indexOf(':');
    if (at > 0 && line.slice(0, at).trim() === key) return line.slice(at + 1).trim();
  }
  return undefined;
}

// ------------------------------------------------------------------------------- Docker's view

export interface SwarmContainer {
  id: string;
  /** `<service>.<slot or node id>.<task id>`, as Docker lists it. */
  name: string;
  taskId: string;
  image: string;
  running: boolean;
  /** Host port Docker bound for the container's port 80/tcp, if published. */
  hostPort?: number;
}

/** The containers of `service` on an engine (running ones, or all with `all`). */
export async function serviceContainers(docker: Docker, service: string, all = false): Promise<SwarmContainer[]> {
  const list = await docker.listContainers({ all, filters: { label: [`com.docker.swarm.service.name=${service}`] } });
  return list
    .map((c) => ({
      id: c.Id,
      name: (c.Names[0] ?? '').replace(/^\//, ''),
      taskId: c.Labels['com.docker.swarm.task.id'] ?? '',
      image: c.Image,
      running: c.State === 'running',
      hostPort: c.Ports.find((p) => p.PrivatePort === 80 && p.Type === 'tcp' && p.PublicPort !== undefined)?.PublicPort,
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** Every running container of any swarm service on an engine. */
export async function allSwarmContainers(docker: Docker): Promise<{ id: string; name: string; startedAt: string }[]> {
  const list = await docker.listContainers({ filters: { label: ['com.docker.swarm.task.id'] } });
  return Promise.all(
    list.map(async (c) => {
      const info = (await docker.getContainer(c.Id).inspect()) as { State: { StartedAt: string } };
      return { id: c.Id, name: (c.Names[0] ?? '').replace(/^\//, ''), startedAt: info.State.StartedAt };
    }),
  );
}

/** When Docker says the container started, in ms since the epoch (same clock as the host's). */
export async function startedAt(docker: Docker, containerId: string): Promise<number> {
  const info = (await docker.getContainer(containerId).inspect()) as { State: { StartedAt: string } };
  return Date.parse(info.State.StartedAt);
}

/** GET http://host:port/path, trimmed; throws on failure or after 5 s. */
export async function httpGet(host: string, port: number, urlPath: string): Promise<string> {
  const res = await fetch(`http://${host}:${port}${urlPath}`, { signal: AbortSignal.timeout(5000) });
  if (!res.ok) throw new Error(`GET ${host}:${port}${urlPath}: ${res.status}`);
  return (await res.text()).trim();
}
