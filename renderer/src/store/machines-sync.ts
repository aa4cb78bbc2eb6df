/**
 * The Machines page's state, kept from app start so jobs are followed whichever page shows: the
 * provisioning jobs (from listProvisioningJobs, then `provision` events), the known machines (read
 * again whenever a job ends), and the host key fingerprints the user accepted in this window (sent with
 * every later job to that host: the main process records a key only once a login has worked).
 */
import { useSyncExternalStore } from 'react';
import type { MachinesView, ProvisionMachineInput, StartProvisioningRequest, SwarmdeskEvent } from '../../../electron/contract';
import { machineKey } from '../../../electron/machine-input';
import { swarmdesk } from '../api';
import { errorMessage } from '../format';
import { onAppEvent } from './cluster-sync';
import { applyProvisionEvent, emptyView, hostKeyName, type JobEntry, pendingPrompt, type JobPrompt } from './provision-jobs';
import { createValueStore } from './value-store';

const jobsStore = createValueStore<ReadonlyMap<string, JobEntry>>(new Map());
const machinesStore = createValueStore<MachinesView | undefined>(undefined);
const machinesErrorStore = createValueStore<string | undefined>(undefined);
const trusted = new Map<string, string>();

function updateJob(jobId: string, change: (entry: JobEntry | undefined) => JobEntry): void {
  const next = new Map(jobsStore.get());
  next.set(jobId, change(next.get(jobId)));
  jobsStore.set(next);
}

export async function reloadMachines(): Promise<void> {
  try {
    machinesStore.set(await swarmdesk.listMachines());
    machinesErrorStore.set(undefined);
  } catch (err) {
    machinesErrorStore.set(errorMessage(err));
  }
}

function handle(event: SwarmdeskEvent): void {
  if (event.kind === 'local-node') {
    // Known machines and jobs need a running main process; read them again when it changes state.
    if (machinesStore.get() === undefined) void reloadMachines();
    return;
  }
  if (event.kind !== 'provision') return;
  updateJob(event.jobId, (entry) => {
    const view = entry?.view ?? emptyView(event.jobId, event.jobKind, event.event.machine);
    return { ...entry, view: applyProvisionEvent(view, event.event) };
  });
  if (event.event.kind === 'finished') {
    void reloadMachines();
    // Once done, the secrets this window held for the job are no longer needed.
    if (event.event.outcome.ok) updateJob(event.jobId, (entry) => ({ ...(entry as JobEntry), request: undefined }));
  }
}

let started = false;

/** Called once when the app mounts. */
export function startMachinesSync(): void {
  if (started) return;
  started = true;
  onAppEvent(handle);
  void reloadMachines();
  swarmdesk.listProvisioningJobs().then(
    ({ jobs }) => {
      // Events that arrived meanwhile are newer than the list: keep them.
      const next = new Map(jobsStore.get());
      for (const view of jobs) if (!next.has(view.jobId)) next.set(view.jobId, { view });
      jobsStore.set(next);
    },
    () => undefined, // the page shows what arrives from now on
  );
}

/** Starts a job and keeps its request in this window (for a retry after a prompt). */
export async function startJob(request: StartProvisioningRequest): Promise<string> {
  const accepted = trusted.get(hostKeyName(request.machine));
  const machine: ProvisionMachineInput = request.machine.trustFingerprint === undefined && accepted !== undefined ? { ...request.machine, trustFingerprint: accepted } : request.machine;
  const withTrust = { ...request, machine };
  const { jobId } = await swarmdesk.startProvisioning(withTrust);
  // Its first events may have arrived before this answer.
  const finishedOk = jobsStore.get().get(jobId)?.view.outcome?.ok === true;
  updateJob(jobId, (entry) => ({ view: entry?.view ?? emptyView(jobId, request.kind, machineKey(request.machine)), ...entry, request: finishedOk ? undefined : withTrust }));
  return jobId;
}

/** Starts the job again with a change (the accepted fingerprint, consent); the old one leaves the list. */
export async function retryJob(jobId: string, change: Partial<ProvisionMachineInput> = {}): Promise<string> {
  const entry = jobsStore.get().get(jobId);
  if (entry?.request === undefined) throw new Error('this window no longer holds what the job was started with: start it again from Add machine');
  if (change.trustFingerprint !== undefined) trusted.set(hostKeyName(entry.request.machine), change.trustFingerprint);
  // Hidden before the new job's first events can show its card: never two cards for one attempt.
  updateJob(jobId, (old) => ({ ...(old as JobEntry), dismissed: true }));
  let next: string;
  try {
    next = await startJob({ ...entry.request, machine: { ...entry.request.machine, ...change } });
  } catch (err) {
    updateJob(jobId, (old) => ({ ...(old as JobEntry), dismissed: false }));
    throw err;
  }
  updateJob(jobId, (old) => ({ ...(old as JobEntry), request: undefined, replacedBy: next }));
  return next;
}

/** The user answered (or declined) a job's prompt. */
export function answerPrompt(jobId: string): void {
  updateJob(jobId, (entry) => ({ ...(entry as JobEntry), answered: true }));
}

export function cancelJob(jobId: string): Promise<void> {
  return swarmdesk.cancelProvisioning({ jobId });
}

/** Hides a job and drops whatever secrets this window held for it. */
export function dismissJob(jobId: string): void {
  updateJob(jobId, (entry) => ({ ...(entry as JobEntry), dismissed: true, request: undefined }));
}

export const useJobs = (): ReadonlyMap<string, JobEntry> => useSyncExternalStore(jobsStore.subscribe, jobsStore.get);
export const useMachines = (): MachinesView | undefined => useSyncExternalStore(machinesStore.subscribe, machinesStore.get);
export const useMachinesError = (): string | undefined => useSyncExternalStore(machinesErrorStore.subscribe, machinesErrorStore.get);

/** The job, or the one it was started again as (after a host key was trusted, say). */
export function useLatestJob(jobId: string | undefined): JobEntry | undefined {
  const jobs = useJobs();
  let entry = jobId === undefined ? undefined : jobs.get(jobId);
  for (let hops = 0; entry?.replacedBy !== undefined && hops < 100; hops++) entry = jobs.get(entry.replacedBy) ?? entry;
  return entry;
}

export function usePendingPrompt(): JobPrompt | undefined {
  return pendingPrompt(useJobs().values());
}
