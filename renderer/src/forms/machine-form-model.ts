/**
 * The Add machine form as data: what its fields hold (text, as typed), how a known machine fills them,
 * and how they become the contract's ProvisionMachineInput, with a message per field. The input is
 * checked with the main process's own rules (electron/machine-input.ts), so the form shows the same
 * words the server would; only what those rules cannot see (a port that is not a number, a password
 * left empty with none remembered, a label key given twice) is worded here.
 * Pure: tested in test/renderer/machine-form-model.test.ts.
 */
import { fieldErrorMap } from '../../../agent/api/service-spec';
import type { KnownMachineView, ProvisionAuthInput, ProvisionAuthMethod, ProvisionMachineInput } from '../../../electron/contract';
import { machineInputSchema } from '../../../electron/machine-input';

export interface LabelRow {
  key: string;
  value: string;
}

export interface MachineFormValues {
  host: string;
  port: string;
  username: string;
  authMethod: ProvisionAuthMethod;
  keyPath: string;
  passphrase: string;
  password: string;
  sudoPassword: string;
  role: 'worker' | 'manager';
  labels: LabelRow[];
  managerHost: string;
  remember: boolean;
}

/** What is remembered for the machine being edited: an empty secret field then means "the remembered one". */
export interface RememberedSecrets {
  password: boolean;
  passphrase: boolean;
  sudoPassword: boolean;
}

export const NOTHING_REMEMBERED: RememberedSecrets = Object.freeze({ password: false, passphrase: false, sudoPassword: false });

/** Form field (`host`, `keyPath`, `labels.2`) -> message; '' is the form as a whole. */
export type MachineFieldErrors = Record<string, string>;

export function emptyMachineForm(): MachineFormValues {
  return { host: '', port: '22', username: 'root', authMethod: 'key', keyPath: '~/.ssh/id_ed25519', passphrase: '', password: '', sudoPassword: '', role: 'worker', labels: [], managerHost: '', remember: false };
}

export function formFromMachine(machine: KnownMachineView): MachineFormValues {
  return {
    ...emptyMachineForm(),
    host: machine.host,
    port: String(machine.port),
    username: machine.username,
    authMethod: machine.auth,
    keyPath: machine.keyPath ?? '',
    role: machine.role,
    labels: Object.entries(machine.labels)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([key, value]) => ({ key, value })),
    managerHost: machine.managerHost ?? '',
    remember: machine.remembered.password || machine.remembered.passphrase || machine.remembered.sudoPassword,
  };
}

/** The form field a path of the input names (`auth.keyPath` -> keyPath, `labels.zone` -> labels.<row>). */
export function fieldFor(path: readonly (string | number)[], values: MachineFormValues): string {
  const [head, next] = path;
  if (head === 'auth') return next === 'keyPath' || next === 'password' || next === 'passphrase' ? String(next) : 'authMethod';
  if (head === 'labels') {
    const row = next === undefined ? -1 : values.labels.findIndex((label) => label.key.trim() === String(next));
    return row >= 0 ? `labels.${row}` : '';
  }
  if (head === 'host' || head === 'port' || head === 'username' || head === 'sudoPassword' || head === 'role' || head === 'managerHost') return head;
  return '';
}

/** A field the server named (`machine.auth.password`) as the form's field, or '' for the form. */
export function fieldForServer(field: string, values: MachineFormValues): string {
  const path = field.split('.');
  return fieldFor(path[0] === 'machine' ? path.slice(1) : path, values);
}

function optional(text: string): string | undefined {
  return text === '' ? undefined : text;
}

export interface MachineConversion {
  input?: ProvisionMachineInput;
  errors: MachineFieldErrors;
}

/** The input the form describes, or the messages of what is wrong (every field at fault). */
export function formToInput(values: MachineFormValues, remembered: RememberedSecrets = NOTHING_REMEMBERED): MachineConversion {
  const errors: MachineFieldErrors = {};
  const portText = values.port.trim();
  const port = portText === '' ? 22 : /^\d+$/.test(portText) ? Number(portText) : Number.NaN;
  if (Number.isNaN(port)) errors.port = 'must be a whole number';

  let auth: ProvisionAuthInput;
  if (values.authMethod === 'key') auth = { method: 'key', keyPath: values.keyPath.trim(), ...(values.passphrase === '' ? {} : { passphrase: values.passphrase }) };
  else if (values.authMethod === 'agent') auth = { method: 'agent' };
  else {
    if (values.password === '' && !remembered.password) errors.password = 'required';
    auth = { method: 'password', ...(values.password === '' ? {} : { password: values.password }) };
  }

  const labels: Record<string, string> = {};
  values.labels.forEach((row, index) => {
    const key = row.key.trim();
    if (key === '' && row.value === '') return;
    if (key in labels) errors[`labels.${index}`] = `"${key}" is given twice`;
    labels[key] = row.value;
  });

  const input: ProvisionMachineInput = {
    host: values.host.trim(),
    port,
    username: values.username.trim(),
    auth,
    ...(values.sudoPassword === '' ? {} : { sudoPassword: values.sudoPassword }),
    role: values.role,
    ...(Object.keys(labels).length > 0 ? { labels } : {}),
    ...(optional(values.managerHost.trim()) === undefined ? {} : { managerHost: values.managerHost.trim() }),
    rememberSecrets: values.remember,
  };
  const checked = machineInputSchema.safeParse(input, { error: fieldErrorMap });
  if (!checked.success) {
    for (const issue of checked.error.issues) {
      const field = fieldFor(issue.path.filter((p): p is string | number => typeof p !== 'symbol'), values);
      if (field === 'port' && errors.port !== undefined) continue;
      errors[field] ??= issue.message;
    }
  }
  return Object.keys(errors).length > 0 ? { errors } : { input, errors };
}

/** A known machine as the input of a job run from its row (Remove): its record plus the secrets asked for now. */
export function knownMachineInput(machine: KnownMachineView, secrets: { password?: string; passphrase?: string }): MachineConversion {
  const values: MachineFormValues = { ...formFromMachine(machine), password: secrets.password ?? '', passphrase: secrets.passphrase ?? '' };
  const conversion = formToInput(values, machine.remembered);
  if (conversion.input === undefined) return conversion;
  // What is remembered stays as it is.
  const { rememberSecrets: _unchanged, ...input } = conversion.input;
  return { input, errors: conversion.errors };
}
