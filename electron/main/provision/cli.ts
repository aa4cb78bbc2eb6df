/**
 * swarmdesk-provision: the provisioning flow without the UI, for scripting. Same inputs as the desktop
 * form, same steps printed one per line (or as JSON lines with --json). Secrets are never arguments:
 * passwords and passphrases come from an environment variable named by a flag, or from stdin.
 *
 *   swarmdesk-provision add    --host 10.0.0.5 --user root --key ~/.ssh/id_ed25519 --role worker --manager-socket <sock>
 *   swarmdesk-provision test   --host 10.0.0.5 ...            connection and preflight only
 *   swarmdesk-provision remove --host 10.0.0.5 ...            drain, stop, uninstall, remove the node
 * Exit codes: 0 done, 1 failed, 2 bad usage, 3 the host key must be trusted first (--trust <fingerprint>).
 */
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { ControlClient } from '../../../agent/api/control-client';
import type { NodeRole } from '../../../agent/api/objects';
import { loadAgentBundle } from './bundle';
import { errorMessage } from './errors';
import { KnownHosts } from './known-hosts';
import { type MachineRequest, Provisioner } from './provisioner';
import type { SshAuth } from './ssh';
import type { ProvisionEvent, ProvisionOutcome } from './steps';

interface Flags {
  host: string[];
  port: number;
  user: string;
  key?: string;
  passphraseEnv?: string;
  agent?: boolean;
  passwordEnv?: string;
  passwordStdin?: boolean;
  sudoPasswordEnv?: string;
  role: NodeRole;
  label: string[];
  managerSocket?: string;
  managerAddr?: string;
  advertiseAddr?: string;
  knownHosts: string;
  trust?: string;
  installDocker?: boolean;
  bundle: string;
  readyTimeout: number;
  json?: boolean;
  verbose?: boolean;
}

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: NodeJS.ProcessEnv;
  readStdin: () => Promise<string>;
}

const REPO = resolve(import.meta.dirname, '../../..');
export const DEFAULT_KNOWN_HOSTS = join(homedir(), '.config', 'swarmdesk', 'known_hosts');

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new InvalidArgumentError('must be 1-65535');
  return n;
}

function seconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a positive number of seconds');
  return n;
}

function command(): Command {
  const collect = (value: string, previous: string[]) => [...previous, value];
  const program = new Command('swarmdesk-provision').description('Turn machines reachable over SSH into swarmdesk cluster nodes').exitOverride();
  const machineOptions = (cmd: Command) =>
    cmd
      .option('--host <host>', 'the machine (repeat for several, provisioned at once)', collect, [])
      .option('--port <port>', 'SSH port', port, 22)
      .option('--user <user>', 'SSH user (root, or a user with sudo)', 'root')
      .option('--key <path>', 'private key file (ed25519, ECDSA or RSA)')
      .option('--passphrase-env <var>', "environment variable holding the key's passphrase")
      .option('--agent', 'authenticate with the keys in ssh-agent ($SSH_AUTH_SOCK)')
      .option('--password-env <var>', 'environment variable holding the SSH password')
      .option('--password-stdin', 'read the SSH password from the first line of stdin')
      .option('--sudo-password-env <var>', 'environment variable holding the sudo password (default: the SSH password)')
      .option('--known-hosts <path>', 'trusted host keys (OpenSSH format)', DEFAULT_KNOWN_HOSTS)
      .option('--trust <fingerprint>', 'trust this host key fingerprint (SHA256:...) on first contact')
      .option('--manager-socket <path>', "the manager's control socket")
      .option('--manager-addr <host:port>', 'the manager address the machine joins through (default: this machine as the VM sees it, port 4242)')
      .option('--json', 'print every event as a JSON line')
      .option('-v, --verbose', 'print remote output too');
  machineOptions(program.command('add').description('install the agent and join the cluster (again: upgrade in place)'))
    .addOption(new Option('--role <role>', 'node role').choices(['worker', 'manager']).default('worker'))
    .option('--label <key=value>', 'node label (repeatable)', collect, [])
    .option('--advertise-addr <host:port>', 'address the node advertises (default: the SSH address, port 4242)')
    .option('--install-docker', "install the distribution's docker.io if Docker is missing (Debian/Ubuntu)")
    .option('--bundle <dir>', 'agent bundle directory (npm run build:agent)', join(REPO, 'resources', 'agent'))
    .option('--ready-timeout <seconds>', 'how long to wait for READY', seconds, 120);
  machineOptions(program.command('test').description('connect and run the preflight checks; install nothing'));
  machineOptions(program.command('remove').description('drain, stop and uninstall the agent; remove the node from the cluster'));
  return program;
}

function symbol(event: Extract<ProvisionEvent, { kind: 'step' }>): string {
  return { running: '...', ok: 'ok', failed: 'FAILED', skipped: 'skipped' }[event.status];
}

export function formatEvent(event: ProvisionEvent, verbose: boolean): string | undefined {
  if (event.kind === 'step') {
    const message = event.message ? `: ${event.message}` : '';
    return `${event.machine}  ${symbol(event).padEnd(7)} ${event.title}${event.status === 'running' ? '' : message}`;
  }
  if (event.kind === 'output') return verbose ? `${event.machine}          | ${event.line}` : undefined;
  const { outcome } = event;
  if (outcome.ok) return `${event.machine}  done    ${outcome.message}`;
  const hint = outcome.error.code === 'host-key-unknown' && outcome.error.hostKey ? ` (to trust it: --trust ${outcome.error.hostKey.fingerprint})` : '';
  return `${event.machine}  error   [${outcome.error.code}] ${outcome.error.message}${hint}`;
}

async function secretFrom(io: CliIo, envName: string | undefined, what: string): Promise<string | undefined> {
  if (envName === undefined) return undefined;
  const value = io.env[envName];
  if (value === undefined) throw new InvalidArgumentError(`${what}: the environment variable ${envName} is not set`);
  return value;
}

async function authFrom(flags: Flags, io: CliIo): Promise<SshAuth> {
  const chosen = [flags.key !== undefined, flags.agent === true, flags.passwordEnv !== undefined || flags.passwordStdin === true].filter(Boolean).length;
  if (chosen !== 1) throw new InvalidArgumentError('choose one way to log in: --key <path>, --agent, or --password-env <var> / --password-stdin');
  if (flags.key !== undefined) return { method: 'key', keyPath: flags.key, passphrase: await secretFrom(io, flags.passphraseEnv, '--passphrase-env') };
  if (flags.agent === true) return { method: 'agent' };
  const password = flags.passwordStdin === true ? (await io.readStdin()).split('\n')[0] ?? '' : await secretFrom(io, flags.passwordEnv, '--password-env');
  return { method: 'password', password: password ?? '' };
}

function parseHostPort(value: string, flag: string): { host: string; port: number } {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(value);
  if (m === null) throw new InvalidArgumentError(`${flag} ${value}: give host:port`);
  return { host: m[1], port: port(m[2]) };
}

function parseLabels(labels: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const label of labels) {
    const at = label.indexOf('=');
    if (at <= 0) throw new InvalidArgumentError(`--label ${label}: give key=value`);
    out[label.slice(0, at)] = label.slice(at + 1);
  }
  return out;
}

/** Runs the command; resolves with the exit code. */
export async function runProvisionCli(argv: readonly string[], io: CliIo): Promise<number> {
  const program = command();
  let action: 'add' | 'test' | 'remove' | undefined;
  let flags: Flags | undefined;
  for (const sub of program.commands) {
    sub.exitOverride().configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
    sub.action((opts: Flags) => {
      action = sub.name() as 'add' | 'test' | 'remove';
      flags = opts;
    });
  }
  program.configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
  try {
    program.parse(argv, { from: 'user' });
  } catch (err) {
    const code = (err as { exitCode?: number }).exitCode;
    return code === 0 ? 0 : 2;
  }
  if (action === undefined || flags === undefined) {
    io.stderr(program.helpInformation());
    return 2;
  }
  const f = flags;
  let control: ControlClient | undefined;
  try {
    if (f.host.length === 0) throw new InvalidArgumentError('give at least one --host');
    const auth = await authFrom(f, io);
    const sudoPassword = await secretFrom(io, f.sudoPasswordEnv, '--sudo-password-env');
    const manager = f.managerAddr !== undefined ? parseHostPort(f.managerAddr, '--manager-addr') : undefined;
    const labels = parseLabels(f.label ?? []);
    if (action !== 'test' && f.managerSocket === undefined) throw new InvalidArgumentError('--manager-socket <path> is needed to join or remove nodes');
    control = f.managerSocket !== undefined ? ControlClient.forSocket(f.managerSocket) : undefined;
    const bundle = action === 'add' ? await loadAgentBundle(f.bundle) : { dir: '', manifest: { version: '', nodeVersion: '', bundle: { file: '', sha256: '' }, runtimes: {} } };
    const provisioner = new Provisioner({
      knownHosts: new KnownHosts(f.knownHosts),
      bundle,
      // `test` never reaches the cluster.
      cluster: control ?? ControlClient.forSocket('/nonexistent'),
      readyTimeoutMs: (f.readyTimeout ?? 120) * 1000,
    });
    const requests: MachineRequest[] = f.host.map((host) => ({
      target: { host, port: f.port, username: f.user, auth, sudoPassword },
      role: f.role ?? 'worker',
      labels,
      trustFingerprint: f.trust,
      installDocker: f.installDocker === true,
      manager,
      advertiseAddress: f.advertiseAddr,
    }));
    const listener = (event: ProvisionEvent) => {
      if (f.json === true) {
        io.stdout(`${JSON.stringify(event)}\n`);
        return;
      }
      const line = formatEvent(event, f.verbose === true);
      if (line !== undefined) io.stdout(`${line}\n`);
    };
    const controller = new AbortController();
    const onSignal = () => controller.abort();
    process.once('SIGINT', onSignal);
    let outcomes: ProvisionOutcome[];
    try {
      const run = { listener, signal: controller.signal };
      outcomes = await Promise.all(
        requests.map((req) => (action === 'add' ? provisioner.provision(req, run) : action === 'remove' ? provisioner.remove(req, run) : provisioner.test(req, run))),
      );
    } finally {
      process.removeListener('SIGINT', onSignal);
    }
    if (outcomes.every((o) => o.ok)) return 0;
    if (outcomes.some((o) => !o.ok && o.error.code === 'host-key-unknown')) return 3;
    return 1;
  } catch (err) {
    io.stderr(`swarmdesk-provision: ${errorMessage(err)}\n`);
    return err instanceof InvalidArgumentError ? 2 : 1;
  } finally {
    control?.close();
  }
}
