/**
 * Simulated provisioning for the fake server (UI development only): each job walks the real step
 * list on a timer with a line of output per step. Host `new.example` is a first contact (its host key
 * must be trusted), `changed.example` presents a changed key, the password `wrong` is refused, and
 * `nodocker.example` needs consent to install Docker.
 */
import { randomUUID } from 'node:crypto';
import type {
  KnownMachineView,
  ProvisioningApi,
  ProvisionEvent,
  ProvisionJobKind,
  ProvisionJobView,
  ProvisionOutcome,
  ProvisionStepId,
  StartProvisioningRequest,
  SwarmdeskEvent,
} from '../../electron/contract';

const PREFLIGHT: [ProvisionStepId, string][] = [
  ['connect', 'Connect over SSH'],
  ['os', 'Operating system and architecture'],
  ['privileges', 'Administrator rights (root or sudo)'],
  ['docker', 'Docker Engine'],
  ['disk', 'Free disk space'],
  ['clock', 'Clock'],
  ['manager-reachable', 'Connection from the machine to the manager'],
];
const INSTALL: [ProvisionStepId, string][] = [
  ['upload', 'Upload the agent'],
  ['verify', 'Verify checksums on the machine (SHA-256)'],
  ['install', 'Install under /opt/swarmd'],
  ['configure', 'Configure the agent (/etc/swarmd)'],
  ['start', 'Start the agent'],
  ['join', 'Join the cluster'],
  ['ready', 'Wait until the cluster sees the node READY'],
  ['cleanup', 'Clean up'],
];
const REMOVE: [ProvisionStepId, string][] = [
  ['connect', 'Connect over SSH'],
  ['privileges', 'Administrator rights (root or sudo)'],
  ['drain', 'Drain the node'],
  ['stop', 'Stop the agent'],
  ['uninstall', 'Uninstall the agent and its files'],
  ['remove-node', 'Remove the node from the cluster'],
];
const FINGERPRINT = 'SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s';

export function fakeProvisioning(broadcast: (event: SwarmdeskEvent) => void, onJoined: (hostname: string, role: 'worker' | 'manager') => string): ProvisioningApi {
  const jobs = new Map<string, { view: ProvisionJobView; cancelled: boolean }>();
  const machines = new Map<string, KnownMachineView>();

  const failure = (request: StartProvisioningRequest): { step: ProvisionStepId; outcome: ProvisionOutcome } | undefined => {
    const { machine } = request;
    if (machine.host === 'new.example' && machine.trustFingerprint !== FINGERPRINT) {
      const hostKey = { type: 'ssh-ed25519', base64: 'AAAA', fingerprint: FINGERPRINT };
      return { step: 'connect', outcome: { ok: false, error: { code: 'host-key-unknown', step: 'connect', hostKey, message: `first connection to new.example:22: its ssh-ed25519 host key fingerprint is ${FINGERPRINT}.` } } };
    }
    if (machine.host === 'changed.example') {
      return { step: 'connect', outcome: { ok: false, error: { code: 'host-key-mismatch', step: 'connect', message: 'the host key of changed.example:22 has changed. Someone may be intercepting the connection (possible man-in-the-middle attack); refusing to connect.' } } };
    }
    if (machine.auth.method === 'password' && machine.auth.password === 'wrong') {
      return { step: 'connect', outcome: { ok: false, error: { code: 'auth-failed', step: 'connect', message: `${machine.username}@${machine.host} refused password: wrong password, or the user may not log in this way` } } };
    }
    if (machine.host === 'nodocker.example' && machine.installDocker !== true) {
      return { step: 'docker', outcome: { ok: false, error: { code: 'consent-required', step: 'docker', message: 'Docker is not installed: install Debian\'s docker.io package?' } } };
    }
    return undefined;
  };

  const run = (jobId: string, kind: ProvisionJobKind, request: StartProvisioningRequest) => {
    const job = jobs.get(jobId);
    if (job === undefined) return;
    const machine = job.view.machine;
    const emit = (event: ProvisionEvent) => {
      if (event.kind === 'step') {
        const { kind: _k, machine: _m, ...step } = event;
        const at = job.view.steps.findIndex((s) => s.id === step.id);
        if (at >= 0) job.view.steps[at] = step;
        else job.view.steps.push(step);
      } else if (event.kind === 'output') job.view.output.push({ step: event.step, line: event.line });
      else job.view.outcome = event.outcome;
      broadcast({ kind: 'provision', jobId, jobKind: kind, event });
    };
    const steps = kind === 'remove' ? REMOVE : kind === 'test' ? PREFLIGHT : [...PREFLIGHT, ...INSTALL];
    const failed = failure(request);
    let at = 0;
    const tick = () => {
      const [id, title] = steps[at];
      if (job.cancelled) {
        emit({ kind: 'step', machine, id, title, status: 'failed', message: 'cancelled' });
        emit({ kind: 'finished', machine, outcome: { ok: false, error: { code: 'cancelled', message: 'cancelled', step: id } } });
        return;
      }
      if (failed !== undefined && failed.step === id) {
        emit({ kind: 'step', machine, id, title, status: 'failed', message: failed.outcome.ok ? '' : failed.outcome.error.message });
        emit({ kind: 'finished', machine, outcome: failed.outcome });
        return;
      }
      emit({ kind: 'output', machine, step: id, stream: 'stdout', line: `${id}: working on ${machine}` });
      emit({ kind: 'step', machine, id, title, status: 'ok', message: 'done' });
      at++;
      if (at < steps.length) {
        emit({ kind: 'step', machine, id: steps[at][0], title: steps[at][1], status: 'running' });
        setTimeout(tick, 400);
        return;
      }
      let outcome: ProvisionOutcome = { ok: true, message: `${machine} is ready to be provisioned` };
      if (kind === 'add') {
        const nodeId = onJoined(request.machine.host, request.machine.role);
        const { auth } = request.machine;
        machines.set(machine, {
          id: machine,
          host: request.machine.host,
          port: request.machine.port ?? 22,
          username: request.machine.username,
          auth: auth.method,
          ...(auth.method === 'key' ? { keyPath: auth.keyPath } : {}),
          role: request.machine.role,
          labels: request.machine.labels ?? {},
          nodeId,
          provisionedAt: new Date().toISOString(),
          remembered: { password: request.machine.rememberSecrets === true && auth.method === 'password', passphrase: false, sudoPassword: false },
        });
        outcome = { ok: true, nodeId, message: `joined: node ${nodeId} is READY` };
      } else if (kind === 'remove') {
        machines.delete(machine);
        outcome = { ok: true, message: `${machine} removed from the cluster` };
      }
      emit({ kind: 'finished', machine, outcome });
    };
    emit({ kind: 'step', machine, id: steps[0][0], title: steps[0][1], status: 'running' });
    setTimeout(tick, 400);
  };

  return {
    async startProvisioning(request) {
      const jobId = randomUUID();
      const port = request.machine.port ?? 22;
      const machine = `${request.machine.username}@${request.machine.host}${port === 22 ? '' : `:${port}`}`;
      jobs.set(jobId, { view: { jobId, kind: request.kind, machine, steps: [], output: [] }, cancelled: false });
      setTimeout(() => run(jobId, request.kind, request), 0);
      return { jobId };
    },
    async cancelProvisioning(request) {
      const job = jobs.get(request.jobId);
      if (job !== undefined) job.cancelled = true;
    },
    async listProvisioningJobs() {
      return { jobs: [...jobs.values()].map((job) => structuredClone(job.view)) };
    },
    async listMachines() {
      return { machines: [...machines.values()], secretsPersistent: false };
    },
    async forgetMachine(request) {
      machines.delete(request.machineId);
    },
  };
}
