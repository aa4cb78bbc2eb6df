/**
 * The desktop app's node in a worker thread (electron/main/node-worker): a real SwarmNode started in a
 * real worker (from the TypeScript sources, as in development), reached over its control socket from
 * this thread, its store read through calls, its cluster feed's events posted here, its logs written by
 * this thread's logger, and a clean stop that ends the thread.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ControlClient } from '../../agent/api/control-client';
import { isApiError } from '../../agent/api/errors';
import { createLogger } from '../../agent/log';
import type { ClusterSnapshot, SwarmdeskEvent } from '../../electron/contract';
import { NodeWorker } from '../../electron/main/node-worker/node-worker';
import { freePort, until } from '../cluster/harness';
import { ClusterMirror } from './cluster-mirror';

let dir: string;
let node: NodeWorker | undefined;
let client: ControlClient | undefined;
const lines: string[] = [];
const logger = createLogger({ level: 'info', format: 'json', write: (line) => lines.push(line) });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'swarmdesk-node-worker-'));
});

afterAll(async () => {
  client?.close();
  await node?.stop('test over').catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
});

describe('the node in a worker thread', () => {
  it('starts a manager there, reachable over its control socket from this thread', async () => {
    const port = await freePort();
    node = await NodeWorker.start({ stateDir: join(dir, 'node'), listenRemoteApi: `127.0.0.1:${port}`, advertiseRemoteApi: `127.0.0.1:${port}`, tickMs: 50 }, logger);
    expect(node.role).toBe('manager');
    expect(node.managerRunning).toBe(true);
    expect(node.advertiseAddress).toBe(`127.0.0.1:${port}`);
    client = ControlClient.forSocket(node.controlSocket);
    const own = await until('this node in the store', async () => (await client?.listNodes({}))?.nodes.find((n) => n.id === node?.nodeId));
    expect(own.role).toBe('manager');
    expect(await node.managerAddresses()).toEqual([`127.0.0.1:${port}`]);
    expect(await node.isOnlyManager()).toBe(true);
    expect(await node.nodeTaskCount(node.nodeId)).toBe(0);
    // The node's log lines come through this thread's logger.
    expect(lines.some((line) => line.includes('"component":"node"') && line.includes(node?.clusterId ?? '-'))).toBe(true);
  });

  it('runs a session\'s cluster feed beside the store: the snapshot, then batched changes posted here', async () => {
    if (node === undefined || client === undefined) throw new Error('no node: the first test failed');
    const events: SwarmdeskEvent[] = [];
    const feed = node.openFeed({ flushMs: 20 }, (json) => events.push(JSON.parse(new TextDecoder().decode(json)) as SwarmdeskEvent));
    // The snapshot comes encoded too, as the worker wrote it.
    const mirror = new ClusterMirror(JSON.parse(new TextDecoder().decode(await feed.start())) as ClusterSnapshot);
    expect(mirror.nodes.get(node.nodeId)?.role).toBe('manager');
    expect(mirror.cluster.hasQuorum).toBe(true);
    const { service } = await client.createService({ spec: { name: 'web', labels: {}, mode: { replicated: { replicas: 3 } }, task: { container: { image: 'busybox:1', command: ['sleep', '1000'] } } } });
    await until('the service and its 3 tasks in the feed', () => {
      for (const event of events.splice(0)) mirror.apply(event);
      return mirror.services.get(service.id) !== undefined && [...mirror.tasks.values()].filter((t) => t.serviceId === service.id).length === 3 ? true : undefined;
    });
    expect(mirror.services.get(service.id)?.replicas.desired).toBe(3);
    expect(mirror.problems).toEqual([]);
    expect(feed.live).toBe(true);
    feed.close();
    expect(feed.live).toBe(false);
  });

  it('stops cleanly: the node stops, the worker ends, later calls say the node is not running', async () => {
    if (node === undefined) throw new Error('no node: the first test failed');
    const stopped = node.whenStopped();
    const socket = node.controlSocket;
    await node.stop('the test stopped it');
    await expect(stopped).resolves.toBe('the test stopped it');
    expect(existsSync(socket)).toBe(false);
    expect(node.managerRunning).toBe(false);
    const refused = await node.managerAddresses().catch((err: unknown) => err);
    expect(isApiError(refused, 'Unavailable')).toBe(true);
    node = undefined;
  });

  it('a failed start crosses with its reason', async () => {
    const port = await freePort();
    const failed = await NodeWorker.start({ stateDir: join(dir, 'joiner'), listenRemoteApi: `127.0.0.1:${port}`, advertiseRemoteApi: `127.0.0.1:${port}`, joinAddr: '127.0.0.1:1', joinToken: 'not-a-token' }, logger).catch((err: unknown) => err);
    expect(failed).toBeInstanceOf(Error);
    expect((failed as Error).message).toMatch(/join token/);
  });
});
