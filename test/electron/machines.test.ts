/**
 * The desktop app's provisioning wiring (electron/main/machines.ts): requests completed (the local
 * manager's port, remembered secrets, `~/` in a key path), job events forwarded to the renderers, known
 * machines kept in the settings without a secret, secrets remembered only when asked and only once
 * they worked (encrypted in the settings file). The jobs are scripted here; the last test runs a real
 * job through MainServices against an SSH server in this process (ssh2's), over the session API.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../agent/log';
import type { ProvisionMachineInput, SwarmdeskEvent } from '../../electron/contract';
import { type JobRunner, Machines } from '../../electron/main/machines';
import type { MachineRequest } from '../../electron/main/provision/provisioner';
import type { ProvisionJobEvent, ProvisionJobKind, ProvisionJobObserver } from '../../electron/main/provision/service';
import type { ProvisionEvent } from '../../electron/main/provision/steps';
import { MemoryVault, SafeStorageVault, type SecretVault } from '../../electron/main/secrets';
import { MainServices } from '../../electron/main/services';
import { Settings } from '../../electron/main/settings';
import { openSettingsBackend } from '../../electron/main/settings-file';
import { safeStorage } from './electron-stub';

const PASSWORD = 'pw-4f1c9e-never-in-a-file';
const SUDO = 'sudo-77ab02-never-in-a-file';
const quiet = createLogger({ level: 'error', write: () => undefined });
const homes: string[] = [];

afterEach(async () => {
  await Promise.all(homes.splice(0).map((home) => rm(home, { recursive: true, force: true })));
});

async function freshHome(): Promise<string> {
  const home = await mkdtemp(join(tmpdir(), 'swarmdesk-machines-'));
  homes.push(home);
  return home;
}

/** Jobs that do nothing until the test plays their events. */
class ScriptedRunner implements JobRunner {
  readonly started: { jobId: string; kind: ProvisionJobKind; request: MachineRequest; observe?: ProvisionJobObserver }[] = [];
  readonly cancelled: string[] = [];

  constructor(private readonly emit: (event: ProvisionJobEvent) => void) {}

  start(kind: ProvisionJobKind, request: MachineRequest, observe?: ProvisionJobObserver): { jobId: string } {
    const jobId = `00000000-0000-4000-8000-00000000000${this.started.length}`;
    this.started.push({ jobId, kind, request, observe });
    return { jobId };
  }
  cancel(jobId: string): void {
    this.cancelled.push(jobId);
  }
  list() {
    return [];
  }
  play(index: number, ...events: ProvisionEvent[]): void {
    const job = this.started[index];
    for (const event of events) {
      job.observe?.(event);
      this.emit({ jobId: job.jobId, jobKind: job.kind, event });
    }
  }
}

const machineName = 'admin@10.0.0.5:2222';
const step = (id: 'connect' | 'privileges', status: 'ok' | 'failed' = 'ok'): ProvisionEvent => ({ kind: 'step', machine: machineName, id, title: id, status });
const finished = (ok: boolean, nodeId = 'node1'): ProvisionEvent => ({
  kind: 'finished',
  machine: machineName,
  outcome: ok ? { ok: true, nodeId, message: 'joined' } : { ok: false, error: { code: 'auth-failed', message: 'refused' } },
});

async function setup(options: { manager?: boolean } = {}) {
  const home = await freshHome();
  const backend = await openSettingsBackend(home);
  const settings = new Settings(backend);
  const vault: SecretVault = new SafeStorageVault(safeStorage, backend);
  const events: SwarmdeskEvent[] = [];
  let runner: ScriptedRunner | undefined;
  const machines = new Machines({
    settings,
    vault,
    logger: quiet,
    manager: () => (options.manager === false ? undefined : { control: {} as never, port: 4999 }),
    emit: (event) => events.push(event),
    knownHostsPath: join(home, 'known_hosts'),
    bundleDir: join(home, 'agent'),
    runner: (emit) => (runner = new ScriptedRunner(emit)),
    now: () => new Date('2026-11-26T12:00:00Z'),
  });
  if (runner === undefined) throw new Error('no runner');
  return { home, settings, vault, events, machines, runner, file: () => readFile(settings.path, 'utf8') };
}

const input = (over: Partial<ProvisionMachineInput> = {}): ProvisionMachineInput => ({
  host: '10.0.0.5',
  port: 2222,
  username: 'admin',
  auth: { method: 'password', password: PASSWORD },
  sudoPassword: SUDO,
  role: 'worker',
  labels: { zone: 'a' },
  ...over,
});

describe('Machines (provisioning in the desktop app)', () => {
  it('completes a request: the machine as jobs name it, the local manager\'s port, ~/ expanded', async () => {
    const t = await setup();
    await t.machines.start({ kind: 'add', machine: input({ auth: { method: 'key', keyPath: '~/.ssh/id_ed25519' }, sudoPassword: undefined, managerHost: '10.0.0.1' }) });
    expect(t.runner.started[0].request).toEqual({
      id: machineName,
      target: { host: '10.0.0.5', port: 2222, username: 'admin', auth: { method: 'key', keyPath: join(homedir(), '.ssh/id_ed25519'), passphrase: undefined }, sudoPassword: undefined },
      role: 'worker',
      labels: { zone: 'a' },
      trustFingerprint: undefined,
      installDocker: false,
      manager: { host: '10.0.0.1', port: 4999 },
    });
    // Without a manager host the provisioner picks the address this machine reached the VM from.
    await t.machines.start({ kind: 'test', machine: input() });
    expect(t.runner.started[1].request.manager).toEqual({ host: undefined, port: 4999 });
  });

  it('forwards every job event to the renderers as a provision event with the job id and kind', async () => {
    const t = await setup();
    const { jobId } = await t.machines.start({ kind: 'test', machine: input() });
    t.runner.play(0, step('connect'), finished(false));
    expect(t.events).toEqual([
      { kind: 'provision', jobId, jobKind: 'test', event: step('connect') },
      { kind: 'provision', jobId, jobKind: 'test', event: finished(false) },
    ]);
  });

  it('an added machine is remembered in the settings without its secrets; asked-for secrets go to the vault, encrypted', async () => {
    const t = await setup();
    await t.machines.start({ kind: 'add', machine: input({ rememberSecrets: true }) });
    // Nothing is kept before the job has proved the machine and its secrets.
    t.runner.play(0, step('connect'), step('privileges'));
    expect(await t.machines.list()).toEqual({ machines: [], secretsPersistent: true });
    t.runner.play(0, finished(true, 'node42'));
    await expect.poll(async () => (await t.machines.list()).machines).toEqual([
      {
        id: machineName,
        host: '10.0.0.5',
        port: 2222,
        username: 'admin',
        auth: 'password',
        role: 'worker',
        labels: { zone: 'a' },
        nodeId: 'node42',
        provisionedAt: '2026-11-26T12:00:00.000Z',
        remembered: { password: true, passphrase: false, sudoPassword: true },
      },
    ]);
    const file = await t.file();
    expect(file).toContain('node42');
    for (const secret of [PASSWORD, SUDO]) {
      expect(file).not.toContain(secret);
      expect(file).not.toContain(Buffer.from(secret).toString('base64'));
    }

    // Next time the form may leave the password out: the remembered one is used.
    await t.machines.start({ kind: 'test', machine: input({ auth: { method: 'password' }, sudoPassword: undefined }) });
    expect(t.runner.started[1].request.target).toMatchObject({ auth: { method: 'password', password: PASSWORD }, sudoPassword: SUDO });
  });

  it('remembers nothing unless asked, and nothing after a failed add', async () => {
    const t = await setup();
    await t.machines.start({ kind: 'add', machine: input() });
    t.runner.play(0, step('connect'), step('privileges'), finished(true));
    await t.machines.start({ kind: 'add', machine: input({ host: '10.0.0.6', rememberSecrets: true }) });
    t.runner.play(1, { ...step('connect', 'failed'), machine: 'admin@10.0.0.6:2222' }, { ...finished(false), machine: 'admin@10.0.0.6:2222' });
    const { machines } = await t.machines.list();
    expect(machines.map((m) => [m.id, m.remembered])).toEqual([[machineName, { password: false, passphrase: false, sudoPassword: false }]]);
    // Without a remembered password, leaving it out is refused on its field.
    await expect(t.machines.start({ kind: 'test', machine: input({ auth: { method: 'password' } }) })).rejects.toMatchObject({
      code: 'InvalidArgument',
      message: `machine.auth.password: required (no password is remembered for ${machineName})`,
    });
  });

  it('a test of a known machine remembers a login that worked; rememberSecrets false forgets', async () => {
    const t = await setup();
    await t.machines.start({ kind: 'add', machine: input() });
    t.runner.play(0, finished(true));
    await t.machines.start({ kind: 'test', machine: input({ rememberSecrets: true, sudoPassword: undefined }) });
    t.runner.play(1, step('connect'));
    await expect.poll(async () => (await t.machines.list()).machines[0]?.remembered).toEqual({ password: true, passphrase: false, sudoPassword: false });
    await t.machines.start({ kind: 'test', machine: input({ rememberSecrets: false }) });
    expect((await t.machines.list()).machines[0]?.remembered).toEqual({ password: false, passphrase: false, sudoPassword: false });
  });

  it('a removed machine leaves the list and the vault; forget does the same without a job', async () => {
    const t = await setup();
    for (const [index, host] of ['10.0.0.5', '10.0.0.6'].entries()) {
      await t.machines.start({ kind: 'add', machine: input({ host, rememberSecrets: true }) });
      const name = `admin@${host}:2222`;
      t.runner.play(index, { ...finished(true), machine: name });
    }
    await expect.poll(async () => (await t.machines.list()).machines.map((m) => m.remembered.password)).toEqual([true, true]);
    await t.machines.start({ kind: 'remove', machine: input({ auth: { method: 'password' } }) });
    t.runner.play(2, finished(true));
    await expect.poll(async () => (await t.machines.list()).machines.map((m) => m.id)).toEqual(['admin@10.0.0.6:2222']);
    await expect(t.vault.get(`machine:${machineName}:password`)).resolves.toBeUndefined();
    await t.machines.forget('admin@10.0.0.6:2222');
    expect((await t.machines.list()).machines).toEqual([]);
    await expect(t.vault.get('machine:admin@10.0.0.6:2222:password')).resolves.toBeUndefined();
    await expect(t.machines.forget('admin@10.0.0.6:2222')).rejects.toMatchObject({ code: 'NotFound' });
  });

  it('cancels through the runner', async () => {
    const t = await setup();
    const { jobId } = await t.machines.start({ kind: 'add', machine: input() });
    t.machines.cancel(jobId);
    expect(t.runner.cancelled).toEqual([jobId]);
  });
});

describe('provisioning over the session API (MainServices, a real SSH server in this process)', () => {
  const { Server, utils } = ssh2;

  /** An SSH server that lets `admin` in with PASSWORD and fails every command (so a job stops after connect). */
  async function sshServer(): Promise<{ port: number; fingerprint: string; close(): void }> {
    const hostKey = utils.generateKeyPairSync('ed25519');
    const server = new Server({ hostKeys: [hostKey.private] }, (client) => {
      client.on('authentication', (ctx) => {
        if (ctx.method === 'password' && ctx.username === 'admin' && ctx.password === PASSWORD) ctx.accept();
        else ctx.reject(['password']);
      });
      client.on('ready', () => {
        client.on('session', (accept) => {
          const session = accept();
          session.on('exec', (acceptExec) => {
            const stream = acceptExec();
            stream.stderr.write('not a real machine\n');
            stream.exit(1);
            stream.end();
          });
        });
      });
      client.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const blob = utils.parseKey(hostKey.public);
    if (blob instanceof Error) throw blob;
    const { fingerprintOf } = await import('../../electron/main/provision/known-hosts');
    return { port: (server.address() as AddressInfo).port, fingerprint: fingerprintOf((Array.isArray(blob) ? blob[0] : blob).getPublicSSH()), close: () => server.close() };
  }

  it('host key first, then a wrong password, then a login that works: each job\'s events reach every session', async () => {
    const home = await freshHome();
    const services = new MainServices({ home, mode: 'web', settings: new Settings(await openSettingsBackend(home)), vault: new MemoryVault(), logger: quiet });
    const server = await sshServer();
    const seen: SwarmdeskEvent[][] = [[], []];
    const sessions = seen.map((list) => services.openSession((event) => list.push(event)));
    try {
      const machine = { host: '127.0.0.1', port: server.port, username: 'admin', auth: { method: 'password', password: 'wrong' }, role: 'worker' } as const;
      const outcome = async (jobId: string) => {
        await expect.poll(() => seen[0].find((e) => e.kind === 'provision' && e.jobId === jobId && e.event.kind === 'finished'), { timeout: 20_000 }).toBeDefined();
        const found = seen[0].find((e) => e.kind === 'provision' && e.jobId === jobId && e.event.kind === 'finished');
        return found?.kind === 'provision' && found.event.kind === 'finished' ? found.event.outcome : undefined;
      };
      const start = async (argument: unknown) => {
        const result = await sessions[0].call('startProvisioning', argument);
        if (!result.ok) throw new Error(result.error.message);
        return (result.value as { jobId: string }).jobId;
      };

      // First contact: the fingerprint comes back for the user to check, nothing is trusted yet.
      const first = await outcome(await start({ kind: 'test', machine }));
      expect(first).toMatchObject({ ok: false, error: { code: 'host-key-unknown', step: 'connect', hostKey: { type: 'ssh-ed25519', fingerprint: server.fingerprint } } });
      // Trusted now, but the password is wrong.
      const second = await outcome(await start({ kind: 'test', machine: { ...machine, trustFingerprint: server.fingerprint } }));
      expect(second).toMatchObject({ ok: false, error: { code: 'auth-failed', message: `admin@127.0.0.1:${server.port} refused password: wrong password, or the user may not log in this way` } });
      // The key is recorded only with a login that worked (so the UI sends the accepted fingerprint again).
      await expect(readFile(join(home, 'known_hosts'), 'utf8')).rejects.toMatchObject({ code: 'ENOENT' });
      // The right password logs in; the machine then fails its first check (this server runs nothing).
      const thirdId = await start({ kind: 'test', machine: { ...machine, trustFingerprint: server.fingerprint, auth: { method: 'password', password: PASSWORD } } });
      expect(await outcome(thirdId)).toMatchObject({ ok: false, error: { code: 'command-failed', step: 'os' } });
      expect(await readFile(join(home, 'known_hosts'), 'utf8')).toContain(`[127.0.0.1]:${server.port} ssh-ed25519 `);
      const steps = (list: SwarmdeskEvent[]) => list.flatMap((e) => (e.kind === 'provision' && e.jobId === thirdId && e.event.kind === 'step' ? [`${e.event.id} ${e.event.status}`] : []));
      expect(steps(seen[0])).toEqual(['connect running', 'connect ok', 'os running', 'os failed']);
      expect(steps(seen[1])).toEqual(steps(seen[0]));
      expect(seen[0].every((e) => e.kind !== 'provision' || e.jobKind === 'test')).toBe(true);

      const jobs = await sessions[1].call('listProvisioningJobs', undefined);
      expect(jobs.ok && (jobs.value as { jobs: unknown[] }).jobs).toHaveLength(3);
      // A test adds nothing to the known machines, and no secret went anywhere.
      expect(await sessions[1].call('listMachines', undefined)).toEqual({ ok: true, value: { machines: [], secretsPersistent: false } });
      expect(await readFile(services.settings.path, 'utf8').catch(() => '')).not.toContain(PASSWORD);
    } finally {
      server.close();
      await services.close();
    }
  }, 60_000);
});
