/**
 * What `service update` does besides the settings it shares with `service create`: the list-valued
 * settings (env, constraints, labels, mounts, published ports, placement preferences) change by
 * `--x-add` / `--x-rm`, as in `docker service update`. Removals apply first, then additions, so
 * `--publish-rm 80 --publish-add 8081:80` moves a published port in one update. Removing what is not
 * there is refused (a typo should not look like success).
 */
import type { Mount, PlacementPreference, PortConfig, ServiceSpec } from '../api/objects';
import { validateServiceSpec } from '../api/service-spec';
import { CliError } from './context';
import { applySharedFlags, type SharedServiceFlags } from './service-flags';

export interface UpdateFlags extends SharedServiceFlags {
  envAdd?: string[];
  envRm?: string[];
  constraintAdd?: string[];
  constraintRm?: string[];
  labelAdd?: [string, string][];
  labelRm?: string[];
  mountAdd?: Mount[];
  mountRm?: string[];
  publishAdd?: PortConfig[];
  publishRm?: PortConfig[];
  placementPrefAdd?: PlacementPreference[];
  placementPrefRm?: PlacementPreference[];
  force?: boolean;
}

/**
 * `service create` flags that `service update` does not take, and what to say instead (commander's
 * "unknown option" would leave the user guessing). Registered on update as hidden options.
 */
export const CREATE_ONLY_FLAGS: Readonly<Record<string, { flag: string; instead: string }>> = {
  name: { flag: '--name', instead: 'a service cannot be renamed; create a new one with swarmctl service create' },
  mode: { flag: '--mode', instead: 'a service stays replicated or global; remove it and create it again with the other --mode' },
  env: { flag: '--env', instead: 'use --env-add KEY=value or --env-rm KEY' },
  label: { flag: '--label', instead: 'use --label-add key=value or --label-rm key' },
  mount: { flag: '--mount', instead: 'use --mount-add <mount> or --mount-rm <target>' },
  ports: { flag: '--ports', instead: 'use --publish-add published:target[/protocol] or --publish-rm target[/protocol]' },
  constraint: { flag: '--constraint', instead: 'use --constraint-add <expr> or --constraint-rm <expr>' },
  placementPref: { flag: '--placement-pref', instead: 'use --placement-pref-add spread=<label> or --placement-pref-rm spread=<label>' },
};

/** Refuses a create-only flag given to update, naming it. */
export function refuseCreateOnlyFlags(flags: Readonly<Record<string, unknown>>): void {
  for (const [key, { flag, instead }] of Object.entries(CREATE_ONLY_FLAGS)) {
    if (flags[key] !== undefined) throw new CliError(`service update does not take ${flag}: ${instead}`);
  }
}

function envKey(entry: string): string {
  return entry.slice(0, entry.indexOf('='));
}

/** `80/tcp`, or `8080:80/tcp` when the published port is given. */
function portText(port: PortConfig): string {
  return `${port.publishedPort === undefined ? '' : `${port.publishedPort}:`}${port.targetPort}/${port.protocol}`;
}

/** Docker's `--publish-rm`: by target port and protocol; a published port given narrows it to that one. */
function removesPort(removal: PortConfig, port: PortConfig): boolean {
  return (
    port.targetPort === removal.targetPort &&
    port.protocol === removal.protocol &&
    (removal.publishedPort === undefined || (port.publishedPort ?? 0) === removal.publishedPort)
  );
}

/** An added port replaces the one on the same published port (or, when the node picks it, the same target). */
function replacedBy(added: PortConfig, port: PortConfig): boolean {
  if (port.protocol !== added.protocol) return false;
  const published = added.publishedPort ?? 0;
  return published === 0 ? (port.publishedPort ?? 0) === 0 && port.targetPort === added.targetPort : port.publishedPort === published;
}

function applyPorts(spec: ServiceSpec, flags: UpdateFlags, subject: string): void {
  if (flags.publishAdd === undefined && flags.publishRm === undefined) return;
  let ports = spec.endpoint?.ports ?? [];
  for (const removal of flags.publishRm ?? []) {
    if (!ports.some((port) => removesPort(removal, port))) throw new CliError(`${subject} publishes no port ${portText(removal)} (--publish-rm)`);
    ports = ports.filter((port) => !removesPort(removal, port));
  }
  for (const added of flags.publishAdd ?? []) ports = [...ports.filter((port) => !replacedBy(added, port)), added];
  const mode = spec.endpoint?.mode ?? 'vip';
  if (ports.length === 0 && mode === 'vip') delete spec.endpoint;
  else spec.endpoint = { mode, ports };
}

function applyMounts(spec: ServiceSpec, flags: UpdateFlags, subject: string): void {
  if (flags.mountAdd === undefined && flags.mountRm === undefined) return;
  let mounts = spec.task.container.mounts ?? [];
  for (const target of flags.mountRm ?? []) {
    if (!mounts.some((mount) => mount.target === target)) throw new CliError(`${subject} has no mount at "${target}" (--mount-rm takes a mount's target)`);
    mounts = mounts.filter((mount) => mount.target !== target);
  }
  const added = new Set<string>();
  for (const mount of flags.mountAdd ?? []) {
    if (added.has(mount.target)) throw new CliError(`--mount-add: two mounts at "${mount.target}"`);
    added.add(mount.target);
    mounts = [...mounts.filter((existing) => existing.target !== mount.target), mount];
  }
  if (mounts.length === 0) delete spec.task.container.mounts;
  else spec.task.container.mounts = mounts;
}

function applyPreferences(spec: ServiceSpec, flags: UpdateFlags, subject: string): void {
  if (flags.placementPrefAdd === undefined && flags.placementPrefRm === undefined) return;
  const placement = spec.task.placement ?? { constraints: [] };
  let preferences = placement.preferences ?? [];
  const same = (a: PlacementPreference) => (b: PlacementPreference) => a.spread.descriptor === b.spread.descriptor;
  for (const removal of flags.placementPrefRm ?? []) {
    if (!preferences.some(same(removal))) throw new CliError(`${subject} has no placement preference "spread=${removal.spread.descriptor}"`);
    preferences = preferences.filter((preference) => !same(removal)(preference));
  }
  for (const added of flags.placementPrefAdd ?? []) if (!preferences.some(same(added))) preferences = [...preferences, added];
  if (preferences.length === 0) delete placement.preferences;
  else placement.preferences = preferences;
  spec.task.placement = placement;
}

/** The spec (a private copy) with the update's flags applied, validated; refuses removing what is not there. */
export function applyUpdateFlags(spec: ServiceSpec, flags: UpdateFlags, subject: string): ServiceSpec {
  if (flags.envAdd !== undefined || flags.envRm !== undefined) {
    let env = spec.task.container.env ?? [];
    for (const key of flags.envRm ?? []) {
      if (!env.some((entry) => envKey(entry) === key)) throw new CliError(`${subject} has no environment variable "${key}"`);
      env = env.filter((entry) => envKey(entry) !== key);
    }
    for (const entry of flags.envAdd ?? []) env = [...env.filter((existing) => envKey(existing) !== envKey(entry)), entry];
    spec.task.container.env = env;
  }
  if (flags.constraintAdd !== undefined || flags.constraintRm !== undefined) {
    const placement = spec.task.placement ?? { constraints: [] };
    for (const constraint of flags.constraintRm ?? []) {
      if (!placement.constraints.includes(constraint)) throw new CliError(`${subject} has no constraint "${constraint}"`);
      placement.constraints = placement.constraints.filter((existing) => existing !== constraint);
    }
    for (const constraint of flags.constraintAdd ?? []) if (!placement.constraints.includes(constraint)) placement.constraints.push(constraint);
    spec.task.placement = placement;
  }
  applyPreferences(spec, flags, subject);
  applyMounts(spec, flags, subject);
  applyPorts(spec, flags, subject);
  for (const key of flags.labelRm ?? []) {
    if (!(key in spec.labels)) throw new CliError(`${subject} has no label "${key}"`);
    delete spec.labels[key];
  }
  for (const [key, value] of flags.labelAdd ?? []) spec.labels[key] = value;
  return validateServiceSpec(applySharedFlags(spec, flags, subject));
}
