/**
 * What a valid service spec is (SwarmKit's controlapi validateServiceSpec, with swarmdesk's limits).
 * The control API checks every spec it is given against `serviceSpecSchema`, so the orchestrators, the
 * scheduler and the executor can take a stored spec as well-formed. A bad spec is refused with
 * InvalidArgument and a message that names the field: `spec.task.container.image: required`.
 *
 * Placement constraints are parsed by the one parser the scheduler and orchestrators also use
 * (./constraint.ts), so a spec accepted here is one they can read; whether a node meets one is the
 * scheduler's business.
 */
import { z } from 'zod';
import { parseConstraint } from './constraint';
import { ApiError } from './errors';
import type { RestartPolicy, ServiceMode, ServiceSpec, UpdateConfig } from './objects';

export const MAX_SERVICE_NAME = 63;
const MAX_LABEL_KEY = 256;
const MAX_LABEL_VALUE = 4096;
const MAX_LABELS = 256;
/** SwarmKit's floors: below these Docker cannot run a container, so the spec is refused up front. */
export const MIN_MEMORY_BYTES = 4 * 1024 * 1024;
export const MIN_NANO_CPUS = 1e6;
const MAX_PORT = 65535;

// -------------------------------------------------------------------------------------------- schemas

const wholeCount = z.number().int('must be a whole number').min(0, 'must not be negative');
const durationMs = z.number().int('must be a whole number of milliseconds').min(0, 'must not be negative');
const nonBlank = z.string().min(1, 'must not be empty').regex(/^\S(.*\S)?$/s, 'must not start or end with spaces');

const labelKey = z.string().min(1, 'label keys must not be empty').max(MAX_LABEL_KEY).regex(/^[^\s=]+$/, 'label keys must not contain spaces or "="');
export const labelsSchema = z
  .record(labelKey, z.string().max(MAX_LABEL_VALUE))
  .refine((value) => Object.keys(value).length <= MAX_LABELS, `at most ${MAX_LABELS} labels`);

/** A DNS label (it names containers, `web.1.<id>`, and later DNS entries); `_` allowed inside, as SwarmKit does. */
const serviceName = z
  .string()
  .min(1, { error: 'required', abort: true })
  .max(MAX_SERVICE_NAME, `at most ${MAX_SERVICE_NAME} characters`)
  .regex(/^[A-Za-z0-9](?:[-_]*[A-Za-z0-9])*$/, 'must be letters, digits, "-" and "_", starting and ending with a letter or digit');

const absolutePath = z.string().min(1, { error: 'required', abort: true }).regex(/^\//, 'must be an absolute path');

const mode = z
  .strictObject({
    replicated: z.strictObject({ replicas: wholeCount }).optional(),
    global: z.strictObject({}).optional(),
  })
  .superRefine((value, ctx) => {
    if ((value.replicated === undefined) === (value.global === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'give exactly one of replicated or global' });
    }
  })
  .transform((value): ServiceMode => (value.replicated !== undefined ? { replicated: value.replicated } : { global: {} }));

const VOLUME_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

const mount = z
  .strictObject({
    type: z.enum(['bind', 'volume', 'tmpfs'], 'must be bind, volume or tmpfs'),
    source: z.string().optional(),
    target: absolutePath,
    readOnly: z.boolean().optional(),
  })
  .superRefine((value, ctx) => {
    const source = value.source ?? '';
    const problem =
      value.type === 'bind'
        ? source === ''
          ? 'required for a bind mount'
          : source.startsWith('/')
            ? undefined
            : 'must be an absolute path on the node'
        : value.type === 'volume'
          ? source === '' || VOLUME_NAME.test(source)
            ? undefined
            : 'must be a volume name (letters, digits, "_", "." and "-")'
          : source === ''
            ? undefined
            : 'a tmpfs mount has no source';
    if (problem !== undefined) ctx.addIssue({ code: 'custom', path: ['source'], message: problem });
  });

/** Docker takes a signal by name (`SIGTERM`, `TERM`) or number. */
const stopSignal = z.string().regex(/^(SIG)?[A-Z][A-Z0-9+-]*$|^([1-9]|[1-5][0-9]|6[0-4])$/, 'must be a signal name such as SIGTERM, or a number from 1 to 64');

const envEntry = z.string().regex(/^[^=\s][^=]*=/s, 'must be KEY=value');

const container = z
  .strictObject({
    image: z.string().min(1, { error: 'required', abort: true }).regex(/^\S+$/, 'must not contain spaces'),
    labels: labelsSchema.optional(),
    command: z.array(z.string()).optional(),
    args: z.array(z.string()).optional(),
    hostname: z.string().regex(/^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$/, 'must be a host name (letters, digits, "." and "-")').optional(),
    env: z.array(envEntry).optional(),
    dir: absolutePath.optional(),
    user: nonBlank.optional(),
    tty: z.boolean().optional(),
    mounts: z.array(mount).optional(),
    secrets: z
      .array(
        z.strictObject({
          secretId: z.string().min(1, 'required'),
          secretName: z.string().min(1, 'required'),
          target: z.strictObject({ name: z.string().min(1, 'required'), uid: z.string().optional(), gid: z.string().optional(), mode: z.number().int().min(0).max(0o7777).optional() }),
        }),
      )
      .optional(),
    stopGracePeriodMs: durationMs.optional(),
    stopSignal: stopSignal.optional(),
  })
  .superRefine((value, ctx) => {
    const targets = new Map<string, number>();
    (value.mounts ?? []).forEach((entry, index) => {
      const first = targets.get(entry.target);
      if (first !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['mounts', index, 'target'], message: `${entry.target} is already the target of mounts.${first}` });
      } else targets.set(entry.target, index);
    });
  });

const resources = z.strictObject({
  nanoCpus: wholeCount.refine((value) => value === 0 || value >= MIN_NANO_CPUS, `must be 0 or at least ${MIN_NANO_CPUS} (0.001 CPU)`).optional(),
  memoryBytes: wholeCount.refine((value) => value === 0 || value >= MIN_MEMORY_BYTES, 'must be 0 or at least 4 MiB').optional(),
});

const resourceRequirements = z
  .strictObject({ limits: resources.optional(), reservations: resources.optional() })
  .superRefine((value, ctx) => {
    for (const field of ['nanoCpus', 'memoryBytes'] as const) {
      const limit = value.limits?.[field] ?? 0;
      const reservation = value.reservations?.[field] ?? 0;
      if (limit > 0 && reservation > limit) {
        ctx.addIssue({ code: 'custom', path: ['reservations', field], message: `${reservation} is more than the limit (${limit})` });
      }
    }
  });

const restartPolicy = z.strictObject({
  condition: z.enum(['none', 'on-failure', 'any'], 'must be none, on-failure or any'),
  delayMs: durationMs,
  maxAttempts: wholeCount,
  windowMs: durationMs,
});

const constraint = z.string().superRefine((value, ctx) => {
  const parsed = parseConstraint(value);
  if (!parsed.ok) ctx.addIssue({ code: 'custom', message: parsed.error });
});

const spreadDescriptor = z
  .string()
  .regex(/^(node|engine)\.labels\.[^\s=]+$/, 'must be node.labels.<name> or engine.labels.<name>');

const placement = z.strictObject({
  constraints: z.array(constraint),
  preferences: z.array(z.strictObject({ spread: z.strictObject({ descriptor: spreadDescriptor }) })).optional(),
  platforms: z.array(z.strictObject({ os: z.string(), arch: z.string() })).optional(),
  maxReplicasPerNode: wholeCount.optional(),
});

const task = z.strictObject({
  container,
  resources: resourceRequirements.optional(),
  restart: restartPolicy.optional(),
  placement: placement.optional(),
  networks: z.array(z.strictObject({ target: z.string().min(1, 'required'), aliases: z.array(z.string()).optional() })).optional(),
  forceUpdate: wholeCount.optional(),
});

function updateConfig(failureAction: z.ZodType<UpdateConfig['failureAction']>) {
  return z.strictObject({
    parallelism: wholeCount,
    delayMs: durationMs,
    failureAction,
    monitorMs: durationMs,
    maxFailureRatio: z.number().min(0, 'must be between 0 and 1').max(1, 'must be between 0 and 1'),
    order: z.enum(['stop-first', 'start-first'], 'must be stop-first or start-first'),
  });
}

const port = z.strictObject({
  name: z.string().optional(),
  protocol: z.enum(['tcp', 'udp', 'sctp'], 'must be tcp, udp or sctp'),
  targetPort: z.number().int('must be a port number').min(1, 'must be from 1 to 65535').max(MAX_PORT, 'must be from 1 to 65535'),
  /** 0 or absent: the node picks a free port. */
  publishedPort: z.number().int('must be a port number').min(0, 'must be from 0 to 65535').max(MAX_PORT, 'must be from 0 to 65535').optional(),
  publishMode: z.enum(['ingress', 'host'], 'must be host').refine((value) => value === 'host', 'only host mode is available (the routing mesh is not part of swarmdesk yet)'),
});

const endpoint = z
  .strictObject({ mode: z.enum(['vip', 'dnsrr'], 'must be vip or dnsrr'), ports: z.array(port) })
  .superRefine((value, ctx) => {
    const published = new Map<string, number>();
    value.ports.forEach((entry, index) => {
      if (entry.publishedPort === undefined || entry.publishedPort === 0) return;
      const key = `${entry.publishedPort}/${entry.protocol}`;
      const first = published.get(key);
      if (first !== undefined) ctx.addIssue({ code: 'custom', path: ['ports', index, 'publishedPort'], message: `${key} is already published by ports.${first}` });
      else published.set(key, index);
    });
  });

export const serviceSpecSchema = z
  .strictObject({
    name: serviceName,
    labels: labelsSchema,
    mode,
    task,
    update: updateConfig(z.enum(['pause', 'continue', 'rollback'], 'must be pause, continue or rollback')).optional(),
    // A rollback that fails cannot roll back again.
    rollback: updateConfig(z.enum(['pause', 'continue'], 'must be pause or continue')).optional(),
    endpoint: endpoint.optional(),
  })
  .superRefine((value, ctx) => {
    if ('global' in value.mode && !('replicated' in value.mode) && value.task.placement?.maxReplicasPerNode !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['task', 'placement', 'maxReplicasPerNode'], message: 'only for replicated services' });
    }
  }) satisfies z.ZodType<ServiceSpec>;

/** Plain words for the commonest mistakes: "required" rather than "expected string, received undefined". */
export const fieldErrorMap: z.core.$ZodErrorMap = (issue) => {
  if (issue.code === 'invalid_type' && issue.input === undefined) return 'required';
  // zod reports a bad record key as "Invalid key in record"; the key schema's own message says why.
  if (issue.code === 'invalid_key') return issue.issues[0]?.message;
  if (issue.code === 'unrecognized_keys') return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((key) => `"${key}"`).join(', ')}`;
  return undefined;
};

export function describeIssue(issue: z.core.$ZodIssue, prefix: readonly PropertyKey[] = []): string {
  const path = [...prefix, ...issue.path].map(String).join('.');
  return path === '' ? issue.message : `${path}: ${issue.message}`;
}

/** The spec, typed, or an InvalidArgument ApiError naming every bad field (`spec.mode: ...; spec.name: ...`). */
export function validateServiceSpec(spec: unknown): ServiceSpec {
  const result = serviceSpecSchema.safeParse(spec, { error: fieldErrorMap });
  if (!result.success) throw new ApiError('InvalidArgument', result.error.issues.map((issue) => describeIssue(issue, ['spec'])).join('; '));
  return result.data;
}

// ------------------------------------------------------------------------------------------- defaults

/**
 * What a spec without a restart policy or update config gets (SwarmKit's api/defaults), defined here
 * only: the orchestrators apply them (restartPolicyOf in orchestrator/tasks.ts, updateConfigFor in
 * orchestrator/update/config.ts), swarmctl fills them in when only some of the settings are given.
 */
export const DEFAULT_RESTART_POLICY: Readonly<RestartPolicy> = { condition: 'any', delayMs: 5000, maxAttempts: 0, windowMs: 0 };
export const DEFAULT_UPDATE_CONFIG: Readonly<UpdateConfig> = {
  parallelism: 1,
  delayMs: 0,
  failureAction: 'pause',
  monitorMs: 5000,
  maxFailureRatio: 0,
  order: 'stop-first',
};
