/** swarmctl against a fake manager served by the real control service on a real Unix socket. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiError } from '../../agent/api/errors';
import { UPDATE_ATTEMPTS } from '../../agent/cli/update';
import { type FakeManager, FakeControl, startFakeManager, swarmctl } from './fake-control';
import { makeCluster, makeNode } from './fixtures';

const LEADER_ID = 'ea0b6125sx3ejdx7w1ne1mruk';
const WORKER_ID = 'lnxa1hn4q0dzg6bh1vlyf1k0q';
const OTHER_ID = 'lnxq2k1m8d7cbzt0sj9y3v4ab';
const CLUSTER_ID = 'fe9vsdtfjco9vxjipwor1nj8x';

let api: FakeControl;
let manager: FakeManager;

beforeEach(async () => {
  api = new FakeControl(
    [
      makeNode({ id: LEADER_ID, hostname: 'mgmt-01', manager: { leader: true, reachability: 'reachable' } }),
      makeNode({ id: WORKER_ID, hostname: 'work-01', labels: { old: 'x' } }),
      makeNode({ id: OTHER_ID, hostname: 'work-02', name: 'db' }),
    ],
    [makeCluster(CLUSTER_ID)],
  );
  manager = await startFakeManager(api);
});

afterEach(async () => {
  await manager.close();
});

function ctl(...args: string[]) {
  return swarmctl(['--socket', manager.socketPath, ...args]);
}

describe('node ls', () => {
  it('lists the nodes the manager returns', async () => {
    const result = await ctl('node', 'ls');
    expect(result).toEqual({
      code: 0,
      stderr: '',
      stdout: [
        'ID                         Name     Membership  Status  Availability  Manager Status',
        '--                         ----     ----------  ------  ------------  --------------',
        `${LEADER_ID}  mgmt-01  ACCEPTED    READY   ACTIVE        REACHABLE *`,
        `${WORKER_ID}  work-01  ACCEPTED    READY   ACTIVE`,
        `${OTHER_ID}  db       ACCEPTED    READY   ACTIVE`,
        '',
      ].join('\n'),
    });
  });

  it('-q prints IDs only; SWARM_SOCKET picks the socket when --socket is absent', async () => {
    const result = await swarmctl(['node', 'ls', '-q'], { SWARM_SOCKET: manager.socketPath });
    expect(result).toEqual({ code: 0, stderr: '', stdout: `${LEADER_ID}\n${WORKER_ID}\n${OTHER_ID}\n` });
  });

  it('--socket may follow the subcommand and wins over SWARM_SOCKET', async () => {
    const result = await swarmctl(['node', 'ls', '-q', '--socket', manager.socketPath], { SWARM_SOCKET: '/nonexistent/swarmd.sock' });
    expect(result.code).toBe(0);
  });
});

describe('node promote / demote / availability', () => {
  it('promote sends the full spec with role manager and the version it read', async () => {
    const result = await ctl('node', 'promote', 'work-01');
    expect(result).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(api.updates()).toEqual([
      { nodeId: WORKER_ID, version: 7, spec: { labels: { old: 'x' }, role: 'manager', availability: 'active' } },
    ]);
  });

  it('re-reads and retries when the node changed in between (Conflict)', async () => {
    let bumped = false;
    api.beforeUpdateNode = (node) => {
      if (bumped) return;
      bumped = true;
      // Someone else labels the node between our read and our write.
      api.nodes.set(node.id, { ...node, spec: { ...node.spec, labels: { theirs: 'y' } }, meta: { ...node.meta, version: 9 } });
    };
    const result = await ctl('node', 'drain', WORKER_ID);
    expect(result).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(api.updates().map((update) => update.version)).toEqual([7, 9]);
    expect(api.nodes.get(WORKER_ID)?.spec).toEqual({ labels: { theirs: 'y' }, role: 'worker', availability: 'drain' });
  });

  it('gives up after a few conflicts with one clear line', async () => {
    api.beforeUpdateNode = (node) => {
      api.nodes.set(node.id, { ...node, meta: { ...node.meta, version: node.meta.version + 1 } });
    };
    const result = await ctl('node', 'pause', 'db');
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`Error: node db kept changing while it was being updated (${UPDATE_ATTEMPTS} attempts); try again\n`);
    expect(api.updates()).toHaveLength(UPDATE_ATTEMPTS);
  });

  it('says so when the node already has the role, and carries on with the other nodes', async () => {
    const result = await ctl('node', 'promote', 'mgmt-01', 'db');
    expect(result).toEqual({ code: 1, stdout: '', stderr: 'Error: node mgmt-01 is already a manager\n' });
    expect(api.nodes.get(OTHER_ID)?.spec.role).toBe('manager');
  });

  it('demote, activate and pause send the matching spec', async () => {
    await ctl('node', 'demote', 'mgmt-01');
    await ctl('node', 'pause', 'work-01');
    await ctl('node', 'activate', 'work-01');
    expect(api.updates().map((update) => [update.nodeId, update.spec.role, update.spec.availability])).toEqual([
      [LEADER_ID, 'worker', 'active'],
      [WORKER_ID, 'worker', 'pause'],
      [WORKER_ID, 'worker', 'active'],
    ]);
  });
});

describe('node update labels', () => {
  it('adds and removes labels, keeping the rest of the spec', async () => {
    const result = await ctl('node', 'update', '--label-add', 'zone=b', '--label-add', 'ssd=true', '--label-rm', 'old', 'work-01');
    expect(result).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(api.updates()).toEqual([
      { nodeId: WORKER_ID, version: 7, spec: { labels: { zone: 'b', ssd: 'true' }, role: 'worker', availability: 'active' } },
    ]);
  });

  it('refuses to remove a label the node does not have', async () => {
    const result = await ctl('node', 'update', '--label-rm', 'nope', 'work-01');
    expect(result).toEqual({ code: 1, stdout: '', stderr: 'Error: node work-01 has no label "nope"\n' });
    expect(api.updates()).toEqual([]);
  });

  it('asks for a change when given none', async () => {
    const result = await ctl('node', 'update', 'work-01');
    expect(result).toEqual({ code: 1, stdout: '', stderr: 'Error: nothing to update: give --label-add or --label-rm\n' });
  });
});

describe('resolving nodes', () => {
  it('accepts a full ID, a name, a hostname and a unique ID prefix', async () => {
    for (const input of [OTHER_ID, 'db', 'work-02', 'lnxq']) {
      const result = await ctl('node', 'inspect', input);
      expect(result.code).toBe(0);
      expect(result.stdout.split('\n')[0]).toBe(`ID                 : ${OTHER_ID}`);
    }
  });

  it('refuses an ambiguous ID prefix, naming the candidates', async () => {
    const result = await ctl('node', 'drain', 'lnx');
    expect(result).toEqual({
      code: 1,
      stdout: '',
      stderr: `Error: node ID prefix "lnx" is ambiguous: it matches 2 nodes (${WORKER_ID}, ${OTHER_ID})\n`,
    });
    expect(api.updates()).toEqual([]);
  });

  it('refuses a name two nodes share', async () => {
    api.nodes.set('zzzzz1hn4q0dzg6bh1vlyf1k0q', makeNode({ id: 'zzzzz1hn4q0dzg6bh1vlyf1k0q', hostname: 'work-01' }));
    const result = await ctl('node', 'inspect', 'work-01');
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`Error: node name "work-01" is ambiguous: 2 nodes have it (${WORKER_ID}, zzzzz1hn4q0dzg6bh1vlyf1k0q); use an ID\n`);
  });

  it('reports a node that does not exist', async () => {
    expect(await ctl('node', 'inspect', 'nosuch')).toEqual({ code: 1, stdout: '', stderr: 'Error: node "nosuch" not found\n' });
  });
});

describe('node rm', () => {
  it('removes the resolved node, with --force when asked', async () => {
    expect(await ctl('node', 'rm', '--force', 'db')).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(api.calls.at(-1)).toEqual({ method: 'removeNode', request: { nodeId: OTHER_ID, force: true } });
  });

  it("turns the manager's ApiError into one stderr line and exit 1", async () => {
    api.failures.set('removeNode', new ApiError('FailedPrecondition', `node ${OTHER_ID} is not down and can't be removed; use --force`));
    expect(await ctl('node', 'rm', 'db')).toEqual({
      code: 1,
      stdout: '',
      stderr: `Error: node ${OTHER_ID} is not down and can't be removed; use --force\n`,
    });
    expect(api.nodes.has(OTHER_ID)).toBe(true);
  });
});

describe('errors', () => {
  it('an ApiError on any call is one line and exit 1', async () => {
    api.failNext = new ApiError('PermissionDenied', 'the control API is only for managers');
    expect(await ctl('node', 'ls')).toEqual({ code: 1, stdout: '', stderr: 'Error: the control API is only for managers\n' });
  });

  it('a manager that is not running: one line naming the socket', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'swarmctl-none-'));
    try {
      const socket = join(dir, 'swarmd.sock');
      const result = await swarmctl(['--socket', socket, 'node', 'ls']);
      expect(result.code).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr).toMatch(new RegExp(`^Error: cannot reach the manager's control socket ${socket}: [^\\n]+\\n$`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('usage mistakes are one line and exit 1, before any call', async () => {
    const mistakes = [
      ['node', 'inspect'],
      ['node', 'frobnicate'],
      ['service', 'inspect'],
      ['task', 'frobnicate'],
      ['--bogus'],
      ['cluster', 'update', 'default', '--task-history', 'x'],
      ['help', 'nosuch'],
    ];
    for (const args of mistakes) {
      const result = await ctl(...args);
      expect(result.code, args.join(' ')).toBe(1);
      expect(result.stderr, args.join(' ')).toMatch(/^Error: [^\n]+\n$/);
    }
    expect(api.calls).toEqual([]);
  });

  it('--help works on every command and subcommand', async () => {
    const nodeSubcommands = ['ls', 'inspect', 'promote', 'demote', 'drain', 'activate', 'pause', 'rm', 'update'];
    const commands = [
      [],
      ['node'],
      ['cluster'],
      ['version'],
      ...nodeSubcommands.map((sub) => ['node', sub]),
      ...['ls', 'inspect', 'update'].map((sub) => ['cluster', sub]),
      ['service'],
      ...['create', 'ls', 'inspect', 'update', 'rollback', 'rm'].map((sub) => ['service', sub]),
      ['task'],
      ...['ls', 'inspect', 'rm'].map((sub) => ['task', sub]),
    ];
    for (const command of commands) {
      const result = await swarmctl([...command, '--help']);
      expect(result.code, command.join(' ')).toBe(0);
      expect(result.stdout, command.join(' ')).toContain(`Usage: swarmctl${command.map((word) => ` ${word}`).join('')}`);
    }
  });

  it('help <command> prints that command\'s help', async () => {
    const result = await swarmctl(['help', 'node']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Usage: swarmctl node [options] [command]');
  });

  it('a bare group prints its help and succeeds', async () => {
    const result = await swarmctl(['node']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('promote <node...>');
  });
});

describe('cluster', () => {
  it('ls and inspect by name', async () => {
    expect((await ctl('cluster', 'ls')).stdout).toBe(`ID                         Name\n--                         ----\n${CLUSTER_ID}  default\n`);
    const inspect = await ctl('cluster', 'inspect', 'default');
    expect(inspect.code).toBe(0);
    expect(inspect.stdout).toContain('  Dispatcher heartbeat period: 5s\n');
  });

  it('update changes the settings given, rotates tokens and prints the ID', async () => {
    const flags = ['--heartbeat-period', '10s', '--task-history', '3', '--cert-expiry', '720h', '--rotate-join-token', 'worker'];
    const result = await ctl('cluster', 'update', 'fe9', ...flags);
    expect(result).toEqual({ code: 0, stdout: `${CLUSTER_ID}\n`, stderr: '' });
    const update = api.calls.find((call) => call.method === 'updateCluster');
    expect(update?.request).toEqual({
      clusterId: CLUSTER_ID,
      version: 7,
      spec: {
        name: 'default',
        labels: {},
        orchestration: { taskHistoryRetentionLimit: 3 },
        dispatcher: { heartbeatPeriodMs: 10_000 },
        caConfig: { nodeCertExpiryMs: 720 * 3_600_000 },
      },
      rotateWorkerToken: true,
      rotateManagerToken: false,
    });
    const inspect = await ctl('cluster', 'inspect', 'default');
    expect(inspect.stdout).toContain('  Dispatcher heartbeat period: 10s\n');
    expect(inspect.stdout).toContain('  Certificate Validity Duration: 720h0m0s\n');
    expect(inspect.stdout).toContain('    Worker: SWMTKN-1-rotated-worker\n');
  });

  it('refuses out-of-range settings before calling the manager', async () => {
    const result = await ctl('cluster', 'update', 'default', '--cert-expiry', '30m');
    expect(result).toEqual({
      code: 1,
      stdout: '',
      stderr: "Error: option '--cert-expiry <duration>' argument '30m' is invalid. must be at least 1h0m0s.\n",
    });
    expect(api.calls).toEqual([]);
  });
});

describe('version', () => {
  it("prints swarmctl's version and the manager's", async () => {
    expect(await ctl('version')).toEqual({ code: 0, stderr: '', stdout: 'swarmctl version 0.1.0\nmanager version 0.1.0 (Node.js 20.20.2)\n' });
  });

  it('prints only its own version when no manager answers', async () => {
    expect(await swarmctl(['--socket', join(tmpdir(), 'no-such-dir-swarmctl', 'swarmd.sock'), 'version'])).toEqual({
      code: 0,
      stderr: '',
      stdout: 'swarmctl version 0.1.0\n',
    });
  });
});
