/** swarmctl service and task commands against a fake manager on a real Unix socket. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ServiceSpec } from '../../agent/api/objects';
import { TaskState } from '../../agent/api/objects';
import { UPDATE_ATTEMPTS } from '../../agent/cli/update';
import { type FakeManager, FakeControl, startFakeManager, swarmctl } from './fake-control';
import { makeNode, makeService, makeTask, SERVICE_ID } from './fixtures';

const NOW = new Date('2025-03-01T12:00:00.000Z');
const MGMT = makeNode({ id: 'ea0b6125sx3ejdx7w1ne1mruk', hostname: 'mgmt-01', manager: { leader: true, reachability: 'reachable' } });
const WORK1 = makeNode({ id: 'lnxa1hn4q0dzg6bh1vlyf1k0q', hostname: 'work-01' });
const NGINX = makeService({ replicas: 2 });
const DB = makeService({ id: 'dbq2k1m8d7cbzt0sj9y3v4abx', name: 'db', image: 'postgres:16', replicas: 1 });
const T1 = makeTask({ id: 'rrk1vhgqxm6wlt8fz0jzbplvc', service: NGINX, slot: 1, nodeId: MGMT.id, at: '2025-03-01T11:55:00.000Z' });
const T2 = makeTask({ id: 'fmfgcqmd8mvxx5ct2qyqam3n8', service: NGINX, slot: 2, nodeId: WORK1.id, at: '2025-03-01T11:59:30.000Z' });
const T2_OLD = makeTask({ id: 'fm0ldcqmd8mvxx5ct2qyqam3n', service: NGINX, slot: 2, nodeId: WORK1.id, state: 'FAILED', desired: 'SHUTDOWN', at: '2025-03-01T11:00:00.000Z' });
const T_DB = makeTask({ id: 'xt2pm9jd8mvxx5ct2qyqam3n8', service: DB, slot: 1, nodeId: WORK1.id, at: '2025-03-01T10:00:00.000Z' });

let api: FakeControl;
let manager: FakeManager;

beforeEach(async () => {
  api = new FakeControl([MGMT, WORK1], [], [structuredClone(NGINX), structuredClone(DB)], [T1, T2, T2_OLD, T_DB]);
  manager = await startFakeManager(api);
});

afterEach(async () => {
  await manager.close();
});

function ctl(...args: string[]) {
  return swarmctl(['--socket', manager.socketPath, ...args], {}, () => NOW);
}

function createdSpec(): ServiceSpec {
  const [request] = api.requests('createService');
  if (request === undefined) throw new Error('createService was not called');
  return request.spec;
}

function updatedSpec(): ServiceSpec | undefined {
  return api.requests('updateService').at(-1)?.spec;
}

describe('service create', () => {
  it("sends the seed's minimal spec and prints the new service's ID", async () => {
    api.newServiceIds.push('t2neubvbyyqc8rynt09drjhlz');
    const result = await ctl('service', 'create', '--name', 'web', '--image', 'nginx:1.11.1-alpine');
    expect(result).toEqual({ code: 0, stderr: '', stdout: 't2neubvbyyqc8rynt09drjhlz\n' });
    expect(createdSpec()).toEqual({ name: 'web', labels: {}, mode: { replicated: { replicas: 1 } }, task: { container: { image: 'nginx:1.11.1-alpine' } } });
  });

  it('turns every flag into the spec, in Docker units', async () => {
    const result = await ctl(
      'service', 'create', '--name', 'web', '--image', 'busybox', '--replicas', '6',
      '--label', 'tier=front', '--env', 'A=1', '--env', 'B=x=y',
      '--command', 'httpd', '--args', '-f', '--args', '-p', '--args', '80',
      '--ports', '8080:80', '--ports', '5353:53/udp', '--ports', '9000',
      '--mount', 'type=bind,source=/srv,target=/www,readonly', '--mount', 'type=tmpfs,target=/tmp',
      '--constraint', 'node.role==worker', '--placement-pref', 'spread=node.labels.zone', '--replicas-max-per-node', '2',
      '--cpu-limit', '0.5', '--memory-limit', '64MiB', '--cpu-reservation', '.25', '--memory-reservation', '32m',
      '--restart-condition', 'on-failure', '--restart-max-attempts', '3',
      '--update-parallelism', '2', '--update-delay', '4s', '--update-failure-action', 'rollback', '--update-monitor', '10s',
      '--update-max-failure-ratio', '0.25', '--update-order', 'start-first',
      '--rollback-parallelism', '0',
      '--stop-grace-period', '30s', '--stop-signal', 'SIGQUIT', '--workdir', '/www', '--user', 'nobody', '--hostname', 'web',
    );
    expect(result).toEqual({ code: 0, stderr: '', stdout: 'svc3\n' });
    expect(createdSpec()).toEqual({
      name: 'web',
      labels: { tier: 'front' },
      mode: { replicated: { replicas: 6 } },
      task: {
        container: {
          image: 'busybox',
          env: ['A=1', 'B=x=y'],
          command: ['httpd'],
          args: ['-f', '-p', '80'],
          mounts: [
            { type: 'bind', source: '/srv', target: '/www', readOnly: true },
            { type: 'tmpfs', target: '/tmp' },
          ],
          stopGracePeriodMs: 30_000,
          stopSignal: 'SIGQUIT',
          dir: '/www',
          user: 'nobody',
          hostname: 'web',
        },
        placement: { constraints: ['node.role==worker'], preferences: [{ spread: { descriptor: 'node.labels.zone' } }], maxReplicasPerNode: 2 },
        resources: { limits: { nanoCpus: 5e8, memoryBytes: 64 * 2 ** 20 }, reservations: { nanoCpus: 2.5e8, memoryBytes: 32 * 2 ** 20 } },
        restart: { condition: 'on-failure', delayMs: 5000, maxAttempts: 3, windowMs: 0 },
      },
      update: { parallelism: 2, delayMs: 4000, failureAction: 'rollback', monitorMs: 10_000, maxFailureRatio: 0.25, order: 'start-first' },
      rollback: { parallelism: 0, delayMs: 0, failureAction: 'pause', monitorMs: 5000, maxFailureRatio: 0, order: 'stop-first' },
      endpoint: {
        mode: 'vip',
        ports: [
          { protocol: 'tcp', targetPort: 80, publishedPort: 8080, publishMode: 'host' },
          { protocol: 'udp', targetPort: 53, publishedPort: 5353, publishMode: 'host' },
          { protocol: 'tcp', targetPort: 9000, publishMode: 'host' },
        ],
      },
    });
  });

  it('--mode global makes a global service; --replicas with it is refused', async () => {
    expect((await ctl('service', 'create', '--name', 'agent', '--image', 'busybox', '--mode', 'global')).code).toBe(0);
    expect(createdSpec().mode).toEqual({ global: {} });
    expect(await ctl('service', 'create', '--name', 'x', '--image', 'busybox', '--mode', 'global', '--replicas', '2')).toEqual({
      code: 1,
      stdout: '',
      stderr: 'Error: --replicas is for replicated services, not --mode global\n',
    });
  });

  it('refuses bad values in one line, before calling the manager', async () => {
    const cases: [string[], string][] = [
      [['--memory-limit', '64 parsecs'], "Error: option '--memory-limit <bytes>' argument '64 parsecs' is invalid. use a size such as 64MiB, 512m or 1g.\n"],
      [['--cpu-limit', '0.1234567891'], "Error: option '--cpu-limit <cpus>' argument '0.1234567891' is invalid. use a number of CPUs such as 0.5 or 2 (at most 9 decimals).\n"],
      [['--ports', '80:http'], "Error: option '--ports <port>' argument '80:http' is invalid. use published:target[/protocol], e.g. 8080:80 or 5353:53/udp.\n"],
      [['--ports', '80/icmp'], 'Error: option \'--ports <port>\' argument \'80/icmp\' is invalid. unknown protocol "icmp" (use tcp, udp or sctp).\n'],
      [['--env', 'NOVALUE'], "Error: option '--env <KEY=value>' argument 'NOVALUE' is invalid. use KEY=value.\n"],
      [['--update-failure-action', 'retry'], "Error: option '--update-failure-action <action>' argument 'retry' is invalid. must be pause, continue or rollback.\n"],
      [['--update-max-failure-ratio', '2'], "Error: option '--update-max-failure-ratio <ratio>' argument '2' is invalid. must be a number from 0 to 1.\n"],
      [['--update-delay', '-1s'], "Error: option '--update-delay <duration>' argument '-1s' is invalid. must not be negative.\n"],
      [['--constraint', 'node.role=manager'], 'Error: spec.task.placement.constraints.0: invalid constraint "node.role=manager": expected exactly one operator, == or !=\n'],
      [['--ports', '80:80', '--ports', '80:81'], 'Error: spec.endpoint.ports.1.publishedPort: 80/tcp is already published by ports.0\n'],
      [['--rollback-failure-action', 'rollback'], 'Error: spec.rollback.failureAction: must be pause or continue\n'],
    ];
    for (const [flags, stderr] of cases) {
      expect(await ctl('service', 'create', '--name', 'web', '--image', 'busybox', ...flags)).toEqual({ code: 1, stdout: '', stderr });
    }
    expect(api.requests('createService')).toEqual([]);
  });

  it('needs --name and --image', async () => {
    expect(await ctl('service', 'create', '--image', 'busybox')).toEqual({ code: 1, stdout: '', stderr: "Error: required option '--name <name>' not specified\n" });
  });

  it("passes on the manager's refusal of a name in use", async () => {
    expect(await ctl('service', 'create', '--name', 'nginx', '--image', 'busybox')).toEqual({
      code: 1,
      stdout: '',
      stderr: 'Error: service name "nginx" is already in use\n',
    });
  });
});

describe('service ls / inspect', () => {
  it('ls prints the seed table, -q the IDs', async () => {
    api.services.set(NGINX.id, { ...api.services.get(NGINX.id)!, replicas: { running: 1, desired: 2 } });
    expect(await ctl('service', 'ls')).toEqual({
      code: 0,
      stderr: '',
      stdout: [
        'ID                         Name   Image                Replicas',
        '--                         ----   -----                --------',
        `${SERVICE_ID}  nginx  nginx:1.11.1-alpine  1/2`,
        `${DB.id}  db     postgres:16          1/1`,
        '',
      ].join('\n'),
    });
    expect((await ctl('service', 'ls', '-q')).stdout).toBe(`${SERVICE_ID}\n${DB.id}\n`);
  });

  it('inspect by name shows the summary and the tasks meant to run, nodes by hostname', async () => {
    expect(await ctl('service', 'inspect', 'nginx')).toEqual({
      code: 0,
      stderr: '',
      stdout: [
        `ID                : ${SERVICE_ID}`,
        'Name              : nginx',
        'Replicas          : 2/2',
        'Template',
        ' Container',
        '  Image           : nginx:1.11.1-alpine',
        '',
        'Task ID                    Service  Slot  Image                Desired State  Last State              Node',
        '-------                    -------  ----  -----                -------------  ----------              ----',
        `${T1.id}  nginx    1     nginx:1.11.1-alpine  RUNNING        RUNNING 5 minutes ago   mgmt-01`,
        `${T2.id}  nginx    2     nginx:1.11.1-alpine  RUNNING        RUNNING 30 seconds ago  work-01`,
        '',
      ].join('\n'),
    });
    expect(api.requests('listTasks')).toEqual([{ serviceId: SERVICE_ID }]);
  });

  it('inspect -a includes finished tasks; an unknown service is one line', async () => {
    expect((await ctl('service', 'inspect', '-a', 't2ne')).stdout).toContain(`${T2_OLD.id}  nginx    2     nginx:1.11.1-alpine  SHUTDOWN       FAILED 1 hour ago`);
    expect(await ctl('service', 'inspect', 'nosuch')).toEqual({ code: 1, stdout: '', stderr: 'Error: service "nosuch" not found\n' });
  });
});

describe('service update', () => {
  it("--replicas 6 sends the full spec with the version read, and prints the ID like the seed", async () => {
    expect(await ctl('service', 'update', 'nginx', '--replicas', '6')).toEqual({ code: 0, stderr: '', stdout: `${SERVICE_ID}\n` });
    expect(api.requests('updateService')).toEqual([
      { serviceId: SERVICE_ID, version: 7, force: false, spec: { ...NGINX.spec, mode: { replicated: { replicas: 6 } } } },
    ]);
  });

  it("--image with the seed's rolling-update flags", async () => {
    await ctl('service', 'update', 'nginx', '--image', 'nginx:1.11.3-alpine', '--update-parallelism', '2', '--update-delay', '4s');
    expect(updatedSpec()).toEqual({
      ...NGINX.spec,
      task: { container: { image: 'nginx:1.11.3-alpine' } },
      update: { parallelism: 2, delayMs: 4000, failureAction: 'pause', monitorMs: 5000, maxFailureRatio: 0, order: 'stop-first' },
    });
  });

  it('adds and removes env, constraints, labels and limits, keeping the rest', async () => {
    const spec = structuredClone(NGINX.spec);
    spec.labels = { old: '1' };
    spec.task.container.env = ['A=1', 'B=2'];
    spec.task.placement = { constraints: ['node.role==worker'] };
    spec.task.resources = { limits: { nanoCpus: 1e9, memoryBytes: 2 ** 30 } };
    api.services.set(NGINX.id, { ...NGINX, spec });
    const result = await ctl(
      'service', 'update', SERVICE_ID,
      '--env-add', 'B=3', '--env-add', 'C=4', '--env-rm', 'A',
      '--constraint-rm', 'node.role==worker', '--constraint-add', 'node.labels.zone==a',
      '--label-rm', 'old', '--label-add', 'new=2',
      '--cpu-limit', '0', '--memory-limit', '1g', '--args', 'x',
    );
    expect(result).toEqual({ code: 0, stderr: '', stdout: `${SERVICE_ID}\n` });
    expect(updatedSpec()).toEqual({
      ...NGINX.spec,
      labels: { new: '2' },
      task: {
        container: { image: 'nginx:1.11.1-alpine', env: ['B=3', 'C=4'], args: ['x'] },
        placement: { constraints: ['node.labels.zone==a'] },
        resources: { limits: { memoryBytes: 2 ** 30 } },
      },
    });
  });

  it('adds, replaces and removes mounts, published ports and spread preferences, keeping the rest', async () => {
    const spec = structuredClone(NGINX.spec);
    spec.task.container.mounts = [
      { type: 'bind', source: '/srv', target: '/www', readOnly: true },
      { type: 'volume', source: 'data', target: '/data' },
    ];
    spec.task.placement = { constraints: ['node.role==worker'], preferences: [{ spread: { descriptor: 'node.labels.zone' } }] };
    spec.endpoint = {
      mode: 'vip',
      ports: [
        { protocol: 'tcp', targetPort: 80, publishedPort: 8080, publishMode: 'host' },
        { protocol: 'udp', targetPort: 53, publishedPort: 5353, publishMode: 'host' },
        { protocol: 'tcp', targetPort: 9000, publishedPort: 9000, publishMode: 'host' },
      ],
    };
    api.services.set(NGINX.id, { ...NGINX, spec });
    const result = await ctl(
      'service', 'update', 'nginx',
      '--mount-rm', '/data', '--mount-add', 'type=bind,source=/srv/v2,target=/www', '--mount-add', 'type=tmpfs,target=/tmp',
      '--publish-rm', '53/udp', '--publish-rm', '80', '--publish-add', '8081:80', '--publish-add', '9000:9001',
      '--placement-pref-rm', 'spread=node.labels.zone', '--placement-pref-add', 'spread=node.labels.rack',
    );
    expect(result).toEqual({ code: 0, stderr: '', stdout: `${SERVICE_ID}\n` });
    expect(updatedSpec()).toEqual({
      ...NGINX.spec,
      task: {
        container: {
          image: 'nginx:1.11.1-alpine',
          mounts: [
            { type: 'bind', source: '/srv/v2', target: '/www' },
            { type: 'tmpfs', target: '/tmp' },
          ],
        },
        placement: { constraints: ['node.role==worker'], preferences: [{ spread: { descriptor: 'node.labels.rack' } }] },
      },
      endpoint: {
        mode: 'vip',
        ports: [
          { protocol: 'tcp', targetPort: 80, publishedPort: 8081, publishMode: 'host' },
          { protocol: 'tcp', targetPort: 9001, publishedPort: 9000, publishMode: 'host' },
        ],
      },
    });
  });

  it('--publish-rm published:target removes only that one; removing the last port and mount leaves none', async () => {
    const spec = structuredClone(NGINX.spec);
    spec.task.container.mounts = [{ type: 'tmpfs', target: '/tmp' }];
    spec.endpoint = {
      mode: 'vip',
      ports: [
        { protocol: 'tcp', targetPort: 80, publishedPort: 8080, publishMode: 'host' },
        { protocol: 'tcp', targetPort: 80, publishedPort: 8081, publishMode: 'host' },
      ],
    };
    api.services.set(NGINX.id, { ...NGINX, spec });
    expect((await ctl('service', 'update', 'nginx', '--publish-rm', '8081:80')).code).toBe(0);
    expect(updatedSpec()?.endpoint?.ports).toEqual([{ protocol: 'tcp', targetPort: 80, publishedPort: 8080, publishMode: 'host' }]);
    expect((await ctl('service', 'update', 'nginx', '--publish-rm', '80', '--mount-rm', '/tmp')).code).toBe(0);
    expect(updatedSpec()).toEqual(NGINX.spec);
  });

  it('--publish-add and --mount-add on a service without any', async () => {
    expect((await ctl('service', 'update', 'nginx', '--publish-add', '8080:80', '--publish-add', '53/udp', '--mount-add', 'type=volume,source=data,target=/data,ro')).code).toBe(0);
    expect(updatedSpec()).toEqual({
      ...NGINX.spec,
      task: { container: { image: 'nginx:1.11.1-alpine', mounts: [{ type: 'volume', source: 'data', target: '/data', readOnly: true }] } },
      endpoint: {
        mode: 'vip',
        ports: [
          { protocol: 'tcp', targetPort: 80, publishedPort: 8080, publishMode: 'host' },
          { protocol: 'udp', targetPort: 53, publishMode: 'host' },
        ],
      },
    });
  });

  it('refuses mounts, ports and preferences it cannot apply, naming the flag, without writing', async () => {
    const cases: [string[], string][] = [
      [['--publish-rm', '80'], 'Error: service nginx publishes no port 80/tcp (--publish-rm)\n'],
      [['--publish-rm', '80:http'], "Error: option '--publish-rm <port>' argument '80:http' is invalid. use target[/protocol], e.g. 80 or 53/udp (or published:target[/protocol] for one of several).\n"],
      [['--publish-add', '80/icmp'], 'Error: option \'--publish-add <port>\' argument \'80/icmp\' is invalid. unknown protocol "icmp" (use tcp, udp or sctp).\n'],
      [['--mount-rm', '/data'], 'Error: service nginx has no mount at "/data" (--mount-rm takes a mount\'s target)\n'],
      [['--mount-add', 'type=bind,src=/a'], "Error: option '--mount-add <mount>' argument 'type=bind,src=/a' is invalid. give a target, e.g. type=volume,source=data,target=/data.\n"],
      [['--mount-add', 'type=bind,target=/a'], 'Error: spec.task.container.mounts.0.source: required for a bind mount\n'],
      [['--mount-add', 'type=tmpfs,target=/a', '--mount-add', 'type=volume,target=/a'], 'Error: --mount-add: two mounts at "/a"\n'],
      [['--placement-pref-rm', 'spread=node.labels.zone'], 'Error: service nginx has no placement preference "spread=node.labels.zone"\n'],
      [['--placement-pref-add', 'pack=node.labels.zone'], "Error: option '--placement-pref-add <pref>' argument 'pack=node.labels.zone' is invalid. use spread=node.labels.<name>.\n"],
      [['--mode', 'global'], 'Error: service update does not take --mode: a service stays replicated or global; remove it and create it again with the other --mode\n'],
      [['--name', 'web'], 'Error: service update does not take --name: a service cannot be renamed; create a new one with swarmctl service create\n'],
      [['--ports', '8080:80'], 'Error: service update does not take --ports: use --publish-add published:target[/protocol] or --publish-rm target[/protocol]\n'],
      [['--mount', 'type=tmpfs,target=/a'], 'Error: service update does not take --mount: use --mount-add <mount> or --mount-rm <target>\n'],
      [['--env', 'A=1'], 'Error: service update does not take --env: use --env-add KEY=value or --env-rm KEY\n'],
      [['--placement-pref', 'spread=node.labels.zone'], 'Error: service update does not take --placement-pref: use --placement-pref-add spread=<label> or --placement-pref-rm spread=<label>\n'],
    ];
    for (const [flags, stderr] of cases) {
      expect(await ctl('service', 'update', 'nginx', ...flags)).toEqual({ code: 1, stdout: '', stderr });
    }
    expect(api.requests('updateService')).toEqual([]);
  });

  it('update --help lists the add/rm flags and not the refused create-only ones', async () => {
    const help = (await ctl('service', 'update', '--help')).stdout;
    for (const flag of ['--mount-add', '--mount-rm', '--publish-add', '--publish-rm', '--placement-pref-add', '--placement-pref-rm']) expect(help).toContain(`${flag} <`);
    expect(help).not.toMatch(/--mode|--ports|--name /);
  });

  it('an empty value removes a text setting, as in Docker: --command/--args/--hostname/--workdir/--user/--stop-signal ""', async () => {
    const spec = structuredClone(NGINX.spec);
    spec.task.container = { image: 'busybox', command: ['httpd'], args: ['-f'], hostname: 'web', dir: '/www', user: 'nobody', stopSignal: 'SIGQUIT', stopGracePeriodMs: 3000 };
    api.services.set(NGINX.id, { ...NGINX, spec });
    const result = await ctl('service', 'update', 'nginx', '--command', '', '--args', '', '--hostname', '', '--workdir', '', '--user', '', '--stop-signal', '');
    expect(result).toEqual({ code: 0, stderr: '', stdout: `${SERVICE_ID}\n` });
    expect(updatedSpec()?.task.container).toEqual({ image: 'busybox', stopGracePeriodMs: 3000 });
  });

  it('--force asks the manager to replace every task', async () => {
    await ctl('service', 'update', 'nginx', '--force');
    expect(api.requests('updateService').map((request) => request.force)).toEqual([true]);
    expect(api.services.get(SERVICE_ID)?.spec.task.forceUpdate).toBe(1);
  });

  it('re-reads and re-applies the change when the service changed in between', async () => {
    let bumped = false;
    api.beforeUpdateService = (service) => {
      if (bumped) return;
      bumped = true;
      api.services.set(service.id, { ...service, spec: { ...service.spec, labels: { theirs: 'y' } }, meta: { ...service.meta, version: 9 } });
    };
    expect((await ctl('service', 'update', 'nginx', '--replicas', '3')).code).toBe(0);
    expect(api.requests('updateService').map((request) => request.version)).toEqual([7, 9]);
    expect(api.services.get(SERVICE_ID)?.spec).toMatchObject({ labels: { theirs: 'y' }, mode: { replicated: { replicas: 3 } } });
  });

  it('gives up after a few conflicts', async () => {
    api.beforeUpdateService = (service) => {
      api.services.set(service.id, { ...service, meta: { ...service.meta, version: service.meta.version + 1 } });
    };
    expect(await ctl('service', 'update', 'nginx', '--replicas', '3')).toEqual({
      code: 1,
      stdout: '',
      stderr: `Error: service nginx kept changing while it was being updated (${UPDATE_ATTEMPTS} attempts); try again\n`,
    });
  });

  it('refuses what cannot apply, without writing', async () => {
    expect((await ctl('service', 'update', 'nginx')).stderr).toBe('Error: nothing to update: give the settings to change (see swarmctl service update --help)\n');
    expect((await ctl('service', 'update', 'nginx', '--env-rm', 'NOPE')).stderr).toBe('Error: service nginx has no environment variable "NOPE"\n');
    expect((await ctl('service', 'update', 'nginx', '--constraint-rm', 'node.role==manager')).stderr).toBe('Error: service nginx has no constraint "node.role==manager"\n');
    const global = { ...NGINX, id: 'globalaaaaaaaaaaaaaaaaaaa', spec: { ...NGINX.spec, name: 'agent', mode: { global: {} } } };
    api.services.set(global.id, global);
    expect((await ctl('service', 'update', 'agent', '--replicas', '2')).stderr).toBe('Error: service agent is global: --replicas is for replicated services\n');
    expect(api.requests('updateService')).toEqual([]);
  });
});

describe('service rollback / rm', () => {
  it('rollback sends the version read and prints the ID; FailedPrecondition is one line', async () => {
    expect(await ctl('service', 'rollback', 'nginx')).toEqual({ code: 1, stdout: '', stderr: 'Error: service nginx has no previous spec to roll back to\n' });
    await ctl('service', 'update', 'nginx', '--image', 'nginx:broken');
    expect(await ctl('service', 'rollback', 'nginx')).toEqual({ code: 0, stderr: '', stdout: `${SERVICE_ID}\n` });
    expect(api.requests('rollbackService').at(-1)).toEqual({ serviceId: SERVICE_ID, version: 8 });
    expect(api.services.get(SERVICE_ID)?.spec.task.container.image).toBe('nginx:1.11.1-alpine');
  });

  it('rm removes each service named and prints what was typed, like SwarmKit', async () => {
    expect(await ctl('service', 'rm', 'nginx', 'dbq2')).toEqual({ code: 0, stderr: '', stdout: 'nginx\ndbq2\n' });
    expect(api.requests('removeService')).toEqual([{ serviceId: SERVICE_ID }, { serviceId: DB.id }]);
  });

  it('rm carries on past a service that is not there', async () => {
    expect(await ctl('service', 'rm', 'nosuch', 'db')).toEqual({ code: 1, stdout: 'db\n', stderr: 'Error: service "nosuch" not found\n' });
    expect(api.services.has(DB.id)).toBe(false);
  });
});

describe('task commands', () => {
  const HEADER = [
    'Task ID                    Service  Slot  Image                Desired State  Last State              Node',
    '-------                    -------  ----  -----                -------------  ----------              ----',
  ];

  it('ls shows the tasks meant to run; -a all of them', async () => {
    expect(await ctl('task', 'ls')).toEqual({
      code: 0,
      stderr: '',
      stdout: [
        ...HEADER,
        `${T1.id}  nginx    1     nginx:1.11.1-alpine  RUNNING        RUNNING 5 minutes ago   mgmt-01`,
        `${T_DB.id}  db       1     postgres:16          RUNNING        RUNNING 2 hours ago     work-01`,
        `${T2.id}  nginx    2     nginx:1.11.1-alpine  RUNNING        RUNNING 30 seconds ago  work-01`,
        '',
      ].join('\n'),
    });
    const all = await ctl('task', 'ls', '-a', '-q');
    expect(all.stdout.split('\n').filter(Boolean).sort()).toEqual([T1.id, T2.id, T2_OLD.id, T_DB.id].sort());
  });

  it('--service and --node resolve names and filter on the manager', async () => {
    const result = await ctl('task', 'ls', '--service', 'nginx', '--node', 'work-01', '-q');
    expect(result).toEqual({ code: 0, stderr: '', stdout: `${T2.id}\n` });
    expect(api.requests('listTasks')).toEqual([{ serviceId: SERVICE_ID, nodeId: WORK1.id }]);
  });

  it('inspect takes an ID prefix', async () => {
    const result = await ctl('task', 'inspect', 'rrk1');
    expect(result.code).toBe(0);
    expect(result.stdout.split('\n').slice(0, 7)).toEqual([
      `ID                     : ${T1.id}`,
      `Name                   : nginx.1.${T1.id}`,
      'Slot                   : 1',
      'Service                : nginx',
      'Status',
      '  Desired State        : RUNNING',
      '  Last State           : RUNNING',
    ]);
    expect(result.stdout).toContain('Node                   : mgmt-01\n');
  });

  it('rm removes a task; an ambiguous prefix is refused with the candidates', async () => {
    expect(await ctl('task', 'rm', 'fm')).toEqual({
      code: 1,
      stdout: '',
      stderr: `Error: task ID prefix "fm" is ambiguous: it matches 2 tasks (${T2.id}, ${T2_OLD.id})\n`,
    });
    expect(await ctl('task', 'rm', 'fmf')).toEqual({ code: 0, stderr: '', stdout: 'fmf\n' });
    expect(api.tasks.has(T2.id)).toBe(false);
    expect(T2.desiredState).toBe(TaskState.RUNNING);
  });
});
