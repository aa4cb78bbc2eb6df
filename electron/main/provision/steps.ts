/**
 * Progress of one machine's provisioning as a stream of events, the same for the desktop UI and the
 * scripting command: each step announces itself running, may stream output lines, and ends ok, failed
 * or skipped with a message. The last event is `finished` with the outcome.
 */
import { errorMessage, isProvisionError, ProvisionError, type ProvisionErrorCode } from './errors';
import type { HostKey } from './known-hosts';

export type StepStatus = 'running' | 'ok' | 'failed' | 'skipped';

export type StepId =
  | 'connect'
  | 'os'
  | 'privileges'
  | 'docker'
  | 'install-docker'
  | 'disk'
  | 'clock'
  | 'manager-reachable'
  | 'upload'
  | 'verify'
  | 'install'
  | 'configure'
  | 'start'
  | 'join'
  | 'ready'
  | 'cleanup'
  | 'drain'
  | 'stop'
  | 'uninstall'
  | 'remove-node';

export interface StepState {
  id: StepId;
  title: string;
  status: StepStatus;
  /** One sentence: the result (e.g. "Debian GNU/Linux 12, x86_64") or why it failed. */
  message?: string;
}

export interface FailureInfo {
  code: ProvisionErrorCode;
  message: string;
  /** Which step failed. */
  step?: StepId;
  /** For host-key-unknown / host-key-mismatch: what to show the user. */
  hostKey?: HostKey;
}

export type ProvisionOutcome =
  | { ok: true; nodeId?: string; role?: string; version?: string; message: string }
  | { ok: false; error: FailureInfo };

export type ProvisionEvent =
  | ({ kind: 'step'; machine: string } & StepState)
  | { kind: 'output'; machine: string; step: StepId; stream: 'stdout' | 'stderr'; line: string }
  | { kind: 'finished'; machine: string; outcome: ProvisionOutcome };

export type ProvisionListener = (event: ProvisionEvent) => void;

export interface StepContext {
  /** Streams one line of remote output under this step. */
  line(line: string, stream?: 'stdout' | 'stderr'): void;
  /** The onLine callback for SshConnection.exec. */
  readonly onLine: (line: string, stream: 'stdout' | 'stderr') => void;
}

/** A step result: the value, and the message shown with "ok". */
export interface StepResult<T> {
  value: T;
  message?: string;
}

export class Progress {
  private failedStep: StepId | undefined;

  constructor(
    readonly machine: string,
    private readonly listener: ProvisionListener,
  ) {}

  /** Runs one step: `running`, then `ok` with the result's message, or `failed` with the error's. */
  async step<T>(id: StepId, title: string, fn: (ctx: StepContext) => Promise<StepResult<T>>): Promise<T> {
    this.emit({ kind: 'step', machine: this.machine, id, title, status: 'running' });
    const onLine = (line: string, stream: 'stdout' | 'stderr') => this.emit({ kind: 'output', machine: this.machine, step: id, stream, line });
    try {
      const result = await fn({ line: (line, stream = 'stdout') => onLine(line, stream), onLine });
      this.emit({ kind: 'step', machine: this.machine, id, title, status: 'ok', message: result.message });
      return result.value;
    } catch (err) {
      this.failedStep ??= id;
      this.emit({ kind: 'step', machine: this.machine, id, title, status: 'failed', message: errorMessage(err) });
      throw err;
    }
  }

  skip(id: StepId, title: string, message: string): void {
    this.emit({ kind: 'step', machine: this.machine, id, title, status: 'skipped', message });
  }

  finish(outcome: ProvisionOutcome): ProvisionOutcome {
    this.emit({ kind: 'finished', machine: this.machine, outcome });
    return outcome;
  }

  /** The outcome for an error thrown by a step (or around them). */
  failure(err: unknown): ProvisionOutcome {
    const e = isProvisionError(err) ? err : new ProvisionError('install-failed', errorMessage(err));
    return { ok: false, error: { code: e.code, message: e.message, step: this.failedStep, hostKey: e.hostKey } };
  }

  private emit(event: ProvisionEvent): void {
    try {
      this.listener(event);
    } catch {
      // a listener's failure must not break provisioning
    }
  }
}
