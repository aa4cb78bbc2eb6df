// A long-running process inside a lab VM (swarmd, typically) whose output is kept: in memory for
// assertions and failure messages, and in a log file under the VM's directory for a person to read after.
import type { ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { VmLayout } from './config';
import { spawnInVm } from './enter';

export interface VmProcessOptions {
  /** Names the log file `<vm dir>/log/<name>.log`; default the program's base name. */
  name?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export interface VmProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly logPath: string;
  /** stdout and stderr so far, interleaved as they arrived. */
  output(): string;
  /** Resolves with the first output match of `pattern`; rejects if the process exits or time runs out. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Sends `signal`, then SIGKILL after timeoutMs; resolves once it has exited. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function startInVm(vm: VmLayout, argv: readonly string[], opts: VmProcessOptions = {}): VmProcess {
  const name = opts.name ?? path.basename(argv[0] ?? 'process');
  mkdirSync(vm.logDir, { recursive: true });
  const logPath = path.join(vm.logDir, `${name}.log`);
  const log = createWriteStream(logPath, { flags: 'a' });
  const child = spawnInVm(vm, argv, { env: opts.env ?? process.env, cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid === undefined) throw new Error(`${vm.name}: could not start ${argv.join(' ')}`);
  let output = '';
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer): void => {
    output += chunk.toString('utf8');
    log.write(chunk);
    for (const l of listeners) l();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('close', (code, signal) => {
      log.end();
      for (const l of listeners) l();
      resolve({ code, signal });
    });
  });
  let done = false;
  void exited.then(() => {
    done = true;
  });

  const waitForOutput = (pattern: RegExp, timeoutMs = 30_000): Promise<RegExpMatchArray> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const match = output.match(pattern);
        if (match) finish(() => resolve(match));
        else if (done || child.exitCode !== null || child.signalCode !== null) {
          finish(() => reject(new Error(`${vm.name}: ${name} exited before printing ${pattern}; output:\n${output.slice(-4000)}`)));
        }
      };
      const timer = setTimeout(
        () => finish(() => reject(new Error(`${vm.name}: ${name} did not print ${pattern} within ${timeoutMs} ms; output:\n${output.slice(-4000)}`))),
        timeoutMs,
      );
      const finish = (settle: () => void): void => {
        clearTimeout(timer);
        listeners.delete(check);
        settle();
      };
      listeners.add(check);
      check();
    });

  const stop = async (signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 10_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> => {
    if (!done) {
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    }
    return exited;
  };

  return { child, pid: child.pid, logPath, output: () => output, waitForOutput, exited, stop };
}
