/**
 * The create/update service form as data: what the fields hold (text, as typed), how a spec fills
 * them, and how they become a ServiceSpec, with a message per field. The spec is checked with the
 * control API's own schema (agent/api/spec-field-errors.ts), so the form shows the server's wording;
 * only what the schema cannot see (text that is not a number, a duration or a size) is worded here.
 * Pure: tested in test/renderer/service-form-model.test.ts.
 */
import { DEFAULT_RESTART_POLICY, DEFAULT_UPDATE_CONFIG } from '../../../agent/api/service-spec';
import { serviceSpecFieldErrors } from '../../../agent/api/spec-field-errors';
import type { Placement, PortConfig, ResourceRequirements, RestartPolicy, ServiceSpec, UpdateConfig } from '../../../agent/api/objects';
import { formatDuration, parseDuration } from '../format';
import { joinWords, splitWords } from './words';

export interface EnvRow {
  key: string;
  value: string;
}

export interface PortRow {
  targetPort: string;
  publishedPort: string;
  protocol: PortConfig['protocol'];
}

export interface PolicyValues {
  parallelism: string;
  delay: string;
  failureAction: UpdateConfig['failureAction'];
  monitor: string;
  maxFailureRatio: string;
  order: UpdateConfig['order'];
}

export interface ServiceFormValues {
  name: string;
  image: string;
  mode: 'replicated' | 'global';
  replicas: string;
  command: string;
  args: string;
  env: EnvRow[];
  ports: PortRow[];
  cpuLimit: string;
  memoryLimit: string;
  cpuReservation: string;
  memoryReservation: string;
  constraints: string[];
  preferences: string[];
  maxReplicasPerNode: string;
  restart: { condition: RestartPolicy['condition']; delay: string; maxAttempts: string; window: string };
  update: PolicyValues;
  rollback: PolicyValues;
}

/** Form field key (`name`, `env.2`, `ports.0.targetPort`, `update.delay`) -> message. '' is the form as a whole. */
export type FieldErrors = Record<string, string>;

function policyValues(config: UpdateConfig): PolicyValues {
  return {
    parallelism: String(config.parallelism),
    delay: formatDuration(config.delayMs),
    failureAction: config.failureAction,
    monitor: formatDuration(config.monitorMs),
    maxFailureRatio: String(config.maxFailureRatio),
    order: config.order,
  };
}

function restartValues(policy: RestartPolicy): ServiceFormValues['restart'] {
  return { condition: policy.condition, delay: formatDuration(policy.delayMs), maxAttempts: String(policy.maxAttempts), window: formatDuration(policy.windowMs) };
}

function cpuText(nanoCpus: number | undefined): string {
  return nanoCpus ? String(nanoCpus / 1e9) : '';
}

function memoryText(bytes: number | undefined): string {
  if (!bytes) return '';
  for (const [unit, size] of [['GiB', 1024 ** 3], ['MiB', 1024 ** 2], ['KiB', 1024]] as const) if (bytes % size === 0) return `${bytes / size}${unit}`;
  return String(bytes);
}

const ROLLBACK_DEFAULT: UpdateConfig = { ...DEFAULT_UPDATE_CONFIG, failureAction: 'pause' };

export function emptyServiceForm(): ServiceFormValues {
  return {
    name: '',
    image: '',
    mode: 'replicated',
    replicas: '1',
    command: '',
    args: '',
    env: [],
    ports: [],
    cpuLimit: '',
    memoryLimit: '',
    cpuReservation: '',
    memoryReservation: '',
    constraints: [],
    preferences: [],
    maxReplicasPerNode: '',
    restart: restartValues(DEFAULT_RESTART_POLICY),
    update: policyValues(DEFAULT_UPDATE_CONFIG),
    rollback: policyValues(ROLLBACK_DEFAULT),
  };
}

/** The form filled from a service's spec (the update form). */
export function formFromSpec(spec: ServiceSpec): ServiceFormValues {
  const container = spec.task.container;
  return {
    name: spec.name,
    image: container.image,
    mode: 'global' in spec.mode ? 'global' : 'replicated',
    replicas: 'replicated' in spec.mode ? String(spec.mode.replicated.replicas) : '1',
    command: joinWords(container.command ?? []),
    args: joinWords(container.args ?? []),
    env: (container.env ?? []).map((entry) => {
      const at = entry.indexOf('=');
      return at < 0 ? { key: entry, value: '' } : { key: entry.slice(0, at), value: entry.slice(at + 1) };
    }),
    ports: (spec.endpoint?.ports ?? []).map((port) => ({ targetPort: String(port.targetPort), publishedPort: port.publishedPort ? String(port.publishedPort) : '', protocol: port.protocol })),
    cpuLimit: cpuText(spec.task.resources?.limits?.nanoCpus),
    memoryLimit: memoryText(spec.task.resources?.limits?.memoryBytes),
    cpuReservation: cpuText(spec.task.resources?.reservations?.nanoCpus),
    memoryReservation: memoryText(spec.task.resources?.reservations?.memoryBytes),
    constraints: [...(spec.task.placement?.constraints ?? [])],
    preferences: (spec.task.placement?.preferences ?? []).map((preference) => preference.spread.descriptor),
    maxReplicasPerNode: spec.task.placement?.maxReplicasPerNode !== undefined ? String(spec.task.placement.maxReplicasPerNode) : '',
    restart: restartValues(spec.task.restart ?? DEFAULT_RESTART_POLICY),
    update: policyValues(spec.update ?? DEFAULT_UPDATE_CONFIG),
    rollback: policyValues(spec.rollback ?? ROLLBACK_DEFAULT),
  };
}

// ------------------------------------------------------------------------------------------- parsing

/** A field's text could not be read; the message goes on the field. */
class FieldProblem extends Error {}

function wholeNumber(text: string): number {
  const trimmed = text.trim();
  if (trimmed === '') throw new FieldProblem('required');
  if (!/^\d+$/.test(trimmed)) throw new FieldProblem('must be a whole number');
  return Number(trimmed);
}

function decimal(text: string): number {
  const trimmed = text.trim();
  if (trimmed === '') throw new FieldProblem('required');
  if (!/^\d+(\.\d*)?$|^\.\d+$/.test(trimmed)) throw new FieldProblem('must be a number');
  return Number(trimmed);
}

function duration(text: string): number {
  if (text.trim() === '') throw new FieldProblem('required');
  try {
    return parseDuration(text);
  } catch (err) {
    throw new FieldProblem(err instanceof Error ? err.message : String(err));
  }
}

const MEMORY_UNITS: Readonly<Record<string, number>> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** Docker's sizes: `512m`, `512MiB`, `1.5GB`, `1048576` (units are powers of 1024, as `docker run -m`). */
export function parseMemory(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(?:([kmgt])i?b?|(b))?$/i.exec(text.trim());
  if (match === null) throw new FieldProblem('must be a size such as 512MiB or 2GiB');
  const unit = (match[2] ?? match[3] ?? '').toLowerCase();
  return Math.round(Number(match[1]) * MEMORY_UNITS[unit]);
}

function optionalCpus(text: string): number | undefined {
  return text.trim() === '' ? undefined : Math.round(decimal(text) * 1e9);
}

function optionalMemory(text: string): number | undefined {
  return text.trim() === '' ? undefined : parseMemory(text);
}

// ------------------------------------------------------------------------------------------ to a spec

/** Rows the user left blank are dropped; this maps a spec index back to the form row it came from. */
type RowIndex = number[];

interface Locations {
  env: RowIndex;
  ports: RowIndex;
  constraints: RowIndex;
  preferences: RowIndex;
}

export interface FormConversion {
  /** Undefined when some field could not be read or the spec is invalid. */
  spec: ServiceSpec | undefined;
  errors: FieldErrors;
  /** The form field a spec path (as the server reports it, `spec.task.container.image`) belongs to. */
  fieldFor(specPath: string): string;
}

const POLICY_FIELDS: Readonly<Record<string, string>> = {
  parallelism: 'parallelism',
  delayMs: 'delay',
  failureAction: 'failureAction',
  monitorMs: 'monitor',
  maxFailureRatio: 'maxFailureRatio',
  order: 'order',
};
const RESTART_FIELDS: Readonly<Record<string, string>> = { condition: 'condition', delayMs: 'delay', maxAttempts: 'maxAttempts', windowMs: 'window' };
const RESOURCE_FIELDS: Readonly<Record<string, string>> = {
  'limits.nanoCpus': 'cpuLimit',
  'limits.memoryBytes': 'memoryLimit',
  'reservations.nanoCpus': 'cpuReservation',
  'reservations.memoryBytes': 'memoryReservation',
};

function row(index: RowIndex, specIndex: string | undefined): number {
  const at = Number(specIndex);
  return Number.isInteger(at) && index[at] !== undefined ? index[at] : at;
}

/** `spec.task.container.env.1` -> `env.3` (the fourth row, when two rows above it were blank). */
export function formFieldFor(specPath: string, locations: Locations): string {
  const parts = specPath.replace(/^spec\.?/, '').split('.');
  const path = parts.join('.');
  const [first, second, third, fourth] = parts;
  if (path === 'name') return 'name';
  if (first === 'mode') return path.startsWith('mode.replicated') ? 'replicas' : 'mode';
  if (first === 'endpoint' && second === 'ports' && third !== undefined) {
    const field = fourth === 'publishedPort' || fourth === 'protocol' ? fourth : 'targetPort';
    return `ports.${row(locations.ports, third)}.${field}`;
  }
  if ((first === 'update' || first === 'rollback') && second !== undefined && POLICY_FIELDS[second]) return `${first}.${POLICY_FIELDS[second]}`;
  if (first === 'task') {
    if (second === 'container') {
      if (third === 'image' || third === 'command' || third === 'args') return third;
      if (third === 'env') return fourth === undefined ? 'env' : `env.${row(locations.env, fourth)}`;
    }
    if (second === 'resources' && third !== undefined && fourth !== undefined) return RESOURCE_FIELDS[`${third}.${fourth}`] ?? '';
    if (second === 'restart' && third !== undefined && RESTART_FIELDS[third]) return `restart.${RESTART_FIELDS[third]}`;
    if (second === 'placement') {
      if (third === 'constraints' && fourth !== undefined) return `constraints.${row(locations.constraints, fourth)}`;
      if (third === 'preferences' && fourth !== undefined) return `preferences.${row(locations.preferences, fourth)}`;
      if (third === 'maxReplicasPerNode') return 'maxReplicasPerNode';
    }
  }
  return '';
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * The spec the form describes. For an update, `base` is the service's current spec: what the form
 * does not show (labels, mounts, secrets, networks, ...) is kept, and a policy the service never set
 * is not added while its fields still hold the defaults (adding a restart policy would restart every task).
 */
export function formToSpec(values: ServiceFormValues, base?: ServiceSpec): FormConversion {
  const errors: FieldErrors = {};
  const locations: Locations = { env: [], ports: [], constraints: [], preferences: [] };
  const read = <T>(field: string, parse: () => T): T | undefined => {
    try {
      return parse();
    } catch (err) {
      if (!(err instanceof FieldProblem)) throw err;
      errors[field] ??= err.message;
      return undefined;
    }
  };

  const replicas = values.mode === 'replicated' ? read('replicas', () => wholeNumber(values.replicas)) : undefined;
  const command = read('command', () => {
    try {
      return splitWords(values.command);
    } catch (err) {
      throw new FieldProblem((err as Error).message);
    }
  });
  const args = read('args', () => {
    try {
      return splitWords(values.args);
    } catch (err) {
      throw new FieldProblem((err as Error).message);
    }
  });

  const env: string[] = [];
  values.env.forEach((entry, index) => {
    if (entry.key.trim() === '' && entry.value === '') return;
    locations.env.push(index);
    env.push(`${entry.key.trim()}=${entry.value}`);
  });

  const ports: PortConfig[] = [];
  values.ports.forEach((port, index) => {
    if (port.targetPort.trim() === '' && port.publishedPort.trim() === '') return;
    const targetPort = read(`ports.${index}.targetPort`, () => wholeNumber(port.targetPort));
    const publishedPort = port.publishedPort.trim() === '' ? undefined : read(`ports.${index}.publishedPort`, () => wholeNumber(port.publishedPort));
    locations.ports.push(index);
    const config: PortConfig = { protocol: port.protocol, targetPort: targetPort ?? 0, publishMode: 'host' };
    if (publishedPort !== undefined) config.publishedPort = publishedPort;
    ports.push(config);
  });

  const limits = { nanoCpus: read('cpuLimit', () => optionalCpus(values.cpuLimit)), memoryBytes: read('memoryLimit', () => optionalMemory(values.memoryLimit)) };
  const reservations = {
    nanoCpus: read('cpuReservation', () => optionalCpus(values.cpuReservation)),
    memoryBytes: read('memoryReservation', () => optionalMemory(values.memoryReservation)),
  };

  const constraints: string[] = [];
  values.constraints.forEach((text, index) => {
    if (text.trim() === '') return;
    locations.constraints.push(index);
    constraints.push(text.trim());
  });
  const preferences: string[] = [];
  values.preferences.forEach((text, index) => {
    if (text.trim() === '') return;
    locations.preferences.push(index);
    preferences.push(text.trim());
  });
  const maxReplicasPerNode = values.maxReplicasPerNode.trim() === '' ? undefined : read('maxReplicasPerNode', () => wholeNumber(values.maxReplicasPerNode));

  const restart = {
    condition: values.restart.condition,
    delayMs: read('restart.delay', () => duration(values.restart.delay)),
    maxAttempts: read('restart.maxAttempts', () => wholeNumber(values.restart.maxAttempts)),
    windowMs: read('restart.window', () => duration(values.restart.window)),
  };
  const policy = (prefix: 'update' | 'rollback', policyValues: PolicyValues) => ({
    parallelism: read(`${prefix}.parallelism`, () => wholeNumber(policyValues.parallelism)),
    delayMs: read(`${prefix}.delay`, () => duration(policyValues.delay)),
    failureAction: policyValues.failureAction,
    monitorMs: read(`${prefix}.monitor`, () => duration(policyValues.monitor)),
    maxFailureRatio: read(`${prefix}.maxFailureRatio`, () => decimal(policyValues.maxFailureRatio)),
    order: policyValues.order,
  });
  const update = policy('update', values.update);
  const rollback = policy('rollback', values.rollback);

  const fieldFor = (specPath: string): string => formFieldFor(specPath, locations);
  if (Object.keys(errors).length > 0) return { spec: undefined, errors, fieldFor };

  const spec = buildSpec(values, base, {
    replicas,
    command: command ?? [],
    args: args ?? [],
    env,
    ports,
    resources: { limits, reservations },
    constraints,
    preferences,
    maxReplicasPerNode,
    restart: restart as RestartPolicy,
    update: update as UpdateConfig,
    rollback: rollback as UpdateConfig,
  });
  for (const problem of serviceSpecFieldErrors(spec)) errors[fieldFor(problem.field)] ??= problem.message;
  return { spec: Object.keys(errors).length > 0 ? undefined : spec, errors, fieldFor };
}

interface ParsedParts {
  replicas: number | undefined;
  command: string[];
  args: string[];
  env: string[];
  ports: PortConfig[];
  resources: { limits: { nanoCpus?: number; memoryBytes?: number }; reservations: { nanoCpus?: number; memoryBytes?: number } };
  constraints: string[];
  preferences: string[];
  maxReplicasPerNode: number | undefined;
  restart: RestartPolicy;
  update: UpdateConfig;
  rollback: UpdateConfig;
}

function withoutUndefined<T extends object>(object: T): Partial<T> {
  return Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined)) as Partial<T>;
}

function buildSpec(values: ServiceFormValues, base: ServiceSpec | undefined, parts: ParsedParts): ServiceSpec {
  const container = { ...(base?.task.container ?? {}), image: values.image.trim() };
  if (parts.command.length > 0) container.command = parts.command;
  else delete container.command;
  if (parts.args.length > 0) container.args = parts.args;
  else delete container.args;
  if (parts.env.length > 0) container.env = parts.env;
  else delete container.env;

  const task: ServiceSpec['task'] = { ...(base?.task ?? {}), container };

  const limits = withoutUndefined(parts.resources.limits);
  const reservations = withoutUndefined(parts.resources.reservations);
  const resources: ResourceRequirements = {};
  if (Object.keys(limits).length > 0) resources.limits = limits;
  if (Object.keys(reservations).length > 0) resources.reservations = reservations;
  if (Object.keys(resources).length > 0) task.resources = resources;
  else delete task.resources;

  const placement: Placement = { ...(base?.task.placement ?? {}), constraints: parts.constraints };
  if (parts.preferences.length > 0) placement.preferences = parts.preferences.map((descriptor) => ({ spread: { descriptor } }));
  else delete placement.preferences;
  if (parts.maxReplicasPerNode !== undefined) placement.maxReplicasPerNode = parts.maxReplicasPerNode;
  else delete placement.maxReplicasPerNode;
  const placementIsEmpty = placement.constraints.length === 0 && Object.keys(placement).length === 1;
  if (placementIsEmpty && base?.task.placement === undefined) delete task.placement;
  else task.placement = placement;

  // A policy the base spec never had stays out while the form still holds the defaults.
  if (base !== undefined && base.task.restart === undefined && sameJson(parts.restart, DEFAULT_RESTART_POLICY)) delete task.restart;
  else task.restart = parts.restart;

  const spec: ServiceSpec = {
    ...(base ?? {}),
    name: values.name.trim(),
    labels: base?.labels ?? {},
    mode: values.mode === 'global' ? { global: {} } : { replicated: { replicas: parts.replicas ?? 0 } },
    task,
  };
  if (base !== undefined && base.update === undefined && sameJson(parts.update, DEFAULT_UPDATE_CONFIG)) delete spec.update;
  else spec.update = parts.update;
  if (base !== undefined && base.rollback === undefined && sameJson(parts.rollback, ROLLBACK_DEFAULT)) delete spec.rollback;
  else spec.rollback = parts.rollback;
  if (parts.ports.length > 0) spec.endpoint = { mode: base?.endpoint?.mode ?? 'vip', ports: parts.ports };
  else if (base?.endpoint !== undefined) spec.endpoint = { ...base.endpoint, ports: [] };
  else delete spec.endpoint;
  return spec;
}

/** The server's message without the `spec.task.container.image: ` it starts with when it names the field. */
export function messageForField(message: string, specPath: string): string {
  const prefix = `${specPath}: `;
  const own = message.split('; ').find((part) => part.startsWith(prefix));
  return own !== undefined ? own.slice(prefix.length) : message;
}
