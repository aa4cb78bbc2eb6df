/**
 * Structured logs for swarmd: one JSON object per line (for files and log collectors), or readable
 * text when writing to a terminal. Fields must never contain secrets (tokens, keys, secret payloads):
 * callers log IDs and addresses, not material.
 */
import type { ComponentLogger, LogFields } from './runtime';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type { LogFields };

/** swarmd's logger: what components get (ComponentLogger), plus errors and children. */
export interface Logger extends ComponentLogger {
  error(message: string, fields?: LogFields): void;
  /** A logger whose lines all carry `fields` (e.g. the component name). */
  child(fields: LogFields): Logger;
}

export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

export function isLogLevel(value: string): value is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(value);
}

export interface LoggerOptions {
  level: LogLevel;
  /** 'json' lines or 'text'; default: text on a TTY, JSON otherwise. */
  format?: 'json' | 'text';
  write?: (line: string) => void;
  isTty?: boolean;
  now?: () => Date;
}

function describe(value: unknown): string {
  if (value instanceof Error) return value.message;
  if (typeof value === 'string') return /\s/.test(value) ? JSON.stringify(value) : value;
  return JSON.stringify(value) ?? String(value);
}

/** Fields as a log line carries them: an Error becomes its message, anything else stays as it is. */
export function serializable(fields: LogFields): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) out[key] = value instanceof Error ? value.message : value;
  return out;
}

class LineLogger implements Logger {
  constructor(
    private readonly options: Required<Omit<LoggerOptions, 'isTty'>>,
    private readonly base: LogFields,
  ) {}

  private emit(level: LogLevel, message: string, fields: LogFields = {}): void {
    if (LOG_LEVELS.indexOf(level) < LOG_LEVELS.indexOf(this.options.level)) return;
    const all = { ...this.base, ...fields };
    const time = this.options.now().toISOString();
    if (this.options.format === 'json') {
      this.options.write(`${JSON.stringify({ time, level, msg: message, ...serializable(all) })}\n`);
      return;
    }
    const extras = Object.entries(all).map(([key, value]) => `${key}=${describe(value)}`);
    this.options.write(`${time} ${level.toUpperCase().padEnd(5)} ${message}${extras.length > 0 ? ` ${extras.join(' ')}` : ''}\n`);
  }

  debug(message: string, fields?: LogFields): void {
    this.emit('debug', message, fields);
  }
  info(message: string, fields?: LogFields): void {
    this.emit('info', message, fields);
  }
  warn(message: string, fields?: LogFields): void {
    this.emit('warn', message, fields);
  }
  error(message: string, fields?: LogFields): void {
    this.emit('error', message, fields);
  }
  child(fields: LogFields): Logger {
    return new LineLogger(this.options, { ...this.base, ...fields });
  }
}

export function createLogger(options: LoggerOptions): Logger {
  const isTty = options.isTty ?? Boolean(process.stderr.isTTY);
  return new LineLogger(
    {
      level: options.level,
      format: options.format ?? (isTty ? 'text' : 'json'),
      write: options.write ?? ((line) => process.stderr.write(line)),
      now: options.now ?? (() => new Date()),
    },
    {},
  );
}
