/**
 * Provisioning as the desktop app offers it: jobs run by ProvisioningService, each request completed
 * here (the local manager's port, remembered secrets, `~/` in a key path), and what a job proves kept:
 * a machine that joined goes into the settings' known machines (no secret), one removed leaves them,
 * and a password or passphrase the user asked to remember goes to the vault once it has worked.
 * Every job event reaches the renderers as a `provision` event.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ApiError } from '../../agent/api/errors';
import type { Logger } from '../../agent/log';
import type { KnownMachineView, MachinesView, ProvisionJobRef, ProvisionMachineInput, StartProvisioningRequest, SwarmdeskEvent } from '../contract';
import { machineKey } from '../machine-input';
import { machineRequest } from './provision/ipc';
import type { ClusterControl } from './provision/provisioner';
import { type ProvisionJobEvent, type ProvisionJobKind, type ProvisionJobView, ProvisioningService } from './provision/service';
import type { ProvisionEvent } from './provision/steps';
import type { SecretVault } from './secrets';
import type { KnownMachine, Settings } from './settings';

/** What Machines needs of ProvisioningService (unit tests give it a scripted one). */
export type JobRunner = Pick<ProvisioningService, 'start' | 'cancel' | 'list'>;

/** This app's manager as provisioning needs it: its control API and the port other machines reach it on. */
export interface LocalManager {
  control: ClusterControl;
  port: number;
}

export interface MachinesOptions {
  settings: Settings;
  vault: SecretVault;
  logger: Logger;
  /** The local manager, while it runs. */
  manager(): LocalManager | undefined;
  /** Delivers an event to every renderer. */
  emit(event: SwarmdeskEvent): void;
  /** Trusted host keys (OpenSSH format). */
  knownHostsPath: string;
  /** The agent bundle (resources/agent). */
  bundleDir: string;
  readyTimeoutMs?: number;
  /** Default: a ProvisioningService with the options above. */
  runner?: (emit: (event: ProvisionJobEvent) => void) => JobRunner;
  now?: () => Date;
}

const SECRET_KINDS = ['password', 'passphrase', 'sudoPassword'] as const;
type SecretKind = (typeof SECRET_KINDS)[number];
type Secrets = Partial<Record<SecretKind, string>>;

const vaultName = (machineId: string, kind: SecretKind) => `machine:${machineId}:${kind}`;

function expandHome(path: string): string {
  return path.startsWith('~/') ? join(homedir(), path.slice(2)) : path;
}

/** The secrets a request carries (only those it gives: an empty one is none). */
function secretsOf(machine: ProvisionMachineInput): Secrets {
  const { auth } = machine;
  const given = (value: string | undefined) => (value === undefined || value === '' ? undefined : value);
  return {
    password: auth.method === 'password' ? given(auth.password) : undefined,
    passphrase: auth.method === 'key' ? given(auth.passphrase) : undefined,
    sudoPassword: given(machine.sudoPassword),
  };
}

export class Machines {
  private readonly runner: JobRunner;

  constructor(private readonly options: MachinesOptions) {
    const emit = (event: ProvisionJobEvent) => options.emit({ kind: 'provision', jobId: event.jobId, jobKind: event.jobKind, event: event.event });
    this.runner =
      options.runner?.(emit) ??
      new ProvisioningService({
        knownHostsPath: options.knownHostsPath,
        bundleDir: options.bundleDir,
        cluster: () => options.manager()?.control,
        emit,
        readyTimeoutMs: options.readyTimeoutMs,
      });
  }

  /** Starts a job (request already validated); its events follow, tagged with the job id. */
  async start(request: StartProvisioningRequest): Promise<ProvisionJobRef> {
    const { kind, machine } = request;
    const id = machineKey(machine);
    const given = machine.rememberSecrets === true ? secretsOf(machine) : {};
    const completed = await this.withRememberedSecrets(id, machine);
    const target = machineRequest(completed);
    // Forgotten after use: this job may still log in with what was remembered until now.
    if (machine.rememberSecrets === false) await this.forgetSecrets(id);
    target.id = id;
    // The VM joins this app's manager: through the host the user gave, else the address this machine
    // reached the VM from (the provisioner's default), on the port the manager listens on.
    const local = this.options.manager();
    if (completed.managerHost !== undefined || local !== undefined) target.manager = { host: completed.managerHost, port: local?.port };
    return this.runner.start(kind, target, (event) => this.observe(kind, id, machine, given, event));
  }

  cancel(jobId: string): void {
    this.runner.cancel(jobId);
  }

  jobs(): ProvisionJobView[] {
    return this.runner.list();
  }

  async list(): Promise<MachinesView> {
    const machines = await Promise.all(this.options.settings.knownMachines().map((m) => this.view(m)));
    return { machines, secretsPersistent: this.options.vault.persistent };
  }

  async forget(machineId: string): Promise<void> {
    const known = this.options.settings.knownMachines();
    if (!known.some((m) => m.id === machineId)) throw new ApiError('NotFound', `no known machine ${machineId}`);
    this.options.settings.setKnownMachines(known.filter((m) => m.id !== machineId));
    await this.forgetSecrets(machineId);
  }

  private async view(machine: KnownMachine): Promise<KnownMachineView> {
    const has = async (kind: SecretKind) => (await this.options.vault.get(vaultName(machine.id, kind)).catch(() => undefined)) !== undefined;
    const [password, passphrase, sudoPassword] = await Promise.all(SECRET_KINDS.map(has));
    return { ...machine, remembered: { password, passphrase, sudoPassword } };
  }

  /** The request with what it leaves out taken from the vault, and `~/` in the key path expanded. */
  private async withRememberedSecrets(id: string, machine: ProvisionMachineInput): Promise<ProvisionMachineInput> {
    const remembered = (kind: SecretKind) => this.options.vault.get(vaultName(id, kind));
    const { auth } = machine;
    let completedAuth = auth;
    if (auth.method === 'password' && auth.password === undefined) {
      const password = await remembered('password');
      if (password === undefined) throw new ApiError('InvalidArgument', `machine.auth.password: required (no password is remembered for ${id})`, { details: { field: 'machine.auth.password' } });
      completedAuth = { method: 'password', password };
    } else if (auth.method === 'key') {
      const passphrase = auth.passphrase ?? (await remembered('passphrase'));
      completedAuth = { method: 'key', keyPath: expandHome(auth.keyPath), ...(passphrase === undefined ? {} : { passphrase }) };
    }
    const sudoPassword = machine.sudoPassword ?? (await remembered('sudoPassword'));
    return { ...machine, auth: completedAuth, ...(sudoPassword === undefined ? {} : { sudoPassword }) };
  }

  /** Keeps what a job has proved: the machine once added (or gone once removed), secrets that worked. */
  private observe(kind: ProvisionJobKind, id: string, machine: ProvisionMachineInput, toRemember: Secrets, event: ProvisionEvent): void {
    try {
      if (event.kind === 'step' && event.status === 'ok' && kind !== 'add' && this.isKnown(id)) {
        // A test or remove on a known machine: a login that worked may be remembered at once.
        if (event.id === 'connect') this.remember(id, { password: toRemember.password, passphrase: toRemember.passphrase });
        if (event.id === 'privileges') this.remember(id, { sudoPassword: toRemember.sudoPassword });
      }
      if (event.kind !== 'finished' || !event.outcome.ok) return;
      if (kind === 'add') {
        this.record(id, machine, event.outcome.nodeId);
        this.remember(id, toRemember);
      } else if (kind === 'remove') {
        this.options.settings.setKnownMachines(this.options.settings.knownMachines().filter((m) => m.id !== id));
        void this.forgetSecrets(id);
      }
    } catch (err) {
      this.options.logger.warn('could not keep what a provisioning job did', { machine: id, error: err instanceof Error ? err.message : String(err) });
    }
  }

  private isKnown(id: string): boolean {
    return this.options.settings.knownMachines().some((m) => m.id === id);
  }

  private record(id: string, machine: ProvisionMachineInput, nodeId: string | undefined): void {
    const entry: KnownMachine = {
      id,
      host: machine.host,
      port: machine.port ?? 22,
      username: machine.username,
      auth: machine.auth.method,
      ...(machine.auth.method === 'key' ? { keyPath: machine.auth.keyPath } : {}),
      role: machine.role,
      labels: machine.labels ?? {},
      ...(machine.managerHost === undefined ? {} : { managerHost: machine.managerHost }),
      ...(nodeId === undefined ? {} : { nodeId }),
      provisionedAt: (this.options.now?.() ?? new Date()).toISOString(),
    };
    const others = this.options.settings.knownMachines().filter((m) => m.id !== id);
    this.options.settings.setKnownMachines([...others, entry]);
  }

  private remember(id: string, secrets: Secrets): void {
    for (const kind of SECRET_KINDS) {
      const value = secrets[kind];
      if (value === undefined) continue;
      this.options.vault.set(vaultName(id, kind), value).catch((err: unknown) => {
        this.options.logger.warn('could not remember a secret', { machine: id, secret: kind, error: err instanceof Error ? err.message : String(err) });
      });
    }
  }

  private async forgetSecrets(id: string): Promise<void> {
    await Promise.all(SECRET_KINDS.map((kind) => this.options.vault.delete(vaultName(id, kind))));
  }
}
