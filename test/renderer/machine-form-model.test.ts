/** The Add machine form as data: fields to the contract's input, with the main process's messages on the right fields. */
import { describe, expect, it } from 'vitest';
import type { KnownMachineView } from '../../electron/contract';
import { emptyMachineForm, fieldForServer, formFromMachine, formToInput, knownMachineInput, type MachineFormValues } from '../../renderer/src/forms/machine-form-model';

const form = (over: Partial<MachineFormValues> = {}): MachineFormValues => ({ ...emptyMachineForm(), host: '10.0.0.5', ...over });

const known: KnownMachineView = {
  id: 'admin@10.0.0.5:2222',
  host: '10.0.0.5',
  port: 2222,
  username: 'admin',
  auth: 'password',
  role: 'manager',
  labels: { zone: 'b', disk: 'ssd' },
  nodeId: 'n1',
  provisionedAt: '2026-11-26T12:00:00.000Z',
  remembered: { password: true, passphrase: false, sudoPassword: false },
};

describe('the machine form model', () => {
  it('turns the fields into the input the main process takes', () => {
    expect(formToInput(form({ labels: [{ key: 'zone', value: 'a' }, { key: '', value: '' }], managerHost: ' 10.0.0.1 ', passphrase: 'p' }))).toEqual({
      input: {
        host: '10.0.0.5',
        port: 22,
        username: 'root',
        auth: { method: 'key', keyPath: '~/.ssh/id_ed25519', passphrase: 'p' },
        role: 'worker',
        labels: { zone: 'a' },
        managerHost: '10.0.0.1',
        rememberSecrets: false,
      },
      errors: {},
    });
    expect(formToInput(form({ authMethod: 'agent', username: 'ubuntu', sudoPassword: 's', remember: true, port: '2222' })).input).toEqual({
      host: '10.0.0.5',
      port: 2222,
      username: 'ubuntu',
      auth: { method: 'agent' },
      sudoPassword: 's',
      role: 'worker',
      rememberSecrets: true,
    });
  });

  it('puts every problem on its field, in the main process\'s words', () => {
    const { input, errors } = formToInput(
      form({ host: 'a b', port: 'x', username: '', authMethod: 'key', keyPath: 'id_rsa', labels: [{ key: 'zone', value: 'a' }, { key: 'zone', value: 'b' }, { key: 'bad key', value: '' }], managerHost: 'not valid!' }),
    );
    expect(input).toBeUndefined();
    expect(errors).toEqual({
      host: 'must be a host name or an IP address',
      port: 'must be a whole number',
      username: 'required',
      keyPath: 'must be an absolute path (or start with ~/)',
      'labels.1': '"zone" is given twice',
      'labels.2': expect.stringMatching(/.+/),
      managerHost: 'must be a host name or an IP address',
    });
    expect(formToInput(form({ port: '70000' })).errors).toEqual({ port: 'must be 1 to 65535' });
  });

  it('wants a password unless one is remembered', () => {
    expect(formToInput(form({ authMethod: 'password' })).errors).toEqual({ password: 'required' });
    expect(formToInput(form({ authMethod: 'password' }), known.remembered).input?.auth).toEqual({ method: 'password' });
    expect(formToInput(form({ authMethod: 'password', password: 'pw' })).input?.auth).toEqual({ method: 'password', password: 'pw' });
  });

  it('fills from a known machine, and builds a Remove request from it without changing what is remembered', () => {
    expect(formFromMachine(known)).toMatchObject({ host: '10.0.0.5', port: '2222', username: 'admin', authMethod: 'password', role: 'manager', labels: [{ key: 'disk', value: 'ssd' }, { key: 'zone', value: 'b' }], remember: true, password: '' });
    expect(knownMachineInput(known, {})).toEqual({
      input: { host: '10.0.0.5', port: 2222, username: 'admin', auth: { method: 'password' }, role: 'manager', labels: { disk: 'ssd', zone: 'b' } },
      errors: {},
    });
    expect(knownMachineInput({ ...known, remembered: { password: false, passphrase: false, sudoPassword: false } }, {}).errors).toEqual({ password: 'required' });
  });

  it('maps the server\'s field names onto the form', () => {
    const values = form({ labels: [{ key: 'zone', value: 'a' }] });
    expect(fieldForServer('machine.host', values)).toBe('host');
    expect(fieldForServer('machine.auth.keyPath', values)).toBe('keyPath');
    expect(fieldForServer('machine.auth.method', values)).toBe('authMethod');
    expect(fieldForServer('machine.labels.zone', values)).toBe('labels.0');
    expect(fieldForServer('kind', values)).toBe('');
  });
});
