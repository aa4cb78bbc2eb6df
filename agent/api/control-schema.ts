/**
 * Server-side validation of control API requests. Every message from a client is checked here before
 * any handler sees it; a bad one is refused with InvalidArgument naming the field (`spec.labels.zone:
 * ...`), never with a stack trace.
 */
import { z } from 'zod';
import { ApiError } from './errors';
import type { ControlMethod, ControlRequest } from './control';
import { isTaskState } from './objects';
import { fieldErrorMap, serviceSpecSchema } from './service-spec';

const MAX_NAME = 128;
const MAX_LABEL_KEY = 256;
const MAX_LABEL_VALUE = 4096;
const MAX_LABELS = 256;
/** SwarmKit's floor for certificate validity: renewals at 50-80% must stay well apart. */
export const MIN_CERT_EXPIRY_MS = 60 * 60 * 1000;
export const MIN_HEARTBEAT_PERIOD_MS = 1000;
export const MAX_HEARTBEAT_PERIOD_MS = 24 * 60 * 60 * 1000;
export const MAX_TASK_HISTORY = 1000;

const id = z.string().regex(/^[0-9a-z]{1,64}$/, 'must be an ID (lowercase letters and digits)');
const version = z.number().int().nonnegative();
const labelKey = z.string().min(1).max(MAX_LABEL_KEY).regex(/^[^\s=]+$/, 'label keys must not contain spaces or "="');
const labels = z
  .record(labelKey, z.string().max(MAX_LABEL_VALUE))
  .refine((value) => Object.keys(value).length <= MAX_LABELS, `at most ${MAX_LABELS} labels`);
const name = z.string().max(MAX_NAME).regex(/^[A-Za-z0-9._-]*$/, 'names use letters, digits, ".", "_" and "-"');

const nodeSpec = z.strictObject({
  name: name.optional(),
  labels,
  role: z.enum(['worker', 'manager']),
  availability: z.enum(['active', 'pause', 'drain']),
});

const clusterSpec = z.strictObject({
  name: name.min(1),
  labels,
  orchestration: z.strictObject({ taskHistoryRetentionLimit: z.number().int().min(0).max(MAX_TASK_HISTORY) }),
  dispatcher: z.strictObject({ heartbeatPeriodMs: z.number().int().min(MIN_HEARTBEAT_PERIOD_MS).max(MAX_HEARTBEAT_PERIOD_MS) }),
  caConfig: z.strictObject({ nodeCertExpiryMs: z.number().int().min(MIN_CERT_EXPIRY_MS) }),
});

const empty = z.strictObject({});

const schemas: { readonly [M in ControlMethod]: z.ZodType<ControlRequest<M>> } = {
  listNodes: empty,
  getNode: z.strictObject({ nodeId: id }),
  updateNode: z.strictObject({ nodeId: id, version, spec: nodeSpec }),
  removeNode: z.strictObject({ nodeId: id, force: z.boolean() }),
  listClusters: empty,
  getCluster: z.strictObject({ clusterId: id }),
  updateCluster: z.strictObject({
    clusterId: id,
    version,
    spec: clusterSpec,
    rotateWorkerToken: z.boolean().optional(),
    rotateManagerToken: z.boolean().optional(),
  }),
  getVersion: empty,
  createService: z.strictObject({ spec: serviceSpecSchema }),
  getService: z.strictObject({ serviceId: id }),
  listServices: empty,
  updateService: z.strictObject({ serviceId: id, version, spec: serviceSpecSchema, force: z.boolean().optional() }),
  rollbackService: z.strictObject({ serviceId: id, version }),
  removeService: z.strictObject({ serviceId: id }),
  listTasks: z.strictObject({
    serviceId: id.optional(),
    nodeId: id.optional(),
    desiredState: z.number().refine(isTaskState, 'must be a task state').optional(),
  }),
  getTask: z.strictObject({ taskId: id }),
  removeTask: z.strictObject({ taskId: id }),
};

function describeIssue(issue: z.core.$ZodIssue): string {
  const path = issue.path.map(String).join('.');
  return path === '' ? issue.message : `${path}: ${issue.message}`;
}

/** The request, typed, or an InvalidArgument ApiError naming the first bad field. */
export function parseControlRequest<M extends ControlMethod>(method: M, request: unknown): ControlRequest<M> {
  if (typeof request !== 'object' || request === null || Array.isArray(request)) {
    throw new ApiError('InvalidArgument', `${method}: the request is not a JSON object`);
  }
  const result = schemas[method].safeParse(request, { error: fieldErrorMap });
  if (!result.success) {
    throw new ApiError('InvalidArgument', `${method}: ${result.error.issues.map(describeIssue).join('; ')}`);
  }
  return result.data;
}
