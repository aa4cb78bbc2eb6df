/**
 * A process hosting many simulated workers for bench:converge (forked with an IPC channel). Each
 * worker is a real node as far as the managers can tell: it joins with the worker token (its own key
 * and certificate), keeps a real DispatcherSession (mutual TLS, heartbeats) and runs the real task
 * channel and task manager (TaskAgent), wired as agent/node/node.ts wires them; only its executor is
 * simulated (InstantExecutor: a task runs as soon as it is started).
 *
 * Messages (see WorkerHostCommand / WorkerHostReport): start -> joined progress, then ready once every
 * session is established; stats -> stats; stop -> stopped, then the process exits.
 */
import { parseNodeCertificate } from '../../agent/ca';
import { clientCredentials, managerChannelOptions } from '../../agent/ca/tls-credentials';
import { joinCluster, type NodeCredentials } from '../../agent/ca/join-client';
import type { NodeDescription } from '../../agent/api/objects';
import { DispatcherSession, TaskAgent } from '../../agent/worker';
import { InstantExecutor } from './instant-executor';

export interface StartWorkers {
  type: 'start';
  /** Manager to join through (host:port). */
  joinAddr: string;
  workerToken: string;
  /** Every manager's address, the leader first. */
  managers: string[];
  /** Hostnames are sim-<firstIndex + i>. */
  firstIndex: number;
  count: number;
  /** Joins in flight at once. */
  joinConcurrency: number;
}

export type WorkerHostCommand = StartWorkers | { type: 'stats' } | { type: 'stop' };

export interface WorkerStats {
  /** Sessions established now. */
  sessions: number;
  /** Tasks whose simulated container runs. */
  running: number;
  /** Sessions established since start (more than the workers means some reconnected). */
  establishedTotal: number;
}

export type WorkerHostReport =
  | { type: 'joined'; joined: number }
  | { type: 'ready'; nodeIds: string[]; joinMs: number; sessionMs: number }
  | ({ type: 'stats' } & WorkerStats)
  | { type: 'stopped' }
  | { type: 'error'; message: string };

interface SimulatedWorker {
  readonly nodeId: string;
  readonly executor: InstantExecutor;
  readonly session: DispatcherSession;
  readonly agent: TaskAgent;
  established: boolean;
}

const workers: SimulatedWorker[] = [];
let establishedTotal = 0;
let onEstablishedChange: (() => void) | undefined;

function send(report: WorkerHostReport): void {
  process.send?.(report);
}

function describeSimulated(hostname: string): NodeDescription {
  // Enough CPU and memory that the scheduler's resource filter never limits placement.
  return { hostname, platform: { os: 'linux', arch: 'x86_64' }, resources: { nanoCpus: 64e9, memoryBytes: 256 * 2 ** 30 } };
}

/** Runs `work` over `items` with at most `limit` in flight, in order of start. */
async function pool<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i] as T);
    }
  });
  await Promise.all(lanes);
  return results;
}

async function joinWithRetry(command: StartWorkers): Promise<NodeCredentials> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await joinCluster({ address: command.joinAddr, token: command.workerToken, timeoutMs: 30_000 });
    } catch (err) {
      if (attempt >= 5) throw err;
      await new Promise((resolve) => setTimeout(resolve, 500 * attempt));
    }
  }
}

function startWorker(credentials: NodeCredentials, hostname: string, managers: string[]): SimulatedWorker {
  const executor = new InstantExecutor(credentials.nodeId);
  const agent = new TaskAgent({ executor });
  const { clusterId } = parseNodeCertificate(credentials.certPem);
  const worker: SimulatedWorker = {
    nodeId: credentials.nodeId,
    executor,
    agent,
    established: false,
    session: new DispatcherSession({
      managers: () => managers,
      credentials: () => clientCredentials({ rootCaPem: credentials.rootCaPem, certPem: credentials.certPem, keyPem: credentials.keyPem, expectedClusterId: clusterId }),
      channelOptions: managerChannelOptions,
      description: () => Promise.resolve(describeSimulated(hostname)),
      onEstablished: (link) => {
        worker.established = true;
        establishedTotal++;
        link.signal.addEventListener('abort', () => {
          worker.established = false;
          onEstablishedChange?.();
        }, { once: true });
        agent.attach(link);
        onEstablishedChange?.();
      },
    }),
  };
  return worker;
}

function stats(): WorkerStats {
  let sessions = 0;
  let running = 0;
  for (const w of workers) {
    if (w.established) sessions++;
    running += w.executor.runningCount;
  }
  return { sessions, running, establishedTotal };
}

async function start(command: StartWorkers): Promise<void> {
  const started = performance.now();
  const indexes = Array.from({ length: command.count }, (_, i) => command.firstIndex + i);
  let joined = 0;
  const credentials = await pool(indexes, command.joinConcurrency, async () => {
    const result = await joinWithRetry(command);
    joined++;
    if (joined % 50 === 0 || joined === command.count) send({ type: 'joined', joined });
    return result;
  });
  const joinMs = performance.now() - started;
  const sessionsStarted = performance.now();
  const allEstablished = new Promise<void>((resolve) => {
    onEstablishedChange = () => {
      if (stats().sessions === workers.length) resolve();
    };
  });
  credentials.forEach((c, i) => {
    const worker = startWorker(c, `sim-${String(indexes[i]).padStart(4, '0')}`, command.managers);
    workers.push(worker);
    worker.session.start();
  });
  await allEstablished;
  onEstablishedChange = undefined;
  send({ type: 'ready', nodeIds: workers.map((w) => w.nodeId), joinMs, sessionMs: performance.now() - sessionsStarted });
}

async function stop(): Promise<void> {
  await Promise.all(workers.map(async (w) => {
    await w.session.stop();
    await w.agent.stop();
  }));
  send({ type: 'stopped' });
  process.disconnect?.();
  setTimeout(() => process.exit(0), 100).unref();
}

process.on('message', (message: WorkerHostCommand) => {
  const fail = (err: unknown) => send({ type: 'error', message: err instanceof Error ? err.stack ?? err.message : String(err) });
  switch (message.type) {
    case 'start':
      void start(message).catch(fail);
      break;
    case 'stats':
      send({ type: 'stats', ...stats() });
      break;
    case 'stop':
      void stop().catch(fail);
      break;
  }
});
// The parent going away ends this process too (no orphaned workers heartbeating).
process.on('disconnect', () => setTimeout(() => process.exit(0), 1000).unref());
