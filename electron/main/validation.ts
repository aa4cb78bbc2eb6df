/**
 * Every argument from the renderer is checked here before any work: its size (no string, array or
 * nesting beyond fixed bounds), then its shape (strict zod objects: unknown keys are refused). A refusal
 * is InvalidArgument naming the field.
 */
import { z } from 'zod';
import { ApiError } from '../../agent/api/errors';
import { MAX_TAIL } from '../../agent/api/logs';
import { fieldErrorMap, labelsSchema, serviceSpecSchema } from '../../agent/api/service-spec';
import type { ApiMethod, ApiRequest, ContractError } from '../contract';
import { hostSchema, machineIdSchema, portSchema, startProvisioningSchema } from '../machine-input';
import { contractError } from './errors';

export const MAX_STRING_LENGTH = 64 * 1024;
export const MAX_ARRAY_LENGTH = 10_000;
export const MAX_DEPTH = 32;

const id = z.string().max(64).regex(/^[0-9a-z]{1,64}$/, 'must be an ID (lowercase letters and digits)');
const host = hostSchema;
const hostPort = z
  .string()
  .min(1, 'required')
  .max(260, 'at most 260 characters')
  .regex(/^(\[[0-9A-Fa-f:.%a-zA-Z0-9]+\]|[A-Za-z0-9._-]+):[0-9]{1,5}$/, 'must be host:port (e.g. 192.168.1.10:4242)');
const port = portSchema;
const joinToken = z
  .string()
  .min(1, 'required')
  .max(512, 'too long for a join token')
  .regex(/^SWMTKN-1-[0-9a-z]+-[0-9a-z]+$/, 'must be a join token (SWMTKN-1-...)');
const none = z.undefined();
const role = z.enum(['worker', 'manager']);

const schemas: { readonly [M in ApiMethod]: z.ZodType<ApiRequest<M>> } = {
  getAppInfo: none,
  getLocalNode: none,
  listAddresses: none,
  createCluster: z.strictObject({ advertiseAddress: host, port, runTasks: z.boolean() }),
  joinCluster: z.strictObject({ joinAddress: hostPort, token: joinToken, advertiseAddress: host, port, runTasks: z.boolean() }),
  setRunTasks: z.strictObject({ runTasks: z.boolean() }),
  subscribeCluster: none,
  unsubscribeCluster: none,
  getJoinTokens: none,
  rotateJoinToken: z.strictObject({ role }),
  setNodeAvailability: z.strictObject({ nodeId: id, availability: z.enum(['active', 'pause', 'drain']) }),
  setNodeRole: z.strictObject({ nodeId: id, role }),
  setNodeLabels: z.strictObject({ nodeId: id, labels: labelsSchema }),
  removeNode: z.strictObject({ nodeId: id, force: z.boolean() }),
  createService: z.strictObject({ spec: serviceSpecSchema }),
  updateService: z.strictObject({ serviceId: id, version: z.number().int().nonnegative(), spec: serviceSpecSchema, force: z.boolean().optional() }),
  scaleService: z.strictObject({ serviceId: id, replicas: z.number().int('must be a whole number').min(0, 'must not be negative').max(100_000, 'at most 100000') }),
  rollbackService: z.strictObject({ serviceId: id }),
  removeService: z.strictObject({ serviceId: id }),
  startLogs: z.strictObject({ serviceId: id, taskId: id.optional(), follow: z.boolean(), tail: z.number().int().min(0).max(MAX_TAIL).optional() }),
  stopLogs: z.strictObject({ subscriptionId: z.string().max(64).regex(/^[0-9a-z-]{1,64}$/, 'must be a subscription ID') }),
  getSettings: none,
  updateSettings: z.strictObject({ theme: z.enum(['system', 'light', 'dark']).optional(), logTimestamps: z.boolean().optional() }),
  startProvisioning: startProvisioningSchema,
  cancelProvisioning: z.strictObject({ jobId: z.string().max(64).regex(/^[0-9a-f-]{36}$/, 'must be a job ID') }),
  listProvisioningJobs: none,
  listMachines: none,
  forgetMachine: z.strictObject({ machineId: machineIdSchema }),
};

/** Walks the raw argument once: bounded strings, arrays and depth, plain data only. */
function checkBounds(value: unknown, path: string[], depth: number): void {
  const where = path.join('.');
  if (depth > MAX_DEPTH) throw new ApiError('InvalidArgument', `${where}: nested too deeply`);
  if (typeof value === 'string') {
    if (value.length > MAX_STRING_LENGTH) throw new ApiError('InvalidArgument', `${where || 'argument'}: at most ${MAX_STRING_LENGTH} characters`);
    return;
  }
  if (value === null || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    if (value.length > MAX_ARRAY_LENGTH) throw new ApiError('InvalidArgument', `${where || 'argument'}: at most ${MAX_ARRAY_LENGTH} entries`);
    value.forEach((entry, index) => checkBounds(entry, [...path, String(index)], depth + 1));
    return;
  }
  const keys = Object.keys(value);
  if (keys.length > MAX_ARRAY_LENGTH) throw new ApiError('InvalidArgument', `${where || 'argument'}: at most ${MAX_ARRAY_LENGTH} keys`);
  for (const key of keys) {
    if (key.length > 1024) throw new ApiError('InvalidArgument', `${where || 'argument'}: key longer than 1024 characters`);
    checkBounds((value as Record<string, unknown>)[key], [...path, key], depth + 1);
  }
}

export type Validated<M extends ApiMethod> = { ok: true; value: ApiRequest<M> } | { ok: false; error: ContractError };

/** The argument, typed, or InvalidArgument naming the (first) field at fault. */
export function validateArgument<M extends ApiMethod>(method: M, argument: unknown): Validated<M> {
  const schema = schemas[method] as z.ZodType<ApiRequest<M>> | undefined;
  if (schema === undefined) return { ok: false, error: contractError('InvalidArgument', `unknown method ${String(method)}`) };
  try {
    checkBounds(argument, [], 0);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const field = /^([^:\s]+): /.exec(message)?.[1];
    return { ok: false, error: contractError('InvalidArgument', message, field === 'argument' ? undefined : field) };
  }
  const result = schema.safeParse(argument, { error: fieldErrorMap });
  if (result.success) return { ok: true, value: result.data };
  const issues = result.error.issues;
  const describe = (issue: z.core.$ZodIssue) => {
    const path = issue.path.map(String).join('.');
    return path === '' ? issue.message : `${path}: ${issue.message}`;
  };
  const first = issues[0];
  const field = first !== undefined && first.path.length > 0 ? first.path.map(String).join('.') : undefined;
  const message = argument === undefined && schema !== none ? `${method} needs an argument` : issues.map(describe).join('; ');
  return { ok: false, error: contractError('InvalidArgument', message, field) };
}

export function hasSchema(method: string): method is ApiMethod {
  return Object.prototype.hasOwnProperty.call(schemas, method);
}
