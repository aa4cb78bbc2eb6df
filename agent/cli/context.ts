/**
 * What every swarmctl command shares for one invocation: where output goes, how to reach the manager
 * (one control client, opened on first use and closed when the command is done), and how failures
 * are reported (one `Error: ...` line each).
 */
import type { ControlApi } from '../api/control';
import { ControlClient } from '../api/control-client';

export interface TextSink {
  write(chunk: string): unknown;
}

export interface SwarmctlIo {
  stdout: TextSink;
  stderr: TextSink;
  env: Readonly<Record<string, string | undefined>>;
  /** The wall clock, for "5 minutes ago" (tests pin it). */
  now?: () => Date;
}

/** SwarmKit's default: swarmd's state directory under the current directory. */
export const DEFAULT_SOCKET = './swarmkitstate/swarmd.sock';

/** A mistake in what the user asked for (bad argument, unknown node, nothing to change). */
export class CliError extends Error {
  override readonly name = 'CliError';
}

export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * One line, whatever the error: messages from commander may span several, and gRPC's connection
 * failures end in an empty "Resolution note:" and nest "Error: " inside the message.
 */
export function errorLine(message: string): string {
  const tidy = message
    .replace(/^error: /, '')
    .replace(/\s*\n\s*/g, ' ')
    .replace(/Last error: Error: /, 'Last error: ')
    .replace(/\s*Resolution note:\s*$/, '')
    .trim();
  return `Error: ${tidy}\n`;
}

export class CliContext {
  private client: ControlClient | undefined;
  /** The --socket option, once the global options are parsed. */
  socketOption: string | undefined;
  /** Set when a command reported a failure but carried on (one node of several). */
  failed = false;

  constructor(readonly io: SwarmctlIo) {}

  /** --socket, else $SWARM_SOCKET, else the default. */
  get socketPath(): string {
    return this.socketOption ?? (this.io.env.SWARM_SOCKET || undefined) ?? DEFAULT_SOCKET;
  }

  api(): ControlApi {
    return this.controlClient();
  }

  /** The client itself, for what is not a unary call (log streams). */
  controlClient(): ControlClient {
    this.client ??= ControlClient.forSocket(this.socketPath);
    return this.client;
  }

  now(): Date {
    return this.io.now?.() ?? new Date();
  }

  print(text: string): void {
    this.io.stdout.write(text);
  }

  /** Report a failure as one line (about `subject`, when several were asked for) and exit non-zero. */
  fail(err: unknown, subject?: string): void {
    this.failed = true;
    this.io.stderr.write(errorLine(subject === undefined ? messageOf(err) : `${subject}: ${messageOf(err)}`));
  }

  close(): void {
    this.client?.close();
    this.client = undefined;
  }
}
