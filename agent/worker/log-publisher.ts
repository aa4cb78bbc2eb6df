/**
 * The node's side of the log broker: it listens on the leader for subscriptions naming tasks it runs,
 * reads those containers' logs through a LogSource, and publishes the lines in batches. A read without
 * --follow ends with a `close` publish, so the subscriber's stream can finish.
 *
 * The listen stream follows leader hints and reconnects with backoff, like the dispatcher session.
 */
import * as grpc from '@grpc/grpc-js';
import { LEADER_ADDR_METADATA_KEY } from '../api/dispatcher';
import { LOGS_PATHS, type LogLine, type LogOptions, MAX_LINES_PER_BATCH, type SubscriptionMessage, subscriptionMessageSchema } from '../api/logs';
import { decodeMessage, encodeMessage } from '../rpc/json-codec';
import { type ComponentLogger, silentLogger } from '../runtime';
import { Backoff } from './backoff';

/** One line as read from a container. */
export interface ContainerLogLine {
  timestamp: string;
  stream: 'stdout' | 'stderr';
  data: string;
}

/** Reads a task's container logs; ends when done (or, with follow, when `signal` aborts). */
export interface LogSource {
  read(taskId: string, options: LogOptions, signal: AbortSignal): AsyncIterable<ContainerLogLine>;
}

export interface LogPublisherOptions {
  nodeId: string;
  managers: () => readonly string[];
  credentials: () => grpc.ChannelCredentials;
  channelOptions?: grpc.ChannelOptions;
  source: LogSource;
  logger?: ComponentLogger;
  /** Wait before sending a partial batch, so a burst of lines travels in one call. */
  batchDelayMs?: number;
}

interface ActiveRead {
  controller: AbortController;
  pending: Set<string>;
}

export class LogPublisher {
  private stopped = true;
  private client: grpc.Client | undefined;
  private stream: grpc.ClientReadableStream<unknown> | undefined;
  private readonly reads = new Map<string, ActiveRead>();
  private readonly backoff = new Backoff(Math.random);
  private leaderHint: string | undefined;
  private attempt = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly logger: ComponentLogger;

  constructor(private readonly options: LogPublisherOptions) {
    this.logger = options.logger ?? silentLogger;
  }

  start(): void {
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.stream?.cancel();
    this.client?.close();
    for (const read of this.reads.values()) read.controller.abort();
    this.reads.clear();
  }

  private nextAddress(): string | undefined {
    const hint = this.leaderHint;
    this.leaderHint = undefined;
    if (hint !== undefined) return hint;
    const managers = this.options.managers();
    return managers.length === 0 ? undefined : managers[this.attempt++ % managers.length];
  }

  private connect(): void {
    if (this.stopped) return;
    const address = this.nextAddress();
    if (address === undefined) {
      this.retryLater();
      return;
    }
    this.client?.close();
    const client = new grpc.Client(address, this.options.credentials(), this.options.channelOptions ?? {});
    this.client = client;
    const stream = client.makeServerStreamRequest(LOGS_PATHS.listenSubscriptions, encodeMessage, decodeMessage, {});
    this.stream = stream;
    stream.on('data', (data: unknown) => {
      this.backoff.reset();
      const parsed = subscriptionMessageSchema.safeParse(data);
      if (parsed.success) this.onSubscription(client, parsed.data);
    });
    stream.on('error', (err: grpc.ServiceError) => {
      const hint = err.metadata?.get(LEADER_ADDR_METADATA_KEY)[0];
      if (typeof hint === 'string') this.leaderHint = hint;
      if (err.code !== grpc.status.CANCELLED) this.logger.debug('log subscription stream ended', { manager: address, error: err.details });
      this.retryLater(typeof hint === 'string');
    });
    stream.on('end', () => this.retryLater());
  }

  private retryLater(immediately = false): void {
    if (this.stopped) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.connect(), immediately ? 0 : this.backoff.next());
  }

  private onSubscription(client: grpc.Client, message: SubscriptionMessage): void {
    let read = this.reads.get(message.subscriptionId);
    if (message.close === true) {
      read?.controller.abort();
      this.reads.delete(message.subscriptionId);
      return;
    }
    if (read === undefined) {
      read = { controller: new AbortController(), pending: new Set() };
      this.reads.set(message.subscriptionId, read);
    }
    const fresh = message.tasks.filter((task) => !read.pending.has(task.taskId));
    for (const task of fresh) read.pending.add(task.taskId);
    // A task whose container is gone reads as empty, so a non-follow read always ends with `close`.
    void Promise.all(fresh.map((task) => this.readTask(client, message, task, read))).then(() => {
      if (!message.options.follow && read.pending.size === 0 && this.reads.get(message.subscriptionId) === read) {
        this.reads.delete(message.subscriptionId);
        void this.publish(client, message.subscriptionId, [], true);
      }
    });
  }

  private async readTask(client: grpc.Client, message: SubscriptionMessage, task: { taskId: string; serviceId: string }, read: ActiveRead): Promise<void> {
    const { taskId, serviceId } = task;
    let batch: LogLine[] = [];
    let flushTimer: NodeJS.Timeout | undefined;
    const flush = async () => {
      clearTimeout(flushTimer);
      flushTimer = undefined;
      if (batch.length === 0) return;
      const lines = batch;
      batch = [];
      await this.publish(client, message.subscriptionId, lines, false);
    };
    try {
      for await (const line of this.options.source.read(taskId, message.options, read.controller.signal)) {
        batch.push({ serviceId, taskId, nodeId: this.options.nodeId, ...line });
        if (batch.length >= MAX_LINES_PER_BATCH) await flush();
        else flushTimer ??= setTimeout(() => void flush(), this.options.batchDelayMs ?? 50);
      }
    } catch (err) {
      if (!read.controller.signal.aborted) this.logger.warn('reading container logs failed', { taskId, error: err instanceof Error ? err.message : String(err) });
    } finally {
      await flush();
      read.pending.delete(taskId);
    }
  }

  private publish(client: grpc.Client, subscriptionId: string, lines: LogLine[], close: boolean): Promise<void> {
    return new Promise((resolve) => {
      client.makeUnaryRequest(LOGS_PATHS.publishLogs, encodeMessage, decodeMessage, { subscriptionId, lines, ...(close ? { close } : {}) }, { deadline: Date.now() + 10_000 }, (err) => {
        if (err) this.logger.debug('publishing logs failed', { subscriptionId, error: err.details });
        resolve();
      });
    });
  }
}
