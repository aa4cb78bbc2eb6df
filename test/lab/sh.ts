// Running host commands for the lab: argv only (no shell), output captured, failures that say what ran.
import { execFile } from 'node:child_process';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export class CommandError extends Error {
  constructor(
    readonly argv: readonly string[],
    readonly result: RunResult,
  ) {
    const detail = (result.stderr.trim() || result.stdout.trim()).split('\n').slice(-5).join('\n');
    super(`command failed (exit ${result.code}): ${argv.join(' ')}${detail ? `\n${detail}` : ''}`);
  }
}

export interface RunOptions {
  timeoutMs?: number;
  input?: string;
  env?: NodeJS.ProcessEnv;
}

/** Runs argv and resolves with its exit code and output, whatever the code. */
export function tryRun(argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      argv[0],
      argv.slice(1),
      { timeout: opts.timeoutMs ?? 60_000, maxBuffer: 32 * 1024 * 1024, env: opts.env ?? process.env },
      (err, stdout, stderr) => {
        if (err && typeof err.code !== 'number') {
          // Not an exit status: the program is missing, or it was killed by the timeout.
          if (err.code === 'ENOENT') reject(new Error(`${argv[0]}: not installed (needed by the lab)`));
          else if (err.killed) resolve({ code: 124, stdout, stderr: `${stderr}\n(timed out)` });
          else if (err.signal) resolve({ code: 128, stdout, stderr: `${stderr}\n(killed by ${err.signal})` });
          else reject(err);
          return;
        }
        resolve({ code: err ? Number(err.code) : 0, stdout, stderr });
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
    else child.stdin?.end();
  });
}

/** Runs argv and returns its stdout; a non-zero exit throws a CommandError with the command and stderr. */
export async function run(argv: readonly string[], opts: RunOptions = {}): Promise<string> {
  const result = await tryRun(argv, opts);
  if (result.code !== 0) throw new CommandError(argv, result);
  return result.stdout;
}

/** Quotes one word for /bin/sh. */
export function shQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
