/**
 * The leader's log broker: joins subscribers (users asking for logs) with publishers (nodes reading
 * their containers' output). It keeps no logs itself; lines flow straight from a node's publish call
 * to the subscriber's stream.
 *
 * A subscription resolves its selector to tasks (a service's tasks, or given task IDs), groups them by
 * node, and sends each listening node the task IDs it should read. Without --follow it ends when every
 * asked node has said it is done (or after a deadline, for nodes that never answer). With --follow it
 * also asks nodes that receive new tasks of the selected services later, and ends only when the
 * subscriber leaves or leadership moves.
 */
import { ApiError } from '../../api/errors';
import type { LogSink as LogSubscriberSink } from '../../api/logs-client';
import type { LogOptions, LogSelector, PublishLogsRequest, SubscriptionMessage } from '../../api/logs';
import type { Task } from '../../api/objects';
import type { MemoryStore, Subscription } from '../../store';
import { newId } from '../../store/ids';
import { type Clock, type ComponentLogger, realClock, silentLogger, type TimerHandle } from '../../runtime';

/** How long a non-follow subscription waits for nodes that were asked and never finished. */
export const DEFAULT_COMPLETION_TIMEOUT_MS = 15_000;

export type { LogSink as LogSubscriberSink } from '../../api/logs-client';

export interface NodeListener {
  send(message: SubscriptionMessage): void;
}

interface ActiveSubscription {
  id: string;
  selector: LogSelector;
  options: LogOptions;
  sink: LogSubscriberSink;
  /** Task ID -> service ID, asked of each node. */
  asked: Map<string, Map<string, string>>;
  /** Nodes that said they are done. */
  finished: Set<string>;
  deadline?: TimerHandle;
  watch?: Subscription;
}

export interface LogBrokerOptions {
  store: MemoryStore;
  clock?: Clock;
  logger?: ComponentLogger;
  completionTimeoutMs?: number;
}

export class LogBroker {
  private readonly listeners = new Map<string, NodeListener>();
  private readonly subscriptions = new Map<string, ActiveSubscription>();
  private running = false;
  private readonly clock: Clock;
  private readonly logger: ComponentLogger;

  constructor(private readonly options: LogBrokerOptions) {
    this.clock = options.clock ?? realClock;
    this.logger = options.logger ?? silentLogger;
  }

  /** Nodes currently listening for subscriptions. */
  get listeningNodes(): number {
    return this.listeners.size;
  }

  get isRunning(): boolean {
    return this.running;
  }

  start(): void {
    this.running = true;
  }

  /** Leadership moved: subscribers are told to retry on the new leader; nodes reconnect there. */
  stop(): void {
    this.running = false;
    for (const sub of [...this.subscriptions.values()]) this.finish(sub, new ApiError('Unavailable', 'the manager serving these logs lost leadership; retry'));
    this.listeners.clear();
  }

  /** A node is ready to be asked for logs; it is told about subscriptions already open. */
  listen(nodeId: string, listener: NodeListener): () => void {
    this.requireRunning();
    this.listeners.set(nodeId, listener);
    for (const sub of this.subscriptions.values()) {
      const tasks = sub.asked.get(nodeId);
      if (tasks !== undefined && !sub.finished.has(nodeId)) listener.send(this.messageFor(sub, tasks));
    }
    return () => {
      if (this.listeners.get(nodeId) === listener) this.listeners.delete(nodeId);
    };
  }

  subscribe(selector: LogSelector, options: LogOptions, sink: LogSubscriberSink): () => void {
    this.requireRunning();
    if ((selector.serviceIds?.length ?? 0) === 0 && (selector.taskIds?.length ?? 0) === 0) {
      throw new ApiError('InvalidArgument', 'a log subscription needs at least one service or task');
    }
    const sub: ActiveSubscription = { id: newId(), selector, options, sink, asked: new Map(), finished: new Set() };
    this.subscriptions.set(sub.id, sub);
    const { value: tasks, subscription } = this.options.store.viewAndWatch((tx) => this.selectedTasks(tx.list('task'), selector), { kinds: ['task'] });
    if (options.follow) {
      sub.watch = subscription;
      void this.followNewTasks(sub, subscription);
    } else {
      subscription.close();
    }
    for (const task of tasks) this.ask(sub, task);
    if (!options.follow) {
      this.checkDone(sub);
      if (this.subscriptions.has(sub.id)) {
        sub.deadline = this.clock.setTimeout(() => this.finish(sub), this.options.completionTimeoutMs ?? DEFAULT_COMPLETION_TIMEOUT_MS);
      }
    }
    this.logger.debug('log subscription opened', { subscriptionId: sub.id, nodes: sub.asked.size, follow: options.follow });
    return () => this.finish(sub);
  }

  /** Lines (or the end) from a node; ignored unless this node was asked for this subscription. */
  publish(nodeId: string, request: PublishLogsRequest): void {
    this.requireRunning();
    const sub = this.subscriptions.get(request.subscriptionId);
    if (sub === undefined) throw new ApiError('NotFound', `log subscription ${request.subscriptionId} is closed`);
    const asked = sub.asked.get(nodeId);
    if (asked === undefined) throw new ApiError('PermissionDenied', `node ${nodeId} was not asked for subscription ${request.subscriptionId}`);
    // A node speaks only for the tasks it was asked about, and for itself.
    const lines = request.lines.filter((line) => asked.has(line.taskId)).map((line) => ({ ...line, nodeId, serviceId: asked.get(line.taskId) ?? line.serviceId }));
    if (lines.length > 0) sub.sink.send(lines);
    if (request.close === true) {
      sub.finished.add(nodeId);
      this.checkDone(sub);
    }
  }

  private requireRunning(): void {
    if (!this.running) throw new ApiError('Unavailable', 'this manager is not the leader');
  }

  private selectedTasks(tasks: Task[], selector: LogSelector): Task[] {
    const services = new Set(selector.serviceIds ?? []);
    const taskIds = new Set(selector.taskIds ?? []);
    return tasks.filter((task) => task.nodeId !== '' && (services.has(task.serviceId) || taskIds.has(task.id)));
  }

  private ask(sub: ActiveSubscription, task: Task): void {
    let tasks = sub.asked.get(task.nodeId);
    if (tasks?.has(task.id)) return;
    if (tasks === undefined) {
      tasks = new Map();
      sub.asked.set(task.nodeId, tasks);
    }
    tasks.set(task.id, task.serviceId);
    const listener = this.listeners.get(task.nodeId);
    if (listener !== undefined) listener.send(this.messageFor(sub, tasks));
    else if (!sub.options.follow) {
      // Nobody to ask: its logs cannot be had now, and waiting for it would only delay the others.
      this.logger.info('node holding logs is not connected', { nodeId: task.nodeId, subscriptionId: sub.id });
      sub.finished.add(task.nodeId);
    }
  }

  private async followNewTasks(sub: ActiveSubscription, subscription: Subscription): Promise<void> {
    try {
      for await (const event of subscription) {
        if (event.type !== 'change' || event.kind !== 'task' || event.action === 'delete') continue;
        for (const task of this.selectedTasks([event.object as Task], sub.selector)) this.ask(sub, task);
      }
    } catch (err) {
      this.finish(sub, err instanceof ApiError ? err : new ApiError('Unavailable', 'log subscription interrupted'));
    }
  }

  private messageFor(sub: ActiveSubscription, tasks: ReadonlyMap<string, string>): SubscriptionMessage {
    return { subscriptionId: sub.id, tasks: [...tasks].map(([taskId, serviceId]) => ({ taskId, serviceId })), options: sub.options };
  }

  private checkDone(sub: ActiveSubscription): void {
    if (sub.options.follow) return;
    for (const nodeId of sub.asked.keys()) if (!sub.finished.has(nodeId)) return;
    this.finish(sub);
  }

  private finish(sub: ActiveSubscription, error?: ApiError): void {
    if (!this.subscriptions.delete(sub.id)) return;
    this.clock.clearTimeout(sub.deadline);
    sub.watch?.close();
    for (const nodeId of sub.asked.keys()) {
      if (!sub.finished.has(nodeId)) this.listeners.get(nodeId)?.send({ subscriptionId: sub.id, tasks: [], options: sub.options, close: true });
    }
    sub.sink.end(error);
    this.logger.debug('log subscription closed', { subscriptionId: sub.id });
  }
}
