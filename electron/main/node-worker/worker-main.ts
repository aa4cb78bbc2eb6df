/**
 * The worker thread's entry: runs this app's swarmd node (SwarmNode from agent/, unchanged) and answers
 * the main thread's calls (protocol.ts). One node per worker: `start` once, `stop` at the end, after
 * which the main thread terminates the worker.
 */
import { parentPort } from 'node:worker_threads';
import { ApiError } from '../../../agent/api/errors';
import { TaskState } from '../../../agent/api/objects';
import { SwarmNode } from '../../../agent/node/node';
import { portLogger } from './port-logger';
import { type CallMessage, type NodeWorkerCalls, toWireError, type WorkerMessage } from './protocol';
import { WorkerFeeds } from './worker-feeds';

const port = parentPort;
if (port === null) throw new Error('worker-main.ts runs in a worker thread (see node-worker.ts)');

function post(message: WorkerMessage, transfer: ArrayBuffer[] = []): void {
  port?.postMessage(message, transfer);
}

const encoder = new TextEncoder();
const logger = portLogger(post);
const feeds = new WorkerFeeds((feedId, event) => {
  // TextEncoder gives each event a buffer of its own (Buffer.from may share a pool), safe to transfer.
  const json = encoder.encode(JSON.stringify(event));
  post({ kind: 'feedEvent', feedId, json, resync: event.kind === 'resync' }, [json.buffer]);
});
let node: SwarmNode | undefined;
let stopping = false;
let unwatchStatus: (() => void) | undefined;

function running(): SwarmNode {
  if (node === undefined) throw new ApiError('Unavailable', 'the local node is not running');
  return node;
}

/** Tells the main thread as soon as the role or the manager changes, and ends feeds on a stopped manager. */
function watchStatus(started: SwarmNode): void {
  unwatchStatus = started.onStatusChange(({ role, managerRunning }) => {
    post({ kind: 'status', role, managerRunning });
    feeds.dropStale(started.runningManager);
  });
}

async function start(options: NodeWorkerCalls['start']['args']): Promise<NodeWorkerCalls['start']['result']> {
  if (node !== undefined) throw new ApiError('FailedPrecondition', 'this worker already runs a node');
  const started = await SwarmNode.start({ ...options, logger: logger.child({ component: 'node' }) });
  node = started;
  void started.whenStopped().then((reason) => {
    if (!stopping) post({ kind: 'stopped', reason });
  });
  watchStatus(started);
  return {
    nodeId: started.nodeId,
    clusterId: started.clusterId,
    role: started.role,
    managerRunning: started.runningManager !== undefined,
    advertiseAddress: started.advertiseAddress,
    controlSocket: started.controlSocket,
  };
}

async function stop(reason: string): Promise<null> {
  stopping = true;
  unwatchStatus?.();
  feeds.closeAll();
  await node?.stop(reason);
  return null;
}

function managerStore() {
  const manager = running().runningManager;
  if (manager === undefined) throw new ApiError('Unavailable', 'this node is not a manager right now (it may have been demoted)');
  return manager.store;
}

async function answer(message: CallMessage): Promise<NodeWorkerCalls[CallMessage['method']]['result']> {
  switch (message.method) {
    case 'start':
      return start(message.args);
    case 'stop':
      return stop(message.args.reason);
    case 'isOnlyManager': {
      const manager = node?.runningManager;
      if (manager === undefined) return false;
      const managers = manager.store.view((tx) => tx.list('node')).filter((n) => n.role === 'manager' || n.spec.role === 'manager');
      return managers.length <= 1;
    }
    case 'nodeTaskCount': {
      const { nodeId } = message.args;
      return node?.runningManager?.store.view((tx) => tx.find('task', 'nodeId', nodeId).filter((task) => task.desiredState <= TaskState.RUNNING).length) ?? 0;
    }
    case 'managerAddresses':
      return managerStore()
        .view((tx) => tx.list('node'))
        .filter((n) => n.role === 'manager' && n.managerStatus !== undefined)
        .map((n) => n.managerStatus?.addr ?? '')
        .filter((addr) => addr !== '');
    case 'openFeed': {
      const current = running();
      const snapshot = feeds.open(message.args.feedId, message.args.timing, current.runningManager, current.clusterId);
      // Encoded here, the main thread neither copies 10,000 tasks out of a structured clone nor
      // stringifies them again for the WebSocket: JSON.stringify and encode cost less than the clone.
      return { snapshotJson: encoder.encode(JSON.stringify(snapshot)) };
    }
    case 'closeFeed':
      feeds.close(message.args.feedId);
      return null;
  }
}

/** The buffers a reply hands over instead of copying: an encoded snapshot's. */
function transferables(value: NodeWorkerCalls[CallMessage['method']]['result']): ArrayBuffer[] {
  return typeof value === 'object' && value !== null && 'snapshotJson' in value ? [value.snapshotJson.buffer] : [];
}

port.on('message', (message: CallMessage) => {
  void answer(message).then(
    (value) => post({ kind: 'reply', id: message.id, ok: true, value }, transferables(value)),
    (err: unknown) => post({ kind: 'reply', id: message.id, ok: false, error: toWireError(err) }),
  );
});
