/**
 * Every way a join can be wrong, against a real manager: each fails with exit code 1 and a message
 * that says which mistake it was, and leaves the cluster unchanged.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { freePort, joinTokens, nodeRows, type SwarmdProcess, SwarmLab } from './harness';

let lab: SwarmLab;
let manager: SwarmdProcess;
let tokens: { worker: string; manager: string };
let otherClusterToken: string;

beforeAll(async () => {
  lab = await SwarmLab.create();
  manager = await lab.startNode('mgmt-01');
  tokens = await joinTokens(manager.socket);
  const other = await lab.startNode('other-mgmt');
  otherClusterToken = (await joinTokens(other.socket)).worker;
  await other.stop();
}, 120_000);

afterAll(async () => {
  await lab?.cleanup();
});

async function failedJoin(name: string, token: string | undefined, joinAddr = manager.address): Promise<string> {
  const node = await lab.node(name, { joinAddr, joinToken: token });
  const { code, output } = await node.startExpectingFailure();
  expect(code).toBe(1);
  return output;
}

it('refuses a token with the wrong secret', async () => {
  const parts = tokens.worker.split('-');
  const wrong = [...parts.slice(0, 3), 'x'.repeat(25)].join('-');
  const output = await failedJoin('wrong-secret', wrong);
  expect(output).toContain('invalid join token');
  expect(output).not.toContain('x'.repeat(25));
});

it('refuses a token of another cluster, naming the CA mismatch', async () => {
  expect(await failedJoin('other-cluster', otherClusterToken)).toContain('root CA does not match the join token');
});

it('refuses a token whose CA digest was tampered with', async () => {
  const parts = tokens.manager.split('-');
  const digest = parts[2] ?? '';
  const tampered = [...parts.slice(0, 2), `${digest.slice(0, -1)}${digest.endsWith('0') ? '1' : '0'}`, parts[3]].join('-');
  expect(await failedJoin('tampered', tampered)).toContain('root CA does not match the join token');
});

it('refuses a malformed token before contacting anyone', async () => {
  expect(await failedJoin('malformed', 'SWMTKN-2-abc')).toMatch(/join token/i);
});

it('needs a token with --join-addr', async () => {
  expect(await failedJoin('no-token', undefined)).toContain('--join-addr needs --join-token');
});

it('names an unreachable manager', async () => {
  const port = await freePort();
  expect(await failedJoin('unreachable', tokens.worker, `127.0.0.1:${port}`)).toContain(`cannot reach the manager at 127.0.0.1:${port}`);
}, 60_000);

it('leaves the cluster with only its own node after all that', async () => {
  expect((await nodeRows(manager.socket)).map((r) => r.name)).toEqual(['mgmt-01']);
});
