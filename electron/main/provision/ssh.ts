/**
 * The SSH layer of provisioning (ssh2, pure JavaScript): connect with a private key (ed25519, ECDSA,
 * RSA; optional passphrase), the ssh-agent or a password; check the host key against our known_hosts;
 * run commands (optionally through sudo) with streamed output, exit codes, timeouts and cancellation;
 * upload files over SFTP. Every failure becomes a ProvisionError with one clear message.
 *
 * Secrets (password, passphrase, sudo password) live only in the objects the caller passes: they are
 * never put on a remote command line (sudo reads its password on stdin) and never in a message.
 */
import { readFile } from 'node:fs/promises';
import ssh2, { type Client, type ClientChannel, type ConnectConfig, type SFTPWrapper } from 'ssh2';
import { errorMessage, ProvisionError } from './errors';
import { type HostKey, hostKeyFromBlob, type KnownHosts } from './known-hosts';
import { shellQuote } from './shell';

export type SshAuth =
  | { method: 'key'; /** Path of the private key file. */ keyPath?: string; /** Or its content. */ privateKey?: string; passphrase?: string }
  | { method: 'agent'; /** ssh-agent socket; default $SSH_AUTH_SOCK. */ socket?: string }
  | { method: 'password'; password: string };

export interface SshTarget {
  host: string;
  /** Default 22. */
  port?: number;
  username: string;
  auth: SshAuth;
  /** Password for sudo when `username` is not root; default the login password (password auth). */
  sudoPassword?: string;
}

export interface ConnectOptions {
  knownHosts: KnownHosts;
  /** A fingerprint (`SHA256:...`) the user accepted for this host: recorded if the host presents it. */
  trustFingerprint?: string;
  /** Time for TCP connect + SSH handshake + authentication; default 20 s. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface ExecOptions {
  /** Run as root: directly when logged in as root, else through sudo. */
  sudo?: boolean;
  /** Written to the command's stdin, then stdin is closed. */
  stdin?: string;
  /** Each complete line of output, as it arrives. */
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
  /** Default 5 minutes. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface ExecResult {
  code: number | null;
  signal?: string;
  stdout: string;
  stderr: string;
}

// ssh2 is CommonJS: Node's ESM loader sees only its default export.
const { Client: SshClient, utils } = ssh2;

const DEFAULT_CONNECT_TIMEOUT_MS = 20_000;
const DEFAULT_EXEC_TIMEOUT_MS = 5 * 60_000;
const PID_MARKER = '__swarmdesk_pid=';
const MARKER_LINE = new RegExp(`^${PID_MARKER}\\d+\\n`);
/** The command's exit code, printed by the remote shell after it: see exec. */
const EXIT_MARKER = '__swarmdesk_exit=';
const EXIT_MARKER_LINE = new RegExp(`^(.*)${EXIT_MARKER}(\\d+)$`, 's');
const EXIT_MARKER_TAIL = new RegExp(`${EXIT_MARKER}\\d+\\n?$`);

/** Host key algorithms we accept, in our order of preference. */
const HOST_KEY_ALGORITHMS = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
];

/** Prefer the key types already trusted for a host, as OpenSSH does, so a known host never looks changed. */
function hostKeyOrder(known: readonly HostKey[]): string[] {
  const wanted = new Set(known.flatMap((k) => (k.type === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [k.type])));
  return [...HOST_KEY_ALGORITHMS.filter((a) => wanted.has(a)), ...HOST_KEY_ALGORITHMS.filter((a) => !wanted.has(a))];
}

export function describeTarget(target: Pick<SshTarget, 'host' | 'port' | 'username'>): string {
  return `${target.username}@${target.host}${(target.port ?? 22) === 22 ? '' : `:${target.port}`}`;
}

/** The private key's content, checked before connecting so a key problem is not reported as a refusal. */
async function loadKey(auth: Extract<SshAuth, { method: 'key' }>): Promise<string> {
  const name = auth.keyPath ?? 'the private key';
  let data = auth.privateKey;
  if (data === undefined) {
    if (auth.keyPath === undefined) throw new ProvisionError('invalid-argument', 'choose a private key file');
    try {
      data = await readFile(auth.keyPath, 'utf8');
    } catch (err) {
      throw new ProvisionError('key-invalid', `cannot read the private key ${auth.keyPath}: ${errorMessage(err)}`);
    }
  }
  const parsed = utils.parseKey(data, auth.passphrase);
  if (parsed instanceof Error) {
    if (/no passphrase given/i.test(parsed.message)) {
      throw new ProvisionError('key-encrypted', `${name} is encrypted: give its passphrase`);
    }
    if (auth.passphrase !== undefined && auth.passphrase !== '' && /decrypt|passphrase|bad/i.test(parsed.message)) {
      throw new ProvisionError('key-invalid', `cannot decrypt ${name}: wrong passphrase?`);
    }
    throw new ProvisionError('key-invalid', `${name} is not a private key swarmdesk can use (ed25519, ECDSA or RSA, OpenSSH or PEM format): ${parsed.message}`);
  }
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (key === undefined || !key.isPrivateKey()) throw new ProvisionError('key-invalid', `${name} holds no private key`);
  return data;
}

function authMethodName(auth: SshAuth): string {
  if (auth.method === 'password') return 'password';
  if (auth.method === 'agent') return 'the keys in ssh-agent';
  return `the key ${auth.keyPath ?? ''}`.trimEnd();
}

/** Maps what ssh2 and the socket report to one of our failures. */
function connectFailure(err: Error & { code?: string; level?: string }, target: SshTarget, timeoutMs: number): ProvisionError {
  const where = `${target.host}:${target.port ?? 22}`;
  switch (err.code) {
    case 'ECONNREFUSED':
      return new ProvisionError('refused', `${where} refused the connection: is sshd running and listening on port ${target.port ?? 22}?`);
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EHOSTDOWN':
    case 'EADDRNOTAVAIL':
      return new ProvisionError('unreachable', `${target.host} is unreachable from this machine (no route to host): check the address and that the machine is up`);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new ProvisionError('unreachable', `the host name ${target.host} does not resolve`);
    case 'ETIMEDOUT':
      return new ProvisionError('timeout', `${where} did not answer within ${Math.round(timeoutMs / 1000)} s: is the machine up, and is the port open in its firewall?`);
    case 'ECONNRESET':
    case 'EPIPE':
      return new ProvisionError('connection-lost', `${where} closed the connection during the SSH handshake`);
    default:
  }
  if (err.level === 'client-authentication') {
    return new ProvisionError('auth-failed', `${describeTarget(target)} refused ${authMethodName(target.auth)}: wrong ${target.auth.method === 'password' ? 'password' : 'key'}, or the user may not log in this way`);
  }
  if (err.level === 'client-timeout') {
    return new ProvisionError('timeout', `no SSH handshake with ${where} within ${Math.round(timeoutMs / 1000)} s: is it an SSH server, and is the machine up?`);
  }
  if (err.level === 'agent') {
    return new ProvisionError('agent-unavailable', `ssh-agent did not answer: ${err.message}`);
  }
  return new ProvisionError('connection-lost', `SSH connection to ${where} failed: ${err.message}`);
}

/** Opens an SSH connection: the host key checked, the user authenticated. */
export async function connectSsh(target: SshTarget, options: ConnectOptions): Promise<SshConnection> {
  const port = target.port ?? 22;
  if (target.host.trim() === '') throw new ProvisionError('invalid-argument', 'give the machine\'s host name or address');
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new ProvisionError('invalid-argument', `port ${port}: must be 1-65535`);
  if (options.signal?.aborted) throw new ProvisionError('cancelled', 'cancelled');
  const timeoutMs = options.timeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const config: ConnectConfig = { host: target.host, port, username: target.username, readyTimeout: timeoutMs, keepaliveInterval: 15_000, keepaliveCountMax: 4 };
  const { auth } = target;
  if (auth.method === 'key') {
    config.privateKey = await loadKey(auth);
    if (auth.passphrase !== undefined && auth.passphrase !== '') config.passphrase = auth.passphrase;
  } else if (auth.method === 'agent') {
    const socket = auth.socket ?? process.env.SSH_AUTH_SOCK;
    if (socket === undefined || socket === '') throw new ProvisionError('agent-unavailable', 'no ssh-agent is running for this session (SSH_AUTH_SOCK is not set)');
    config.agent = socket;
  } else {
    config.password = auth.password;
    config.tryKeyboard = true;
  }

  const known = await options.knownHosts.lookup(target.host, port);
  config.algorithms = { serverHostKey: hostKeyOrder(known) } as ConnectConfig['algorithms'];
  let hostKeyProblem: ProvisionError | undefined;
  let newlyTrusted: HostKey | undefined;
  config.hostVerifier = (blob: Buffer): boolean => {
    const key = hostKeyFromBlob(blob);
    if (known.some((k) => k.base64 === key.base64)) return true;
    if (known.length > 0) {
      hostKeyProblem = new ProvisionError(
        'host-key-mismatch',
        `the host key of ${target.host}:${port} has changed (it now presents ${key.type} ${key.fingerprint}; trusted: ${known.map((k) => k.fingerprint).join(', ')}). ` +
          'Someone may be intercepting the connection (possible man-in-the-middle attack); refusing to connect. ' +
          `If the machine was reinstalled, remove its entry from ${options.knownHosts.path} and trust the new key.`,
        key,
      );
      return false;
    }
    if (options.trustFingerprint === key.fingerprint) {
      newlyTrusted = key;
      return true;
    }
    hostKeyProblem = new ProvisionError(
      'host-key-unknown',
      `first connection to ${target.host}:${port}: its ${key.type} host key fingerprint is ${key.fingerprint}. ` +
        'Trust it only if it matches the one the machine itself shows (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub on it).',
      key,
    );
    return false;
  };

  const client = new SshClient();
  await new Promise<void>((resolve, reject) => {
    let settled = false;
    const finish = (err?: ProvisionError) => {
      if (settled) return;
      settled = true;
      options.signal?.removeEventListener('abort', onAbort);
      if (err) {
        client.end();
        reject(err);
      } else resolve();
    };
    const onAbort = () => finish(new ProvisionError('cancelled', 'cancelled'));
    options.signal?.addEventListener('abort', onAbort, { once: true });
    client.once('ready', () => finish());
    client.once('error', (err: Error & { code?: string; level?: string }) => finish(hostKeyProblem ?? connectFailure(err, target, timeoutMs)));
    client.once('close', () => finish(hostKeyProblem ?? new ProvisionError('connection-lost', `${target.host}:${port} closed the connection during the SSH handshake`)));
    client.on('keyboard-interactive', (_name, _instructions, _lang, prompts, reply) => {
      reply(prompts.map(() => (auth.method === 'password' ? auth.password : '')));
    });
    try {
      client.connect(config);
    } catch (err) {
      finish(new ProvisionError('invalid-argument', `cannot connect to ${target.host}:${port}: ${errorMessage(err)}`));
    }
  });
  if (newlyTrusted !== undefined) await options.knownHosts.add(target.host, port, newlyTrusted);
  return new SshConnection(client, target);
}

/** Splits a byte stream into lines for a callback; keeps the whole text too. */
class LineSplitter {
  text = '';
  private partial = '';

  constructor(private readonly emit: ((line: string) => void) | undefined) {}

  push(chunk: Buffer): void {
    const s = chunk.toString('utf8');
    this.text += s;
    if (this.emit === undefined) return;
    const lines = (this.partial + s).split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) this.emit(line.replace(/\r$/, ''));
  }

  end(): void {
    if (this.partial !== '' && this.emit !== undefined) this.emit(this.partial);
    this.partial = '';
  }
}

const SUDO_REFUSALS =
  /^sudo: (a password is required|.*incorrect password|\d+ incorrect password attempts?|a terminal is required)|^Sorry, try again\.|is not in the sudoers file|is not allowed to execute|may not run sudo|sudo: (command )?not found|sudo: not found/m;

export class SshConnection {
  private sftpSession: Promise<SFTPWrapper> | undefined;

  constructor(
    private readonly client: Client,
    readonly target: SshTarget,
  ) {}

  get isRoot(): boolean {
    return this.target.username === 'root';
  }

  private get sudoPassword(): string | undefined {
    return this.target.sudoPassword ?? (this.target.auth.method === 'password' ? this.target.auth.password : undefined);
  }

  /**
   * Runs `command` with /bin/sh on the remote machine. Resolves with its exit code and output (a
   * non-zero code is a result, not an error); rejects on timeout, cancellation, a lost connection,
   * or sudo refusing.
   */
  async exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    let remote = `sh -c ${shellQuote(command)}`;
    let stdin = options.stdin;
    const viaSudo = options.sudo === true && !this.isRoot;
    if (viaSudo) {
      const password = this.sudoPassword;
      if (password !== undefined) {
        // -S: the password on stdin, -p '': no prompt in the output. Never on the command line.
        remote = `sudo -S -p '' -- ${remote}`;
        stdin = `${password}\n${stdin ?? ''}`;
      } else {
        remote = `sudo -n -- ${remote}`;
      }
    }
    // sshd starts each command in a session of its own: its pid is the process group of everything the
    // command starts, which is what a timeout or a cancel kills (closing the channel alone would leave
    // e.g. a `sleep` holding the channel open).
    // The shell also prints the command's exit code after it: sshd's exit-status message is optional
    // in the protocol, and a channel has been seen to close without one ("exit unknown").
    remote = `echo ${PID_MARKER}$$ >&2; ${remote}; echo ${EXIT_MARKER}$? >&2`;
    const timeoutMs = options.timeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS;
    if (options.signal?.aborted) throw new ProvisionError('cancelled', 'cancelled');
    const channel = await new Promise<ClientChannel>((resolve, reject) => {
      try {
        this.client.exec(remote, (err, ch) => (err ? reject(new ProvisionError('connection-lost', `could not run a command on ${this.target.host}: ${err.message}`)) : resolve(ch)));
      } catch (err) {
        reject(new ProvisionError('connection-lost', `could not run a command on ${this.target.host}: ${errorMessage(err)}`));
      }
    });
    const out = new LineSplitter(options.onLine && ((line) => options.onLine?.(line, 'stdout')));
    let remotePid: number | undefined;
    let markedCode: number | undefined;
    const err = new LineSplitter((line) => {
      if (remotePid === undefined && line.startsWith(PID_MARKER)) {
        remotePid = Number(line.slice(PID_MARKER.length));
        return;
      }
      const exit = EXIT_MARKER_LINE.exec(line);
      if (exit !== null) {
        markedCode = Number(exit[2]);
        // The command's last stderr line may lack its newline: the marker then shares its line.
        if (exit[1] !== '') options.onLine?.(exit[1] ?? '', 'stderr');
        return;
      }
      options.onLine?.(line, 'stderr');
    });
    const result = await new Promise<ExecResult>((resolve, reject) => {
      let code: number | null = null;
      let signal: string | undefined;
      let done = false;
      const finish = (failure?: ProvisionError) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        out.end();
        err.end();
        if (failure) return reject(failure);
        // The marker is the command's own code; the exit-status message is the wrapping shell's.
        if (markedCode !== undefined) code = markedCode;
        if (code === null && signal === undefined) {
          return reject(new ProvisionError('connection-lost', `the connection to ${this.target.host} closed before ${summarize(command)} reported how it ended`));
        }
        resolve({ code, signal, stdout: out.text, stderr: err.text.replace(MARKER_LINE, '').replace(EXIT_MARKER_TAIL, '') });
      };
      const stop = (why: ProvisionError) => {
        finish(why);
        if (remotePid !== undefined && remotePid > 1) {
          void this.exec(`kill -KILL -${remotePid} 2>/dev/null || kill -KILL ${remotePid} 2>/dev/null; true`, { sudo: viaSudo, timeoutMs: 30_000 }).catch(() => undefined);
        }
        channel.close();
      };
      const timer = setTimeout(() => stop(new ProvisionError('command-failed', `${summarize(command)} did not finish within ${Math.round(timeoutMs / 1000)} s`)), timeoutMs);
      const onAbort = () => stop(new ProvisionError('cancelled', 'cancelled'));
      options.signal?.addEventListener('abort', onAbort, { once: true });
      channel.on('data', (chunk: Buffer) => out.push(chunk));
      channel.stderr.on('data', (chunk: Buffer) => err.push(chunk));
      channel.on('exit', (exitCode: number | null, exitSignal?: string) => {
        code = exitCode;
        signal = exitSignal ?? undefined;
      });
      channel.on('close', () => finish());
      channel.end(stdin);
    });
    if (viaSudo && result.code !== 0 && SUDO_REFUSALS.test(result.stderr)) {
      const why = result.stderr.split('\n').find((l) => SUDO_REFUSALS.test(l))?.trim() ?? 'sudo refused';
      const hint = /sudoers|not allowed|may not run/.test(why)
        ? `an administrator must allow ${this.target.username} to use sudo, or log in as root`
        : /not found/.test(why)
          ? 'install sudo, or log in as root'
          : this.sudoPassword === undefined
            ? 'give the sudo password, or allow passwordless sudo'
            : 'check the sudo password';
      throw new ProvisionError('sudo-failed', `${this.target.username} cannot run commands as root with sudo (${why}): ${hint}`);
    }
    return result;
  }

  /** Like exec, but a non-zero exit is a `command-failed` error naming `what` and the end of stderr. */
  async run(what: string, command: string, options: ExecOptions = {}): Promise<string> {
    const result = await this.exec(command, options);
    if (result.code !== 0) {
      const tail = (result.stderr.trim() || result.stdout.trim()).split('\n').slice(-5).join('\n');
      throw new ProvisionError('command-failed', `${what} failed (exit ${result.code ?? result.signal ?? 'unknown'})${tail === '' ? '' : `: ${tail}`}`);
    }
    return result.stdout;
  }

  private sftp(): Promise<SFTPWrapper> {
    this.sftpSession ??= new Promise((resolve, reject) => {
      this.client.sftp((err, sftp) => (err ? reject(new ProvisionError('connection-lost', `SFTP is not available on ${this.target.host}: ${err.message}`)) : resolve(sftp)));
    });
    return this.sftpSession;
  }

  /** Copies a local file to `remotePath` (as the login user) over SFTP. */
  async upload(localPath: string, remotePath: string, options: { mode?: number; signal?: AbortSignal } = {}): Promise<void> {
    if (options.signal?.aborted) throw new ProvisionError('cancelled', 'cancelled');
    const sftp = await this.sftp();
    await new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        // Ends the transfer too: the SFTP session goes, a later upload opens a new one.
        this.sftpSession = undefined;
        sftp.end();
        reject(new ProvisionError('cancelled', 'cancelled'));
      };
      options.signal?.addEventListener('abort', onAbort, { once: true });
      sftp.fastPut(localPath, remotePath, { mode: options.mode ?? 0o644 }, (err) => {
        options.signal?.removeEventListener('abort', onAbort);
        if (err) reject(new ProvisionError('command-failed', `uploading ${localPath} to ${this.target.host}:${remotePath} failed: ${err.message}`));
        else resolve();
      });
    });
  }

  /** The local address of this connection: the address the VM sees this machine at. */
  localAddress(): string | undefined {
    const sock = (this.client as unknown as { _sock?: { localAddress?: string } })._sock;
    return sock?.localAddress;
  }

  /** The remote address this connection reached. */
  remoteAddress(): string | undefined {
    const sock = (this.client as unknown as { _sock?: { remoteAddress?: string } })._sock;
    return sock?.remoteAddress;
  }

  close(): void {
    this.client.end();
  }
}

function summarize(command: string): string {
  const first = command.trim().split('\n')[0] ?? '';
  return `\`${first.length > 60 ? `${first.slice(0, 57)}...` : first}\``;
}
