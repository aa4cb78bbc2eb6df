/**
 * The provisioning methods of the desktop contract (electron/contract.ts, ProvisioningApi) on top of
 * Machines (electron/main/machines.ts): the contract's machine input turned into a provisioning
 * request, and provisioning's refusals turned into the contract's error codes. Progress reaches the
 * renderers as `provision` events, pushed by Machines.
 */
import { ApiError } from '../../../agent/api/errors';
import type { ProvisioningApi, ProvisionMachineInput } from '../../contract';
import type { Machines } from '../machines';
import { isProvisionError } from './errors';
import type { MachineRequest } from './provisioner';
import type { SshAuth } from './ssh';

function text(value: unknown, field: string, optional = false): string | undefined {
  if (value === undefined && optional) return undefined;
  if (typeof value !== 'string' || value.trim() === '') throw new ApiError('InvalidArgument', `${field}: required`);
  return value;
}

export function machineRequest(input: ProvisionMachineInput): MachineRequest {
  if (typeof input !== 'object' || input === null) throw new ApiError('InvalidArgument', 'machine: required');
  const port = input.port ?? 22;
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new ApiError('InvalidArgument', 'machine.port: must be 1-65535');
  if (input.role !== 'worker' && input.role !== 'manager') throw new ApiError('InvalidArgument', 'machine.role: worker or manager');
  const auth = input.auth as ProvisionMachineInput['auth'] | undefined;
  let sshAuth: SshAuth;
  if (auth?.method === 'key') sshAuth = { method: 'key', keyPath: text(auth.keyPath, 'machine.auth.keyPath'), passphrase: auth.passphrase };
  else if (auth?.method === 'agent') sshAuth = { method: 'agent' };
  else if (auth?.method === 'password') sshAuth = { method: 'password', password: typeof auth.password === 'string' ? auth.password : '' };
  else throw new ApiError('InvalidArgument', 'machine.auth.method: key, agent or password');
  const labels = input.labels ?? {};
  if (typeof labels !== 'object' || Object.values(labels).some((v) => typeof v !== 'string')) throw new ApiError('InvalidArgument', 'machine.labels: key/value strings');
  return {
    target: { host: text(input.host, 'machine.host') ?? '', port, username: text(input.username, 'machine.username') ?? '', auth: sshAuth, sudoPassword: input.sudoPassword },
    role: input.role,
    labels,
    trustFingerprint: text(input.trustFingerprint, 'machine.trustFingerprint', true),
    installDocker: input.installDocker === true,
    manager: input.managerHost !== undefined ? { host: text(input.managerHost, 'machine.managerHost') } : undefined,
  };
}

/** ProvisionError (a job that could not start, an unknown job) as the contract's error codes. */
function asApiError(err: unknown): unknown {
  if (!isProvisionError(err)) return err;
  if (err.code === 'invalid-argument') return new ApiError(/^no provisioning job /.test(err.message) ? 'NotFound' : 'InvalidArgument', err.message);
  return new ApiError('FailedPrecondition', err.message);
}

/** The provisioning methods of the contract on the desktop app's Machines (arguments validated before). */
export function provisioningHandlers(machines: Machines): ProvisioningApi {
  const guard = async <T>(fn: () => T | Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      throw asApiError(err);
    }
  };
  return {
    startProvisioning: (request) => guard(() => machines.start(request)),
    cancelProvisioning: (request) => guard(() => machines.cancel(request.jobId)),
    listProvisioningJobs: async () => ({ jobs: machines.jobs() }),
    listMachines: () => machines.list(),
    forgetMachine: (request) => guard(() => machines.forget(request.machineId)),
  };
}
