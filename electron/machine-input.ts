/**
 * The rules a machine to provision must follow, in one place for both sides: the main process checks
 * every request with them (validation.ts), and the renderer's Add machine form checks its fields with
 * them before sending, so a person sees the same message on the same field either way.
 * Plain zod, no Node imports: the renderer bundles this file.
 */
import { z } from 'zod';
import { labelsSchema } from '../agent/api/service-spec';
import type { ProvisionMachineInput, StartProvisioningRequest } from './contract';

/** A host name, IPv4 or IPv6 address (no port). */
export const hostSchema = z
  .string()
  .min(1, 'required')
  .max(253, 'at most 253 characters')
  .regex(/^(\[[0-9A-Fa-f:.%a-zA-Z0-9]+\]|[A-Za-z0-9.:%_-]+)$/, 'must be a host name or an IP address');

export const portSchema = z.number().int('must be a whole number').min(1, 'must be 1 to 65535').max(65535, 'must be 1 to 65535');

/** Login names as useradd accepts them (and nothing a shell would read specially). */
const username = z
  .string()
  .min(1, 'required')
  .max(64, 'at most 64 characters')
  .regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]*\$?$/, 'must be a user name (letters, digits, ".", "_" and "-")');

/** Passwords and passphrases: any text, bounded. */
const secret = z.string().max(1024, 'at most 1024 characters');

/** The main process reads the key file; a relative path would depend on its working directory. */
const keyPath = z
  .string()
  .min(1, 'required')
  .max(4096, 'at most 4096 characters')
  .refine((path) => path.startsWith('/') || path.startsWith('~/'), 'must be an absolute path (or start with ~/)');

/** `SHA256:` and the unpadded base64 of a SHA-256, as ssh-keygen -l prints it. */
export const fingerprintSchema = z.string().regex(/^SHA256:[A-Za-z0-9+/]{43}$/, 'must be a SHA256 fingerprint (SHA256:...)');

export const authSchema = z.discriminatedUnion(
  'method',
  [
    z.strictObject({ method: z.literal('key'), keyPath, passphrase: secret.optional() }),
    z.strictObject({ method: z.literal('agent') }),
    z.strictObject({ method: z.literal('password'), password: secret.optional() }),
  ],
  { error: 'must be key, agent or password' },
);

export const machineInputSchema = z.strictObject({
  host: hostSchema,
  port: portSchema.optional(),
  username,
  auth: authSchema,
  sudoPassword: secret.optional(),
  role: z.enum(['worker', 'manager'], 'must be worker or manager'),
  labels: labelsSchema.optional(),
  trustFingerprint: fingerprintSchema.optional(),
  installDocker: z.boolean().optional(),
  managerHost: hostSchema.optional(),
  rememberSecrets: z.boolean().optional(),
}) satisfies z.ZodType<ProvisionMachineInput>;

export const startProvisioningSchema = z.strictObject({
  kind: z.enum(['add', 'test', 'remove'], 'must be add, test or remove'),
  machine: machineInputSchema,
}) satisfies z.ZodType<StartProvisioningRequest>;

/** `user@host[:port]`: how jobs, events and the known-machine list name a machine (as describeTarget does). */
export function machineKey(machine: Pick<ProvisionMachineInput, 'host' | 'port' | 'username'>): string {
  const port = machine.port ?? 22;
  return `${machine.username}@${machine.host}${port === 22 ? '' : `:${port}`}`;
}

export const machineIdSchema = z.string().min(1, 'required').max(400, 'at most 400 characters').regex(/^[^\s@]+@[^\s@]+$/, 'must be a machine ID (user@host[:port])');
