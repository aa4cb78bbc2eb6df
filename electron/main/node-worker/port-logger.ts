/**
 * The node's logger inside the worker thread: every line goes to the main thread, whose logger (the
 * app's log file, or a test's) writes it. Levels are filtered there, as they were when the node ran on
 * the main thread; the node logs per batch, not per object, so forwarding debug lines costs little.
 */
import { type Logger, type LogFields, type LogLevel, serializable } from '../../../agent/log';
import type { WorkerMessage } from './protocol';

class PortLogger implements Logger {
  constructor(
    private readonly post: (message: WorkerMessage) => void,
    private readonly base: LogFields,
  ) {}

  private send(level: LogLevel, message: string, fields: LogFields = {}): void {
    // Errors become their message, as the main thread's JSON logger would write them.
    const all = serializable({ ...this.base, ...fields });
    try {
      this.post({ kind: 'log', level, message, fields: all });
    } catch {
      // A field postMessage cannot clone (a function, a class with private state): its JSON form then.
      this.post({ kind: 'log', level, message, fields: JSON.parse(JSON.stringify(all)) as Record<string, unknown> });
    }
  }

  debug(message: string, fields?: LogFields): void {
    this.send('debug', message, fields);
  }
  info(message: string, fields?: LogFields): void {
    this.send('info', message, fields);
  }
  warn(message: string, fields?: LogFields): void {
    this.send('warn', message, fields);
  }
  error(message: string, fields?: LogFields): void {
    this.send('error', message, fields);
  }
  child(fields: LogFields): Logger {
    return new PortLogger(this.post, { ...this.base, ...fields });
  }
}

export function portLogger(post: (message: WorkerMessage) => void): Logger {
  return new PortLogger(post, {});
}
