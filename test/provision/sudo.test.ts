/**
 * A non-root login that becomes root with sudo (the lab VM's own /etc: its users, shadow and sudoers):
 * with the password (fed on stdin, never on a command line), passwordless, a wrong sudo password and a
 * user sudo refuses, each through the preflight's privileges step.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isProvisionError, type ProvisionError } from '../../electron/main/provision/errors';
import { preflight } from '../../electron/main/provision/preflight';
import { connectSsh, type SshTarget } from '../../electron/main/provision/ssh';
import { Progress, type ProvisionEvent } from '../../electron/main/provision/steps';
import type { LabVm } from '../lab/lab';
import { allowPasswordLogin, privateLab, setPassword, skipWithoutLab, type TestLab, vmSh } from './fixture';

describe.skipIf(skipWithoutLab)('sudo for a non-root login', () => {
  let t: TestLab;
  let vm: LabVm;

  beforeAll(async () => {
    t = await privateLab(1);
    vm = t.vms[0];
    await allowPasswordLogin(vm, 'root password');
    await vmSh(
      vm,
      'useradd -M -d /nonexistent -s /bin/sh deploy && useradd -M -d /nonexistent -s /bin/sh nopass && useradd -M -d /nonexistent -s /bin/sh plain && ' +
        'echo "deploy ALL=(ALL:ALL) ALL" > /etc/sudoers.d/deploy && echo "nopass ALL=(ALL:ALL) NOPASSWD: ALL" > /etc/sudoers.d/nopass && chmod 440 /etc/sudoers.d/*',
    );
    for (const user of ['deploy', 'nopass', 'plain']) await setPassword(vm, user, `${user} pw`);
  }, 240_000);
  afterAll(async () => t?.down(), 120_000);

  const privileges = async (target: SshTarget) => {
    const events: ProvisionEvent[] = [];
    const conn = await connectSsh(target, { knownHosts: t.knownHosts });
    let error: ProvisionError | undefined;
    try {
      await preflight(conn, new Progress(vm.name, (e) => events.push(e)), {});
    } catch (err) {
      if (!isProvisionError(err)) throw err;
      error = err;
    } finally {
      conn.close();
    }
    const step = events.find((e) => e.kind === 'step' && e.id === 'privileges' && e.status !== 'running');
    return { step: step?.kind === 'step' ? `${step.status}: ${step.message}` : undefined, error, events };
  };
  const login = (user: string, sudoPassword?: string): SshTarget => ({ host: vm.ip, username: user, auth: { method: 'password', password: `${user} pw` }, sudoPassword });

  it('becomes root with sudo and the login password, which never shows in the output', async () => {
    const { step, error, events } = await privileges(login('deploy'));
    expect(step).toBe('ok: deploy may use sudo');
    // The rest of preflight ran as root through sudo too (Docker's socket is root's).
    expect(error).toBeUndefined();
    expect(JSON.stringify(events)).not.toContain('deploy pw');
  }, 90_000);

  it('becomes root with passwordless sudo', async () => {
    expect((await privileges({ host: vm.ip, username: 'nopass', auth: { method: 'password', password: 'nopass pw' } })).step).toBe('ok: nopass may use sudo');
  }, 90_000);

  it('a wrong sudo password fails the step, saying to check the sudo password', async () => {
    const { step, error } = await privileges(login('deploy', 'not it'));
    expect(error?.code).toBe('sudo-failed');
    expect(step).toMatch(/^failed: deploy cannot run commands as root with sudo \(.*\): check the sudo password$/);
    expect(step).not.toContain('not it');
  }, 90_000);

  it('a user sudo does not allow fails the step, naming the user', async () => {
    const { step, error } = await privileges(login('plain'));
    expect(error?.code).toBe('sudo-failed');
    expect(step).toMatch(/^failed: plain cannot run commands as root with sudo \(.*plain is not in the sudoers file.*\): an administrator must allow plain to use sudo, or log in as root$/);
  }, 90_000);
});
