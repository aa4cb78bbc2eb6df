/**
 * swarmctl's service flags: parsing each value the way Docker users type it (`64MiB`, `0.5`,
 * `8080:80/udp`, `type=bind,source=/a,target=/b`) and applying a set of flags to a service spec.
 * `service create` applies them to an empty spec, `service update` to the spec it read, so both
 * commands mean the same thing by the same flag.
 */
import { InvalidArgumentError } from 'commander';
import { DEFAULT_RESTART_POLICY, DEFAULT_UPDATE_CONFIG } from '../api/service-spec';
import type { ContainerSpec, Mount, PortConfig, Resources, RestartPolicy, ServiceSpec, UpdateConfig } from '../api/objects';
import { CliError } from './context';
import { parseDuration } from './duration';

// -------------------------------------------------------------------------------------------- values

/** A value parser for commander: its errors become "option '--x <v>' argument 'y' is invalid. why". */
function invalid(message: string): never {
  throw new InvalidArgumentError(message);
}

const BYTE_UNITS: Readonly<Record<string, number>> = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40, p: 2 ** 50 };

/** docker/go-units RAMInBytes: `512`, `64m`, `64MiB`, `1.5g` (binary units, case-insensitive). */
export function parseMemory(text: string): number {
  const match = /^(\d+(?:\.\d+)?) ?([kmgtp])?i?b?$/i.exec(text.trim());
  if (match === null) invalid('use a size such as 64MiB, 512m or 1g.');
  const bytes = Math.floor(Number(match[1]) * BYTE_UNITS[(match[2] ?? '').toLowerCase()]);
  if (!Number.isSafeInteger(bytes)) invalid('too large.');
  return bytes;
}

/** CPUs as a decimal (`0.5`, `2`), to nano-CPUs without float rounding. */
export function parseCpus(text: string): number {
  const match = /^(\d*)(?:\.(\d{1,9}))?$/.exec(text.trim());
  if (match === null || (match[1] === '' && match[2] === undefined)) invalid('use a number of CPUs such as 0.5 or 2 (at most 9 decimals).');
  return Number(match[1] || '0') * 1e9 + Number((match[2] ?? '').padEnd(9, '0'));
}

export function parseCount(text: string): number {
  if (!/^\d+$/.test(text.trim())) invalid('must be a whole number, 0 or more.');
  return Number(text);
}

export function parseRatio(text: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value < 0 || value > 1) invalid('must be a number from 0 to 1.');
  return value;
}

/** A Go duration (`5s`, `1m30s`) in milliseconds, not negative. */
export function parseDurationFlag(text: string): number {
  let ms: number;
  try {
    ms = parseDuration(text);
  } catch (err) {
    invalid(err instanceof Error ? err.message : String(err));
  }
  if (ms < 0) invalid('must not be negative.');
  return ms;
}

/** `published:target[/protocol]`, or `target[/protocol]` to let the node pick the published port. */
export function parsePort(text: string): PortConfig {
  return portFrom(text, 'use published:target[/protocol], e.g. 8080:80 or 5353:53/udp.');
}

/**
 * `--publish-rm`, after Docker: `target[/protocol]` removes every port with that target (the form
 * Docker documents); `published:target[/protocol]` only the one published there.
 */
export function parsePortToRemove(text: string): PortConfig {
  return portFrom(text, 'use target[/protocol], e.g. 80 or 53/udp (or published:target[/protocol] for one of several).');
}

function portFrom(text: string, usage: string): PortConfig {
  const match = /^(?:(\d+):)?(\d+)(?:\/(\w+))?$/.exec(text.trim());
  if (match === null) invalid(usage);
  const protocol = (match[3] ?? 'tcp').toLowerCase();
  if (protocol !== 'tcp' && protocol !== 'udp' && protocol !== 'sctp') invalid(`unknown protocol "${match[3]}" (use tcp, udp or sctp).`);
  const targetPort = Number(match[2]);
  if (targetPort < 1 || targetPort > 65535) invalid('the target port must be from 1 to 65535.');
  const port: PortConfig = { protocol, targetPort, publishMode: 'host' };
  if (match[1] !== undefined) {
    const publishedPort = Number(match[1]);
    if (publishedPort > 65535) invalid('the published port must be from 0 to 65535.');
    port.publishedPort = publishedPort;
  }
  return port;
}

/** Docker's `--mount type=bind,source=/srv,target=/www,readonly`. */
export function parseMount(text: string): Mount {
  const mount: Partial<Mount> = {};
  for (const field of text.split(',')) {
    const at = field.indexOf('=');
    const key = (at < 0 ? field : field.slice(0, at)).trim().toLowerCase();
    const value = at < 0 ? undefined : field.slice(at + 1).trim();
    if (key === 'type') {
      if (value !== 'bind' && value !== 'volume' && value !== 'tmpfs') invalid('type is bind, volume or tmpfs.');
      mount.type = value;
    } else if (key === 'source' || key === 'src') mount.source = value ?? '';
    else if (key === 'target' || key === 'dst' || key === 'destination') mount.target = value ?? '';
    else if (key === 'readonly' || key === 'ro') {
      if (value !== undefined && value !== 'true' && value !== 'false' && value !== '1' && value !== '0') invalid(`${key} is true or false.`);
      mount.readOnly = value === undefined || value === 'true' || value === '1';
    } else invalid(`unknown mount field "${key}" (use type, source, target, readonly).`);
  }
  if (mount.target === undefined) invalid('give a target, e.g. type=volume,source=data,target=/data.');
  return { type: mount.type ?? 'volume', target: mount.target, ...(mount.source === undefined ? {} : { source: mount.source }), ...(mount.readOnly ? { readOnly: true } : {}) };
}

/** `KEY=value` for labels and env. */
export function parseKeyValue(text: string): [string, string] {
  const at = text.indexOf('=');
  if (at <= 0) invalid('use KEY=value.');
  return [text.slice(0, at), text.slice(at + 1)];
}

export function oneOf<T extends string>(values: readonly T[], aliases: Readonly<Record<string, T>> = {}) {
  return (text: string): T => {
    const value = aliases[text] ?? values.find((candidate) => candidate === text);
    if (value === undefined) invalid(`must be ${values.slice(0, -1).join(', ')} or ${values.at(-1)}.`);
    return value;
  };
}

/** For repeatable options without a default: undefined means "not given", unlike an empty list. */
export function collect<T>(parse: (text: string) => T) {
  return (text: string, previous: T[] | undefined): T[] => [...(previous ?? []), parse(text)];
}

export const collectText = collect((text: string) => text);

// --------------------------------------------------------------------------------------------- flags

export const RESTART_CONDITIONS = ['any', 'on-failure', 'none'] as const;
export const FAILURE_ACTIONS = ['pause', 'continue', 'rollback'] as const;
export const ORDERS = ['stop-first', 'start-first'] as const;

export interface UpdateFlags {
  parallelism?: number;
  delay?: number;
  failureAction?: UpdateConfig['failureAction'];
  monitor?: number;
  maxFailureRatio?: number;
  order?: UpdateConfig['order'];
}

/** The flags `service create` and `service update` share: each replaces one setting. */
export interface SharedServiceFlags {
  replicas?: number;
  image?: string;
  command?: string[];
  args?: string[];
  hostname?: string;
  workdir?: string;
  user?: string;
  stopSignal?: string;
  stopGracePeriod?: number;
  cpuLimit?: number;
  memoryLimit?: number;
  cpuReservation?: number;
  memoryReservation?: number;
  restartCondition?: RestartPolicy['condition'];
  restartDelay?: number;
  restartMaxAttempts?: number;
  restartWindow?: number;
  replicasMaxPerNode?: number;
  updateParallelism?: number;
  updateDelay?: number;
  updateFailureAction?: UpdateConfig['failureAction'];
  updateMonitor?: number;
  updateMaxFailureRatio?: number;
  updateOrder?: UpdateConfig['order'];
  rollbackParallelism?: number;
  rollbackDelay?: number;
  rollbackFailureAction?: UpdateConfig['failureAction'];
  rollbackMonitor?: number;
  rollbackMaxFailureRatio?: number;
  rollbackOrder?: UpdateConfig['order'];
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as Partial<T>;
}

/** Some limit or reservation given: set it, 0 removes it; an empty section disappears. */
function withResources(current: Partial<Resources> | undefined, cpus: number | undefined, memory: number | undefined): Partial<Resources> | undefined {
  if (cpus === undefined && memory === undefined) return current;
  const next: Partial<Resources> = { ...current };
  if (cpus !== undefined) next.nanoCpus = cpus;
  if (memory !== undefined) next.memoryBytes = memory;
  if (next.nanoCpus === 0) delete next.nanoCpus;
  if (next.memoryBytes === 0) delete next.memoryBytes;
  return Object.keys(next).length === 0 ? undefined : next;
}

function withUpdateConfig(current: UpdateConfig | undefined, flags: UpdateFlags): UpdateConfig | undefined {
  const given = definedOnly({
    parallelism: flags.parallelism,
    delayMs: flags.delay,
    failureAction: flags.failureAction,
    monitorMs: flags.monitor,
    maxFailureRatio: flags.maxFailureRatio,
    order: flags.order,
  });
  if (Object.keys(given).length === 0) return current;
  return { ...(current ?? DEFAULT_UPDATE_CONFIG), ...given };
}

function setOptional<T extends object, K extends keyof T>(target: T, key: K, value: T[K] | undefined): void {
  if (value !== undefined) target[key] = value;
}

/** Docker's way to unset a text setting: an empty value (`--hostname ""`, `--args ""`) removes it. */
function setOrRemove<T extends object, K extends keyof T>(target: T, key: K, value: (T[K] & (string | string[])) | undefined): void {
  if (value === undefined) return;
  if (value === '' || (Array.isArray(value) && value.length === 1 && value[0] === '')) delete target[key];
  else target[key] = value;
}

/** `spec` (a private copy, changed in place) with every given flag applied. */
export function applySharedFlags(spec: ServiceSpec, flags: SharedServiceFlags, subject: string): ServiceSpec {
  if (flags.replicas !== undefined) {
    if (!('replicated' in spec.mode)) throw new CliError(`${subject} is global: --replicas is for replicated services`);
    spec.mode = { replicated: { replicas: flags.replicas } };
  }
  const container: ContainerSpec = spec.task.container;
  setOptional(container, 'image', flags.image);
  setOrRemove(container, 'command', flags.command);
  setOrRemove(container, 'args', flags.args);
  setOrRemove(container, 'hostname', flags.hostname);
  setOrRemove(container, 'dir', flags.workdir);
  setOrRemove(container, 'user', flags.user);
  setOrRemove(container, 'stopSignal', flags.stopSignal);
  setOptional(container, 'stopGracePeriodMs', flags.stopGracePeriod);

  const limits = withResources(spec.task.resources?.limits, flags.cpuLimit, flags.memoryLimit);
  const reservations = withResources(spec.task.resources?.reservations, flags.cpuReservation, flags.memoryReservation);
  const resources = { ...(limits === undefined ? {} : { limits }), ...(reservations === undefined ? {} : { reservations }) };
  if (Object.keys(resources).length === 0) delete spec.task.resources;
  else spec.task.resources = resources;

  const restart = definedOnly({ condition: flags.restartCondition, delayMs: flags.restartDelay, maxAttempts: flags.restartMaxAttempts, windowMs: flags.restartWindow });
  if (Object.keys(restart).length > 0) spec.task.restart = { ...(spec.task.restart ?? DEFAULT_RESTART_POLICY), ...restart };

  if (flags.replicasMaxPerNode !== undefined) {
    const placement = spec.task.placement ?? { constraints: [] };
    if (flags.replicasMaxPerNode === 0) delete placement.maxReplicasPerNode;
    else placement.maxReplicasPerNode = flags.replicasMaxPerNode;
    spec.task.placement = placement;
  }

  const update = withUpdateConfig(spec.update, {
    parallelism: flags.updateParallelism,
    delay: flags.updateDelay,
    failureAction: flags.updateFailureAction,
    monitor: flags.updateMonitor,
    maxFailureRatio: flags.updateMaxFailureRatio,
    order: flags.updateOrder,
  });
  if (update !== undefined) spec.update = update;
  const rollback = withUpdateConfig(spec.rollback, {
    parallelism: flags.rollbackParallelism,
    delay: flags.rollbackDelay,
    failureAction: flags.rollbackFailureAction,
    monitor: flags.rollbackMonitor,
    maxFailureRatio: flags.rollbackMaxFailureRatio,
    order: flags.rollbackOrder,
  });
  if (rollback !== undefined) spec.rollback = rollback;
  return spec;
}
