/**
 * Container logs for one renderer: each startLogs is a subscription on the local manager's Logs service
 * (which relays to the leader's broker); lines are pushed as `logs` events in batches (every
 * `flushMs`, or sooner once `maxLines` are waiting), and the end as one `logs-end`.
 */
import { randomUUID } from 'node:crypto';
import type { ControlClient } from '../../agent/api/control-client';
import { ApiError } from '../../agent/api/errors';
import type { LogLine } from '../../agent/api/logs';
import type { StartLogsRequest, SwarmdeskEvent } from '../contract';
import { toContractError } from './errors';

export const MAX_LOG_SUBSCRIPTIONS = 16;

interface Stream {
  cancel(): void;
  buffer: LogLine[];
  timer: NodeJS.Timeout | undefined;
}

export class LogStreams {
  private readonly streams = new Map<string, Stream>();

  constructor(
    private readonly emit: (event: SwarmdeskEvent) => void,
    private readonly flushMs = 100,
    private readonly maxLines = 1000,
  ) {}

  start(client: ControlClient, request: StartLogsRequest): string {
    if (this.streams.size >= MAX_LOG_SUBSCRIPTIONS) throw new ApiError('FailedPrecondition', `at most ${MAX_LOG_SUBSCRIPTIONS} log streams at once: stop one first`);
    const subscriptionId = randomUUID();
    const stream: Stream = { cancel: () => undefined, buffer: [], timer: undefined };
    this.streams.set(subscriptionId, stream);
    const flush = () => {
      clearTimeout(stream.timer);
      stream.timer = undefined;
      if (stream.buffer.length === 0) return;
      const lines = stream.buffer;
      stream.buffer = [];
      this.emit({ kind: 'logs', subscriptionId, lines });
    };
    stream.cancel = client.subscribeLogs(
      {
        // The broker takes the union of its selectors: one task is selected by its ID alone.
        selector: request.taskId === undefined ? { serviceIds: [request.serviceId] } : { taskIds: [request.taskId] },
        options: { follow: request.follow, ...(request.tail === undefined ? {} : { tail: request.tail }) },
      },
      {
        send: (lines) => {
          if (!this.streams.has(subscriptionId)) return;
          for (const line of lines) stream.buffer.push(line);
          if (stream.buffer.length >= this.maxLines) flush();
          else stream.timer ??= setTimeout(flush, this.flushMs);
        },
        end: (error) => {
          if (!this.streams.has(subscriptionId)) return;
          flush();
          this.streams.delete(subscriptionId);
          this.emit(error === undefined ? { kind: 'logs-end', subscriptionId } : { kind: 'logs-end', subscriptionId, error: toContractError(error) });
        },
      },
    );
    return subscriptionId;
  }

  stop(subscriptionId: string): void {
    const stream = this.streams.get(subscriptionId);
    if (stream === undefined) throw new ApiError('NotFound', `no log stream ${subscriptionId}`);
    this.streams.delete(subscriptionId);
    clearTimeout(stream.timer);
    stream.cancel();
  }

  closeAll(): void {
    for (const id of [...this.streams.keys()]) this.stop(id);
  }
}
