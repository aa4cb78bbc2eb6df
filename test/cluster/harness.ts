/**
 * A cluster of real swarmd processes on loopback for integration tests: each node gets its own state
 * directory, port and control socket, and swarmctl runs against them (in-process, the same code as
 * the bin). Every process is killed and every directory removed at cleanup.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { runSwarmctl } from '../../agent/cli/swarmctl';

const REPO = resolve(import.meta.dirname, '../..');
const SWARMD_BIN = join(REPO, 'bin/swarmd.mjs');

export interface CtlResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

export async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 30_000, everyMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last instanceof Error ? ` (last error: ${last.message})` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export class SwarmdProcess {
  child: ChildProcess | undefined;
  readonly lines: string[] = [];
  private exitCode: Promise<number | null> = Promise.resolve(null);

  constructor(
    readonly name: string,
    readonly stateDir: string,
    readonly port: number,
    private readonly baseArgs: string[],
  ) {}

  get socket(): string {
    return join(this.stateDir, 'swarmd.sock');
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts the process; resolves once it logs "node running", rejects with its output if it exits first. */
  async start(extraArgs: string[] = []): Promise<void> {
    const child = spawn(process.execPath, [SWARMD_BIN, ...this.baseArgs, ...extraArgs], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    let buffer = '';
    const onData = (chunk: Buffer) => {
      buffer += chunk.toString();
      let newline;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        this.lines.push(buffer.slice(0, newline));
        buffer = buffer.slice(newline + 1);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    this.exitCode = new Promise((done) => child.once('exit', (code) => done(code)));
    await Promise.race([
      until(`${this.name} to start`, () => this.lines.some((l) => l.includes('"node running"')), 60_000, 50),
      this.exitCode.then((code) => {
        throw new Error(`${this.name} exited with ${code} before running:\n${this.lines.join('\n')}`);
      }),
    ]);
  }

  /** Starts and expects the process to fail; resolves with its exit code and output. */
  async startExpectingFailure(extraArgs: string[] = []): Promise<{ code: number | null; output: string }> {
    const started = this.start(extraArgs).then(
      () => 'running' as const,
      () => 'exited' as const,
    );
    if ((await started) === 'running') throw new Error(`${this.name} started although it should have failed`);
    return { code: await this.exitCode, output: this.lines.join('\n') };
  }

  exited(): Promise<number | null> {
    return this.exitCode;
  }

  kill(signal: NodeJS.Signals): void {
    this.child?.kill(signal);
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.child?.kill('SIGTERM');
    const timer = setTimeout(() => this.child?.kill('SIGKILL'), 10_000);
    await this.exitCode;
    clearTimeout(timer);
  }
}

export interface LabNodeOptions {
  hostname?: string;
  joinAddr?: string;
  joinToken?: string;
  extraArgs?: string[];
}

export class SwarmLab {
  readonly nodes: SwarmdProcess[] = [];

  private constructor(readonly dir: string) {}

  static async create(): Promise<SwarmLab> {
    return new SwarmLab(await mkdtemp(join(tmpdir(), 'swarmdesk-lab-')));
  }

  /** A node process (not started), on its own port and state directory. */
  async node(name: string, options: LabNodeOptions = {}): Promise<SwarmdProcess> {
    const port = await freePort();
    const args = [
      '--state-dir', join(this.dir, name),
      '--listen-remote-api', `127.0.0.1:${port}`,
      '--hostname', options.hostname ?? name,
      '--engine-addr', join(this.dir, 'no-docker.sock'),
      '--log-level', 'debug',
    ];
    if (options.joinAddr !== undefined) args.push('--join-addr', options.joinAddr);
    if (options.joinToken !== undefined) args.push('--join-token', options.joinToken);
    const proc = new SwarmdProcess(name, join(this.dir, name), port, [...args, ...(options.extraArgs ?? [])]);
    this.nodes.push(proc);
    return proc;
  }

  async startNode(name: string, options: LabNodeOptions = {}): Promise<SwarmdProcess> {
    const proc = await this.node(name, options);
    await proc.start();
    return proc;
  }

  async cleanup(): Promise<void> {
    for (const node of this.nodes) node.kill('SIGKILL');
    await Promise.all(this.nodes.map((node) => node.exited()));
    await this.keepLogs();
    await rm(this.dir, { recursive: true, force: true });
  }

  /** Prints the last lines each node logged: called when a test fails, so CI shows what the nodes did. */
  printLogTails(lines = 80): void {
    for (const node of this.nodes) {
      process.stderr.write(`\n----- last ${lines} log lines of ${node.name} -----\n${node.lines.slice(-lines).join('\n')}\n`);
    }
  }

  /** With SWARMD_LAB_LOGS=<dir>, every node's whole log is kept there (the lab directory itself is removed). */
  private async keepLogs(): Promise<void> {
    const dir = process.env.SWARMD_LAB_LOGS;
    if (dir === undefined || dir === '') return;
    await mkdir(dir, { recursive: true });
    const lab = basename(this.dir);
    await Promise.all(this.nodes.map((node) => writeFile(join(dir, `${lab}-${node.name}.log`), `${node.lines.join('\n')}\n`)));
  }
}

/** Runs swarmctl against a control socket, capturing its output. */
export async function swarmctl(socket: string, ...args: string[]): Promise<CtlResult> {
  let stdout = '';
  let stderr = '';
  const code = await runSwarmctl(['--socket', socket, ...args], {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    env: {},
  });
  return { code, stdout, stderr };
}

/** swarmctl that must succeed: returns stdout, throws with stderr otherwise. */
export async function ctlOk(socket: string, ...args: string[]): Promise<string> {
  const result = await swarmctl(socket, ...args);
  if (result.code !== 0) throw new Error(`swarmctl ${args.join(' ')} failed: ${result.stderr}`);
  return result.stdout;
}

export interface NodeRow {
  id: string;
  name: string;
  membership: string;
  status: string;
  availability: string;
  managerStatus: string;
}

/** Parses `node ls` by the header's column positions (Name may be empty). */
export function parseNodeLs(text: string): NodeRow[] {
  const [header, rule, ...rows] = text.trimEnd().split('\n');
  if (header === undefined || rule === undefined) throw new Error(`not a node ls table:\n${text}`);
  const columns = ['ID', 'Name', 'Membership', 'Status', 'Availability', 'Manager Status'].map((title) => header.indexOf(title));
  const cell = (row: string, i: number) => row.slice(columns[i], i + 1 < columns.length ? columns[i + 1] : undefined).trim();
  return rows.map((row) => ({
    id: cell(row, 0),
    name: cell(row, 1),
    membership: cell(row, 2),
    status: cell(row, 3),
    availability: cell(row, 4),
    managerStatus: cell(row, 5),
  }));
}

/** The worker and manager tokens from `cluster inspect default`. */
export async function joinTokens(socket: string): Promise<{ worker: string; manager: string }> {
  const text = await ctlOk(socket, 'cluster', 'inspect', 'default');
  const worker = /Worker: (SWMTKN-\S+)/.exec(text)?.[1];
  const manager = /Manager: (SWMTKN-\S+)/.exec(text)?.[1];
  if (worker === undefined || manager === undefined) throw new Error(`no tokens in:\n${text}`);
  return { worker, manager };
}

/** `node ls` rows as seen through `socket`. */
export async function nodeRows(socket: string): Promise<NodeRow[]> {
  return parseNodeLs(await ctlOk(socket, 'node', 'ls'));
}

/** Waits until `node ls` through `socket` satisfies `check`; returns the rows. */
export function untilNodes(socket: string, what: string, check: (rows: NodeRow[]) => boolean, timeoutMs = 30_000): Promise<NodeRow[]> {
  return until(what, async () => {
    const rows = await nodeRows(socket);
    return check(rows) ? rows : undefined;
  }, timeoutMs);
}

export function rowNamed(rows: NodeRow[], name: string): NodeRow {
  const row = rows.find((r) => r.name === name);
  if (row === undefined) throw new Error(`no node named ${name} in ${JSON.stringify(rows)}`);
  return row;
}
