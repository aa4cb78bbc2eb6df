/**
 * The provisioning methods of the desktop contract (electron/contract.ts, ProvisioningApi) on top of
 * ProvisioningService: arguments validated here, progress pushed through the service's `emit`
 * (`{ kind: 'provision', jobId, event }`).
 */
import { ApiError } from '../../../agent/api/errors';
import type { ProvisioningApi, ProvisionMachineInput, StartProvisioningRequest } from '../../contract';
import { isProvisionError } from './errors';
import type { MachineRequest } from './provisioner';
import type { ProvisioningService } from './service';
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

export function provisioningHandlers(service: ProvisioningService): ProvisioningApi {
  const guard = <T>(fn: () => T): T => {
    try {
      return fn();
    } catch (err) {
      if (isProvisionError(err)) throw new ApiError(err.code === 'invalid-argument' ? 'InvalidArgument' : 'FailedPrecondition', err.message);
      throw err;
    }
  };
  return {
    startProvisioning: async (request: StartProvisioningRequest) => {
      if (!['add', 'test', 'remove'].includes(request?.kind)) throw new ApiError('InvalidArgument', 'kind: add, test or remove');
      return guard(() => service.start(request.kind, machineRequest(request.machine)));
    },
    cancelProvisioning: async (request) => {
      guard(() => service.cancel(text(request?.jobId, 'jobId') ?? ''));
      return {};
    },
    listProvisioningJobs: async () => ({ jobs: service.list() }),
  };
}
