/**
 * Provisioning jobs as this window knows them: the main process's view of each job (steps, recent
 * output, outcome) kept current from `provision` events, plus what only this window holds — the request
 * it started the job with (secrets included, in memory only) so it can start it again after the user
 * trusts a host key or consents to installing Docker. Pure functions; machines-sync.ts holds the state.
 */
import type { ProvisionEvent, ProvisionJobKind, ProvisionJobView, StartProvisioningRequest } from '../../../electron/contract';

/** Lines of remote output kept per job (the main process keeps its last 200 for a reloaded window). */
export const OUTPUT_KEPT = 400;

export interface JobEntry {
  view: ProvisionJobView;
  /** The request this window started the job with; absent for jobs started elsewhere or before a reload. */
  request?: StartProvisioningRequest;
  /** Hidden by the user. */
  dismissed?: boolean;
  /** The user answered its prompt (host key, Docker consent): do not ask again. */
  answered?: boolean;
  /** The job it was started again as. */
  replacedBy?: string;
}

export type JobPhase = 'running' | 'done' | 'failed' | 'cancelled';

export function emptyView(jobId: string, kind: ProvisionJobKind, machine: string): ProvisionJobView {
  return { jobId, kind, machine, steps: [], output: [] };
}

/** The view with one event applied (a new object; the old one is left as it was). */
export function applyProvisionEvent(view: ProvisionJobView, event: ProvisionEvent): ProvisionJobView {
  if (event.kind === 'step') {
    const { kind: _kind, machine: _machine, ...step } = event;
    const at = view.steps.findIndex((s) => s.id === step.id);
    const steps = at >= 0 ? view.steps.map((s, i) => (i === at ? step : s)) : [...view.steps, step];
    return { ...view, steps };
  }
  if (event.kind === 'output') {
    const output = [...view.output, { step: event.step, line: event.line }];
    return { ...view, output: output.length > OUTPUT_KEPT ? output.slice(-OUTPUT_KEPT) : output };
  }
  return { ...view, outcome: event.outcome };
}

export function jobPhase(view: ProvisionJobView): JobPhase {
  if (view.outcome === undefined) return 'running';
  if (view.outcome.ok) return 'done';
  return view.outcome.error.code === 'cancelled' ? 'cancelled' : 'failed';
}

/** What the user is asked after a job stopped for want of an answer. */
export type JobPrompt = { kind: 'host-key'; jobId: string } | { kind: 'install-docker'; jobId: string };

/** The first job of this window waiting on the user, oldest first. */
export function pendingPrompt(entries: Iterable<JobEntry>): JobPrompt | undefined {
  for (const entry of entries) {
    if (entry.request === undefined || entry.answered || entry.dismissed) continue;
    const outcome = entry.view.outcome;
    if (outcome === undefined || outcome.ok) continue;
    if (outcome.error.code === 'host-key-unknown' && outcome.error.hostKey !== undefined) return { kind: 'host-key', jobId: entry.view.jobId };
    if (outcome.error.code === 'consent-required') return { kind: 'install-docker', jobId: entry.view.jobId };
  }
  return undefined;
}

export const JOB_TITLES: Readonly<Record<ProvisionJobKind, string>> = { add: 'Add', test: 'Test connection to', remove: 'Remove' };

export function jobTitle(view: Pick<ProvisionJobView, 'kind' | 'machine'>): string {
  return `${JOB_TITLES[view.kind]} ${view.machine}`;
}

/** `host:port` as known_hosts keys a host: the fingerprint a user accepted applies to every later job there. */
export function hostKeyName(machine: { host: string; port?: number }): string {
  return `${machine.host}:${machine.port ?? 22}`;
}
