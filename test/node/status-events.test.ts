/**
 * A node tells its listeners when its role or its manager changes, so the desktop's node worker can
 * pass a promotion to the UI as it happens (it used to look twice a second). Two real nodes in this
 * process on loopback, with mutual TLS: the second joins with the worker token, and swarmctl promotes
 * and demotes it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../agent/log';
import { type NodeStatus, SwarmNode } from '../../agent/node/node';
import { ctlOk, freePort, joinTokens, until, untilNodes } from '../cluster/harness';

const lines: string[] = [];
const logger = createLogger({ level: 'info', format: 'json', write: (line) => lines.push(line) });
let dir: string;
const nodes: SwarmNode[] = [];

async function startNode(name: string, joining?: { addr: string; token: string; socket: string }): Promise<SwarmNode> {
  const port = await freePort();
  const node = await SwarmNode.start({
    stateDir: join(dir, name),
    listenRemoteApi: `127.0.0.1:${port}`,
    advertiseRemoteApi: `127.0.0.1:${port}`,
    hostname: name,
    joinAddr: joining?.addr,
    joinToken: joining?.token,
    tickMs: 50,
    logger: logger.child({ node: name }),
  });
  nodes.push(node);
  // swarmctl finds a node by its name once its session has registered it.
  if (joining !== undefined) await untilNodes(joining.socket, `${name} in node ls`, (rows) => rows.some((row) => row.name === name), 60_000);
  return node;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'swarmdesk-node-status-'));
});

afterAll(async () => {
  for (const node of nodes.reverse()) await node.stop('test over').catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
});

describe('node status events', () => {
  it('announce a promotion and a demotion as they happen, each step once and in order', async () => {
    const first = await startNode('status-m1');
    expect(first.status).toEqual({ role: 'manager', managerRunning: true });
    const tokens = await joinTokens(first.controlSocket);
    const second = await startNode('status-w1', { addr: first.advertiseAddress, token: tokens.worker, socket: first.controlSocket });
    expect(second.status).toEqual({ role: 'worker', managerRunning: false });
    const seen: NodeStatus[] = [];
    second.onStatusChange((status) => seen.push(status));

    await ctlOk(first.controlSocket, 'node', 'promote', 'status-w1');
    // The certificate changes first (manager, nothing running yet), then the manager starts.
    await until('the promoted node to announce its running manager', () => seen.some((s) => s.managerRunning) || undefined, 120_000);
    expect(seen).toEqual([
      { role: 'manager', managerRunning: false },
      { role: 'manager', managerRunning: true },
    ]);
    expect(second.runningManager).toBeDefined();

    await ctlOk(first.controlSocket, 'node', 'demote', 'status-w1');
    await until('the demoted node to announce its manager stopped', () => seen.length >= 4 || undefined, 120_000);
    expect(seen.slice(2)).toEqual([
      { role: 'worker', managerRunning: true },
      { role: 'worker', managerRunning: false },
    ]);
    expect(second.runningManager).toBeUndefined();

    // Stopping a worker changes neither its role nor its (absent) manager.
    await second.stop('test over');
    expect(seen).toHaveLength(4);
  }, 300_000);

  it('keeps changing role when a listener throws, and logs the listener\'s failure', async () => {
    const first = nodes[0];
    if (first === undefined) throw new Error('no cluster: the first test failed');
    const tokens = await joinTokens(first.controlSocket);
    const third = await startNode('status-w2', { addr: first.advertiseAddress, token: tokens.worker, socket: first.controlSocket });
    third.onStatusChange(() => {
      throw new Error('listener bug');
    });
    await ctlOk(first.controlSocket, 'node', 'promote', 'status-w2');
    await until('the promoted node to run its manager despite the listener', () => third.status.managerRunning || undefined, 120_000);
    expect(lines.some((line) => line.includes('a node status listener failed') && line.includes('listener bug'))).toBe(true);
  }, 300_000);
});
