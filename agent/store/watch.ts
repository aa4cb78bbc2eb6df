/**
 * Change notification. Every applied entry is published, in log order, to each subscriber's bounded
 * queue synchronously from apply (a cheap push: events reference the frozen objects, nothing is copied),
 * so a slow consumer never delays applies. A consumer that lets its queue overflow is cut off with
 * Unavailable and its queue dropped, which keeps memory bounded; it must resync (viewAndWatch again).
 */
import { ApiError } from '../api/errors';
import type { Kind } from '../api/objects';
import type { Change } from './apply';

/** One object's change; `version` is the index of the entry that made it. */
export type ChangeEvent = Change & { type: 'change'; version: number };

/** Marks the end of one applied entry's changes (sent when the entry delivered any change to this subscriber). */
export interface CommitEvent {
  type: 'commit';
  version: number;
}

/** The whole store was replaced from a snapshot; no per-object events follow, resync from a view. */
export interface RestoredEvent {
  type: 'restored';
  version: number;
}

export type StoreEvent = ChangeEvent | CommitEvent | RestoredEvent;

export interface WatchOptions {
  /** Only changes of these kinds (default: all). */
  kinds?: readonly Kind[];
  /** Only changes for which this returns true. Runs inside apply: keep it cheap and pure. */
  filter?: (event: ChangeEvent) => boolean;
  /** Maximum queued events before the subscriber is closed as fallen behind. */
  bufferSize?: number;
  /** Closes the subscription when aborted. */
  signal?: AbortSignal;
}

export const DEFAULT_WATCH_BUFFER = 4096;

export const FELL_BEHIND_MESSAGE = 'watch closed: subscriber fell behind';

interface Waiter {
  resolve(result: IteratorResult<StoreEvent>): void;
  reject(err: unknown): void;
}

/**
 * An ordered stream of store events; iterate it with `for await`. Iteration ends when close() is called
 * and throws a ApiError if the subscription was cut off.
 */
export class Subscription implements AsyncIterableIterator<StoreEvent> {
  private queue: StoreEvent[] = [];
  private head = 0;
  private waiter: Waiter | null = null;
  private ended = false;
  private failure: ApiError | null = null;
  private readonly kinds: ReadonlySet<Kind> | null;
  private readonly filter: ((event: ChangeEvent) => boolean) | null;
  readonly bufferSize: number;

  constructor(
    options: WatchOptions,
    private readonly onClose: (sub: Subscription) => void,
  ) {
    this.kinds = options.kinds ? new Set(options.kinds) : null;
    this.filter = options.filter ?? null;
    this.bufferSize = Math.max(1, options.bufferSize ?? DEFAULT_WATCH_BUFFER);
    const signal = options.signal;
    if (signal) {
      if (signal.aborted) this.close();
      else signal.addEventListener('abort', () => this.close(), { once: true });
    }
  }

  /** Events queued and not yet consumed. */
  get buffered(): number {
    return this.queue.length - this.head;
  }

  get closed(): boolean {
    return this.ended;
  }

  /** Why the subscription was cut off, if it was. */
  get error(): ApiError | null {
    return this.failure;
  }

  /** Called by the hub for each applied entry, with events shared by all subscribers. */
  publish(changes: readonly ChangeEvent[], version: number): void {
    if (this.ended) return;
    const events: StoreEvent[] = [];
    try {
      for (const ev of changes) {
        if (this.kinds !== null && !this.kinds.has(ev.kind)) continue;
        if (this.filter === null || this.filter(ev)) events.push(ev);
      }
    } catch (err) {
      this.fail(new ApiError('InvalidArgument', 'watch closed: filter threw', { cause: err }));
      return;
    }
    if (events.length === 0) return;
    events.push({ type: 'commit', version });
    this.enqueue(events);
  }

  publishRestored(version: number): void {
    if (!this.ended) this.enqueue([{ type: 'restored', version }]);
  }

  private enqueue(events: StoreEvent[]): void {
    // A subscriber with an empty queue is keeping up: it always takes the whole entry, so one large
    // transaction cannot cut off a healthy consumer. Memory stays bounded by bufferSize plus one entry.
    if (this.buffered > 0 && this.buffered + events.length > this.bufferSize) {
      this.fail(new ApiError('Unavailable', FELL_BEHIND_MESSAGE, { details: { bufferSize: this.bufferSize } }));
      return;
    }
    let i = 0;
    if (this.waiter !== null && this.buffered === 0) {
      const w = this.waiter;
      this.waiter = null;
      w.resolve({ value: events[0], done: false });
      i = 1;
    }
    for (; i < events.length; i++) this.queue.push(events[i]);
  }

  private fail(err: ApiError): void {
    if (this.ended) return;
    this.failure = err;
    this.finish();
  }

  private finish(): void {
    this.ended = true;
    this.queue = [];
    this.head = 0;
    this.onClose(this);
    const w = this.waiter;
    this.waiter = null;
    if (w !== null) {
      if (this.failure !== null) w.reject(this.failure);
      else w.resolve({ value: undefined, done: true });
    }
  }

  /** Ends the subscription; a pending or later next() reports done. Idempotent. */
  close(): void {
    if (!this.ended) this.finish();
  }

  next(): Promise<IteratorResult<StoreEvent>> {
    if (this.buffered > 0) {
      const value = this.queue[this.head];
      this.head++;
      // Compact occasionally so the array does not keep consumed events alive.
      if (this.head >= 1024 && this.head * 2 >= this.queue.length) {
        this.queue = this.queue.slice(this.head);
        this.head = 0;
      }
      return Promise.resolve({ value, done: false });
    }
    if (this.failure !== null) return Promise.reject(this.failure);
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    if (this.waiter !== null) return Promise.reject(new ApiError('FailedPrecondition', 'concurrent next() on a subscription'));
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  return(): Promise<IteratorResult<StoreEvent>> {
    this.close();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

/** The set of live subscriptions of one store. */
export class WatchHub {
  private readonly subs = new Set<Subscription>();

  get size(): number {
    return this.subs.size;
  }

  subscribe(options: WatchOptions = {}): Subscription {
    const sub = new Subscription(options, (s) => this.subs.delete(s));
    if (!sub.closed) this.subs.add(sub);
    return sub;
  }

  publish(changes: readonly Change[], version: number): void {
    if (changes.length === 0 || this.subs.size === 0) return;
    // Events are frozen and shared: one allocation per change, however many subscribers.
    const events = changes.map((c) => Object.freeze({ ...c, type: 'change', version }) as ChangeEvent);
    for (const sub of [...this.subs]) sub.publish(events, version);
  }

  publishRestored(version: number): void {
    for (const sub of [...this.subs]) sub.publishRestored(version);
  }
}
