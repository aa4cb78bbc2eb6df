/**
 * The main thread's handle on the worker thread that runs this app's swarmd node: starts the worker and
 * the node in it, makes the calls of protocol.ts, keeps the node's role current from its `status`
 * events, hands `feedEvent`s to their feed, and writes the node's log lines with the main thread's
 * logger. The worker is still inside this process (the desktop app runs its manager in-process); only
 * its JavaScript runs on another thread, with its own heap and event loop.
 */
import { Worker } from 'node:worker_threads';
import { ApiError } from '../../../agent/api/errors';
import type { NodeRole } from '../../../agent/ca/roles';
import type { Logger } from '../../../agent/log';
import { type CallMessage, type CallName, type FeedTiming, fromWireError, type NodeStartOptions, type NodeWorkerCalls, type StartedNode, type WorkerMessage } from './protocol';

/**
 * Built by electron-vite, this module is bundled into out/main/index.js and the worker's entry sits
 * beside it as node-worker.js; from the sources (tsx, Vitest) a small .mjs loads the TypeScript entry.
 * The names are variables so that Vite leaves these URLs to be resolved at run time.
 */
function workerEntry(): URL {
  const fromSources = import.meta.url.endsWith('.ts');
  const file = fromSources ? 'source-entry.mjs' : 'node-worker.js';
  return new URL(`./${file}`, import.meta.url);
}

interface Pending {
  resolve(value: unknown): void;
  reject(err: Error): void;
}

/** One session's cluster feed, run in the worker: its snapshot, then its events, both UTF-8 JSON (events through `emit`). */
export interface RemoteFeed {
  /** The ClusterSnapshot, as UTF-8 JSON. */
  start(): Promise<Uint8Array>;
  close(): void;
  /** False once closed, resynced, or its node's worker is gone. */
  readonly live: boolean;
}

export class NodeWorker {
  private readonly worker: Worker;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly feeds = new Map<number, (json: Uint8Array, resync: boolean) => void>();
  private started: StartedNode | undefined;
  private status: { role: NodeRole; managerRunning: boolean } = { role: 'worker', managerRunning: false };
  /** Set once the node has stopped or the worker is gone: why. */
  private ended: { reason: string | undefined } | undefined;
  private readonly endWaiters: ((reason: string | undefined) => void)[] = [];
  private readonly exited: Promise<void>;

  private constructor(private readonly logger: Logger) {
    this.worker = new Worker(workerEntry(), { name: 'swarmd node' });
    this.worker.on('message', (message: WorkerMessage) => this.onMessage(message));
    this.worker.on('error', (err) => {
      this.logger.error('the node\'s worker thread failed', { error: err.message });
      this.end(`the node's worker thread failed: ${err.message}`);
    });
    this.exited = new Promise((resolve) => {
      this.worker.once('exit', () => {
        this.end('the node\'s worker thread exited');
        resolve();
      });
    });
  }

  /** A worker running a started node; on failure the worker is gone and the start's error thrown. */
  static async start(options: NodeStartOptions, logger: Logger): Promise<NodeWorker> {
    const handle = new NodeWorker(logger);
    try {
      const started = await handle.call('start', options);
      handle.started = started;
      handle.status = { role: started.role, managerRunning: started.managerRunning };
      return handle;
    } catch (err) {
      await handle.terminate();
      throw err;
    }
  }

  private get node(): StartedNode {
    if (this.started === undefined) throw new Error('the node has not started');
    return this.started;
  }

  get nodeId(): string {
    return this.node.nodeId;
  }
  get clusterId(): string {
    return this.node.clusterId;
  }
  get advertiseAddress(): string {
    return this.node.advertiseAddress;
  }
  get controlSocket(): string {
    return this.node.controlSocket;
  }
  get role(): NodeRole {
    return this.status.role;
  }
  get managerRunning(): boolean {
    return this.ended === undefined && this.status.managerRunning;
  }

  /** Settles when the node stops (by itself, or stopped) or its worker is gone; with the reason. */
  whenStopped(): Promise<string | undefined> {
    if (this.ended !== undefined) return Promise.resolve(this.ended.reason);
    return new Promise((resolve) => this.endWaiters.push(resolve));
  }

  /** Stops the node cleanly, then the worker. */
  async stop(reason: string): Promise<void> {
    try {
      if (this.ended === undefined) await this.call('stop', { reason });
    } finally {
      this.end(reason);
      await this.terminate();
    }
  }

  isOnlyManager(): Promise<boolean> {
    return this.call('isOnlyManager', null);
  }

  nodeTaskCount(nodeId: string): Promise<number> {
    return this.call('nodeTaskCount', { nodeId });
  }

  managerAddresses(): Promise<string[]> {
    return this.call('managerAddresses', null);
  }

  openFeed(timing: FeedTiming, emit: (json: Uint8Array) => void): RemoteFeed {
    const feedId = this.nextId++;
    let closed = false;
    const close = () => {
      if (closed) return;
      closed = true;
      this.feeds.delete(feedId);
      if (this.ended === undefined) this.call('closeFeed', { feedId }).catch(() => undefined);
    };
    // Listening before asking: the worker sends the snapshot first and the feed's events after it.
    this.feeds.set(feedId, (json, resync) => {
      if (resync) {
        closed = true;
        this.feeds.delete(feedId);
      }
      emit(json);
    });
    const isLive = () => !closed && this.ended === undefined;
    return {
      start: async () => {
        try {
          return (await this.call('openFeed', { feedId, timing })).snapshotJson;
        } catch (err) {
          closed = true;
          this.feeds.delete(feedId);
          throw err;
        }
      },
      close,
      get live() {
        return isLive();
      },
    };
  }

  private call<M extends CallName>(method: M, args: NodeWorkerCalls[M]['args']): Promise<NodeWorkerCalls[M]['result']> {
    if (this.ended !== undefined) return Promise.reject(new ApiError('Unavailable', `the local node is not running (${this.ended.reason ?? 'stopped'})`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      // The union cannot be built from a generic method name without this one assertion.
      this.worker.postMessage({ kind: 'call', id, method, args } as CallMessage);
    });
  }

  private onMessage(message: WorkerMessage): void {
    switch (message.kind) {
      case 'reply': {
        const pending = this.pending.get(message.id);
        this.pending.delete(message.id);
        if (message.ok) pending?.resolve(message.value);
        else pending?.reject(fromWireError(message.error));
        return;
      }
      case 'status':
        this.status = { role: message.role, managerRunning: message.managerRunning };
        return;
      case 'stopped':
        this.end(message.reason);
        void this.terminate();
        return;
      case 'feedEvent':
        this.feeds.get(message.feedId)?.(message.json, message.resync);
        return;
      case 'log':
        this.logger[message.level](message.message, message.fields);
        return;
    }
  }

  /** The node is gone: calls in flight fail, feeds end, waiters learn why (once). */
  private end(reason: string | undefined): void {
    if (this.ended !== undefined) return;
    this.ended = { reason };
    for (const pending of this.pending.values()) pending.reject(new ApiError('Unavailable', `the local node stopped: ${reason ?? 'stopped'}`));
    this.pending.clear();
    this.feeds.clear();
    for (const resolve of this.endWaiters.splice(0)) resolve(reason);
  }

  private async terminate(): Promise<void> {
    await this.worker.terminate();
    await this.exited;
  }
}
