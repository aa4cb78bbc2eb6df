/**
 * The benchmark's side of converge-workers.ts: forks the processes that host the simulated workers,
 * splits the workers between them, and adds up what they report.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';
import type { WorkerHostCommand, WorkerHostReport, WorkerStats } from './converge-workers';

const HOST_SCRIPT = join(import.meta.dirname, 'converge-workers.ts');

class WorkerHost {
  private readonly child: ChildProcess;
  private readonly exited: Promise<void>;
  private readonly listeners = new Set<(report: WorkerHostReport) => void>();

  constructor(readonly name: string) {
    this.child = fork(HOST_SCRIPT, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.exited = new Promise((done) => this.child.once('exit', () => done()));
    this.child.on('message', (message: WorkerHostReport) => {
      for (const listener of this.listeners) listener(message);
    });
  }

  /** Sends `command` and resolves with the first report `accept` takes (an error report rejects). */
  ask<T>(command: WorkerHostCommand, accept: (report: WorkerHostReport) => T | undefined, timeoutMs: number, onOther?: (report: WorkerHostReport) => void): Promise<T> {
    return new Promise((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        this.listeners.delete(listener);
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`${this.name} did not answer ${command.type} within ${timeoutMs} ms`));
      }, timeoutMs);
      const listener = (report: WorkerHostReport) => {
        if (report.type === 'error') {
          done();
          reject(new Error(`${this.name}: ${report.message}`));
          return;
        }
        const value = accept(report);
        if (value !== undefined) {
          done();
          resolve(value);
        } else onOther?.(report);
      };
      this.listeners.add(listener);
      void this.exited.then(() => {
        done();
        reject(new Error(`${this.name} exited`));
      });
      this.child.send(command);
    });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    await this.ask({ type: 'stop' }, (r) => (r.type === 'stopped' ? true : undefined), 30_000).catch(() => this.child.kill('SIGKILL'));
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await this.exited;
    clearTimeout(timer);
  }
}

export interface WorkerFleetReady {
  nodeIds: string[];
  /** Longest join phase and session phase among the hosts. */
  joinMs: number;
  sessionMs: number;
}

export class WorkerFleet {
  private constructor(private readonly hosts: WorkerHost[]) {}

  /**
   * Starts `count` workers split over `processes` hosts: each joins through `joinAddr` with the worker
   * token and opens its session. Resolves once every session is established.
   */
  static async start(options: { count: number; processes: number; joinAddr: string; workerToken: string; managers: string[]; joinConcurrency: number; onProgress?: (joined: number) => void }): Promise<{ fleet: WorkerFleet; ready: WorkerFleetReady }> {
    const processes = Math.max(1, Math.min(options.processes, options.count));
    const hosts = Array.from({ length: processes }, (_, i) => new WorkerHost(`worker host ${i + 1}`));
    const fleet = new WorkerFleet(hosts);
    const joinedBy = new Array<number>(processes).fill(0);
    try {
      let first = 1;
      const readies = hosts.map((host, i) => {
        const share = Math.floor(options.count / processes) + (i < options.count % processes ? 1 : 0);
        const firstIndex = first;
        first += share;
        return host.ask(
          { type: 'start', joinAddr: options.joinAddr, workerToken: options.workerToken, managers: options.managers, firstIndex, count: share, joinConcurrency: options.joinConcurrency },
          (r) => (r.type === 'ready' ? r : undefined),
          30 * 60_000,
          (r) => {
            if (r.type !== 'joined') return;
            joinedBy[i] = r.joined;
            options.onProgress?.(joinedBy.reduce((a, b) => a + b, 0));
          },
        );
      });
      const reports = await Promise.all(readies);
      return {
        fleet,
        ready: {
          nodeIds: reports.flatMap((r) => r.nodeIds),
          joinMs: Math.max(...reports.map((r) => r.joinMs)),
          sessionMs: Math.max(...reports.map((r) => r.sessionMs)),
        },
      };
    } catch (err) {
      await fleet.stop();
      throw err;
    }
  }

  /** Sessions and running simulated containers, summed over the hosts. */
  async stats(): Promise<WorkerStats> {
    const all = await Promise.all(this.hosts.map((h) => h.ask({ type: 'stats' }, (r) => (r.type === 'stats' ? r : undefined), 30_000)));
    return {
      sessions: all.reduce((n, s) => n + s.sessions, 0),
      running: all.reduce((n, s) => n + s.running, 0),
      establishedTotal: all.reduce((n, s) => n + s.establishedTotal, 0),
    };
  }

  async stop(): Promise<void> {
    await Promise.all(this.hosts.map((h) => h.stop()));
  }
}
