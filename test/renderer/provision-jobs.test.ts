/** Jobs as the renderer follows them: events applied in order, phases, and which job waits on the user. */
import { describe, expect, it } from 'vitest';
import type { ProvisionEvent } from '../../electron/contract';
import { applyProvisionEvent, emptyView, hostKeyName, type JobEntry, jobPhase, jobTitle, OUTPUT_KEPT, pendingPrompt } from '../../renderer/src/store/provision-jobs';

const machine = 'root@10.0.0.5';
const hostKey = { type: 'ssh-ed25519', base64: 'AAAA', fingerprint: 'SHA256:abc' };
const request = { kind: 'add' as const, machine: { host: '10.0.0.5', username: 'root', auth: { method: 'agent' as const }, role: 'worker' as const } };

function play(...events: ProvisionEvent[]) {
  return events.reduce(applyProvisionEvent, emptyView('j1', 'add', machine));
}

describe('provisioning jobs in the renderer', () => {
  it('applies step, output and finished events: a step keeps its place and takes its latest state', () => {
    const view = play(
      { kind: 'step', machine, id: 'connect', title: 'Connect', status: 'running' },
      { kind: 'step', machine, id: 'connect', title: 'Connect', status: 'ok', message: 'connected' },
      { kind: 'step', machine, id: 'os', title: 'OS', status: 'running' },
      { kind: 'output', machine, step: 'os', stream: 'stdout', line: 'Debian 12' },
    );
    expect(view.steps).toEqual([
      { id: 'connect', title: 'Connect', status: 'ok', message: 'connected' },
      { id: 'os', title: 'OS', status: 'running' },
    ]);
    expect(view.output).toEqual([{ step: 'os', line: 'Debian 12' }]);
    expect(jobPhase(view)).toBe('running');
    expect(jobPhase(applyProvisionEvent(view, { kind: 'finished', machine, outcome: { ok: true, message: 'joined' } }))).toBe('done');
    expect(jobPhase(applyProvisionEvent(view, { kind: 'finished', machine, outcome: { ok: false, error: { code: 'cancelled', message: 'cancelled' } } }))).toBe('cancelled');
    expect(jobPhase(applyProvisionEvent(view, { kind: 'finished', machine, outcome: { ok: false, error: { code: 'auth-failed', message: 'no' } } }))).toBe('failed');
  });

  it('keeps the newest output lines only', () => {
    const events: ProvisionEvent[] = Array.from({ length: OUTPUT_KEPT + 10 }, (_, i) => ({ kind: 'output', machine, step: 'join', stream: 'stdout', line: `line ${i}` }));
    const view = play(...events);
    expect(view.output).toHaveLength(OUTPUT_KEPT);
    expect(view.output[0].line).toBe('line 10');
  });

  it('asks about the first job of this window that stopped for a host key or for consent, once', () => {
    const unknownKey = (jobId: string, over: Partial<JobEntry> = {}): JobEntry => ({
      view: { ...emptyView(jobId, 'add', machine), outcome: { ok: false, error: { code: 'host-key-unknown', message: 'first contact', hostKey } } },
      request,
      ...over,
    });
    const consent: JobEntry = { view: { ...emptyView('j3', 'add', machine), outcome: { ok: false, error: { code: 'consent-required', message: 'Docker?' } } }, request };
    expect(pendingPrompt([unknownKey('j1', { request: undefined }), unknownKey('j2', { answered: true }), consent])).toEqual({ kind: 'install-docker', jobId: 'j3' });
    expect(pendingPrompt([unknownKey('j1'), consent])).toEqual({ kind: 'host-key', jobId: 'j1' });
    expect(pendingPrompt([unknownKey('j1', { dismissed: true })])).toBeUndefined();
    expect(pendingPrompt([{ view: emptyView('j4', 'add', machine), request }])).toBeUndefined();
  });

  it('names jobs and hosts', () => {
    expect(jobTitle({ kind: 'test', machine })).toBe('Test connection to root@10.0.0.5');
    expect(jobTitle({ kind: 'remove', machine })).toBe('Remove root@10.0.0.5');
    expect(hostKeyName({ host: '10.0.0.5' })).toBe('10.0.0.5:22');
  });
});
