/**
 * Provisioning as the main process serves it to the UI: jobs (add, test, remove one machine) started
 * by a call that returns at once, progress pushed as events tagged with the job id, each job
 * cancellable, several at once. Jobs keep their step states so a reloaded window can show them again.
 * Secrets in a request stay in this process's memory for the job's duration only.
 */
import { randomUUID } from 'node:crypto';
import { type AgentBundle, loadAgentBundle } from './bundle';
import { ProvisionError } from './errors';
import { KnownHosts } from './known-hosts';
import { type ClusterControl, machineId, type MachineRequest, Provisioner } from './provisioner';
import type { ProvisionEvent, ProvisionOutcome, StepState } from './steps';

export type ProvisionJobKind = 'add' | 'test' | 'remove';

export interface ProvisionJobView {
  jobId: string;
  kind: ProvisionJobKind;
  machine: string;
  steps: StepState[];
  /** The last lines of remote output, per step. */
  output: { step: string; line: string }[];
  outcome?: ProvisionOutcome;
}

export interface ProvisionJobEvent {
  jobId: string;
  /** Carried on every event: a listener may see a job's first events before start() has returned its id. */
  jobKind: ProvisionJobKind;
  event: ProvisionEvent;
}

/** What one caller of start() wants to see of its job, before the event goes to `emit`. */
export type ProvisionJobObserver = (event: ProvisionEvent) => void;

export interface ProvisioningServiceOptions {
  knownHostsPath: string;
  /** resources/agent in the app. */
  bundleDir: string;
  /** The cluster's control API, when this app runs a manager. */
  cluster: () => ClusterControl | undefined;
  emit: (event: ProvisionJobEvent) => void;
  readyTimeoutMs?: number;
}

const OUTPUT_KEPT = 200;

interface Job {
  view: ProvisionJobView;
  controller: AbortController;
  done: Promise<ProvisionOutcome>;
}

export class ProvisioningService {
  private readonly jobs = new Map<string, Job>();
  private bundle: Promise<AgentBundle> | undefined;

  constructor(private readonly options: ProvisioningServiceOptions) {}

  /**
   * Starts a job; progress arrives as events (the first ones before this returns). Throws only on
   * input the job could not start with. `observe` sees each of this job's events first.
   */
  start(kind: ProvisionJobKind, request: MachineRequest, observe?: ProvisionJobObserver): { jobId: string } {
    const cluster = this.options.cluster();
    if (kind !== 'test' && cluster === undefined) throw new ProvisionError('join-failed', 'this app runs no manager yet: create or join a cluster first');
    const jobId = randomUUID();
    const controller = new AbortController();
    const view: ProvisionJobView = { jobId, kind, machine: machineId(request), steps: [], output: [] };
    const listener = (event: ProvisionEvent) => {
      if (event.kind === 'step') {
        const { kind: _kind, machine: _machine, ...step } = event;
        const at = view.steps.findIndex((s) => s.id === step.id);
        if (at >= 0) view.steps[at] = step;
        else view.steps.push(step);
      } else if (event.kind === 'output') {
        view.output.push({ step: event.step, line: event.line });
        if (view.output.length > OUTPUT_KEPT) view.output.splice(0, view.output.length - OUTPUT_KEPT);
      } else {
        view.outcome = event.outcome;
      }
      observe?.(event);
      this.options.emit({ jobId, jobKind: kind, event });
    };
    const done = (async (): Promise<ProvisionOutcome> => {
      const provisioner = new Provisioner({
        knownHosts: new KnownHosts(this.options.knownHostsPath),
        bundle: kind === 'add' ? await this.loadBundle() : { dir: '', manifest: { version: '', nodeVersion: '', bundle: { file: '', sha256: '' }, runtimes: {} } },
        cluster: cluster ?? unavailableCluster,
        readyTimeoutMs: this.options.readyTimeoutMs,
      });
      const run = { listener, signal: controller.signal };
      if (kind === 'add') return provisioner.provision(request, run);
      if (kind === 'remove') return provisioner.remove(request, run);
      return provisioner.test(request, run);
    })().catch((err: unknown) => {
      const outcome: ProvisionOutcome = { ok: false, error: { code: err instanceof ProvisionError ? err.code : 'install-failed', message: err instanceof Error ? err.message : String(err) } };
      listener({ kind: 'finished', machine: view.machine, outcome });
      return outcome;
    });
    this.jobs.set(jobId, { view, controller, done });
    return { jobId };
  }

  cancel(jobId: string): void {
    const job = this.jobs.get(jobId);
    if (job === undefined) throw new ProvisionError('invalid-argument', `no provisioning job ${jobId}`);
    job.controller.abort();
  }

  /** Resolves with the job's outcome once it has finished. */
  wait(jobId: string): Promise<ProvisionOutcome> {
    const job = this.jobs.get(jobId);
    if (job === undefined) return Promise.reject(new ProvisionError('invalid-argument', `no provisioning job ${jobId}`));
    return job.done;
  }

  list(): ProvisionJobView[] {
    return [...this.jobs.values()].map((j) => structuredClone(j.view));
  }

  /** Forgets finished jobs. */
  clearFinished(): void {
    for (const [id, job] of this.jobs) if (job.view.outcome !== undefined) this.jobs.delete(id);
  }

  private loadBundle(): Promise<AgentBundle> {
    this.bundle ??= loadAgentBundle(this.options.bundleDir).catch((err: unknown) => {
      this.bundle = undefined;
      throw err;
    });
    return this.bundle;
  }
}

const unavailable = () => Promise.reject(new ProvisionError('join-failed', 'no cluster to join'));
const unavailableCluster: ClusterControl = { getNode: unavailable, updateNode: unavailable, removeNode: unavailable, listClusters: unavailable, listTasks: unavailable };
