/** The contract's provisioning input, as the desktop form sends it, turned into a provisioning request. */
import { describe, expect, it } from 'vitest';
import { machineRequest } from '../../electron/main/provision/ipc';

describe('provisioning IPC input', () => {
  it('maps the form to a request: SSH target, role, labels, trust and consent', () => {
    expect(
      machineRequest({ host: '10.0.0.5', username: 'ubuntu', auth: { method: 'password', password: 'pw' }, role: 'manager', labels: { zone: 'a' }, trustFingerprint: 'SHA256:abc', installDocker: true, managerHost: '10.0.0.1' }),
    ).toEqual({
      target: { host: '10.0.0.5', port: 22, username: 'ubuntu', auth: { method: 'password', password: 'pw' }, sudoPassword: undefined },
      role: 'manager',
      labels: { zone: 'a' },
      trustFingerprint: 'SHA256:abc',
      installDocker: true,
      manager: { host: '10.0.0.1' },
    });
  });

  it('refuses input the flow cannot start with, naming the field', () => {
    const base = { host: 'h', username: 'root', auth: { method: 'agent' as const }, role: 'worker' as const };
    expect(() => machineRequest({ ...base, host: ' ' })).toThrow('machine.host: required');
    expect(() => machineRequest({ ...base, port: 70000 })).toThrow('machine.port: must be 1-65535');
    expect(() => machineRequest({ ...base, role: 'boss' as 'worker' })).toThrow('machine.role: worker or manager');
    expect(() => machineRequest({ ...base, auth: { method: 'key', keyPath: '' } })).toThrow('machine.auth.keyPath: required');
  });
});
