/** Service spec validation: every rule refuses with a message that names the field. */
import { describe, expect, it } from 'vitest';
import { parseControlRequest } from '../../agent/api/control-schema';
import type { ServiceSpec } from '../../agent/api/objects';
import { validateServiceSpec } from '../../agent/api/service-spec';

const VALID: ServiceSpec = {
  name: 'web',
  labels: { tier: 'front' },
  mode: { replicated: { replicas: 6 } },
  task: {
    container: {
      image: 'nginx:1.11.1-alpine',
      command: ['httpd'],
      args: ['-f', '-p', '80'],
      env: ['A=1', 'EMPTY='],
      dir: '/www',
      user: 'nobody',
      hostname: 'web-1',
      labels: { app: 'web' },
      mounts: [
        { type: 'bind', source: '/srv/www', target: '/www', readOnly: true },
        { type: 'volume', source: 'cache', target: '/cache' },
        { type: 'volume', target: '/scratch' },
        { type: 'tmpfs', target: '/tmp' },
      ],
      stopSignal: 'SIGQUIT',
      stopGracePeriodMs: 10_000,
    },
    resources: { limits: { nanoCpus: 5e8, memoryBytes: 64 * 2 ** 20 }, reservations: { nanoCpus: 2.5e8, memoryBytes: 32 * 2 ** 20 } },
    restart: { condition: 'on-failure', delayMs: 5000, maxAttempts: 3, windowMs: 60_000 },
    placement: {
      constraints: ['node.role==manager', 'node.hostname!=work-02', 'node.labels.zone==a', 'engine.labels.disk == ssd'],
      preferences: [{ spread: { descriptor: 'node.labels.zone' } }],
      maxReplicasPerNode: 2,
    },
  },
  update: { parallelism: 2, delayMs: 4000, failureAction: 'rollback', monitorMs: 5000, maxFailureRatio: 0.2, order: 'start-first' },
  rollback: { parallelism: 0, delayMs: 0, failureAction: 'pause', monitorMs: 5000, maxFailureRatio: 0, order: 'stop-first' },
  endpoint: {
    mode: 'vip',
    ports: [
      { protocol: 'tcp', targetPort: 80, publishedPort: 8080, publishMode: 'host' },
      { protocol: 'udp', targetPort: 53, publishedPort: 8080, publishMode: 'host' },
      { protocol: 'tcp', targetPort: 81, publishMode: 'host' },
      { protocol: 'tcp', targetPort: 82, publishedPort: 0, publishMode: 'host' },
    ],
  },
};

type Edit = (spec: ServiceSpec) => unknown;

/** The message validating `VALID` changed by `edit` fails with. */
function refusal(edit: Edit): string {
  const spec = structuredClone(VALID);
  const changed = edit(spec) ?? spec;
  try {
    validateServiceSpec(changed);
  } catch (err) {
    expect(err).toMatchObject({ code: 'InvalidArgument' });
    return (err as Error).message;
  }
  throw new Error('the spec was accepted');
}

describe('a valid spec', () => {
  it('is accepted unchanged, every field at once', () => {
    expect(validateServiceSpec(structuredClone(VALID))).toEqual(VALID);
  });

  it('needs only a name, labels, a mode and an image', () => {
    const minimal = { name: 'a', labels: {}, mode: { global: {} }, task: { container: { image: 'busybox' } } };
    expect(validateServiceSpec(minimal)).toEqual(minimal);
  });
});

describe('refusals name the field', () => {
  const cases: [string, Edit, string][] = [
    ['missing image', (s) => void delete (s.task.container as Partial<typeof s.task.container>).image, 'spec.task.container.image: required'],
    ['empty image', (s) => void (s.task.container.image = ''), 'spec.task.container.image: required'],
    ['image with spaces', (s) => void (s.task.container.image = 'nginx latest'), 'spec.task.container.image: must not contain spaces'],
    ['no name', (s) => void (s.name = ''), 'spec.name: required'],
    [
      'name with a space',
      (s) => void (s.name = 'my web'),
      'spec.name: must be letters, digits, "-" and "_", starting and ending with a letter or digit',
    ],
    ['name ending in "-"', (s) => void (s.name = 'web-'), 'spec.name: must be letters, digits, "-" and "_", starting and ending with a letter or digit'],
    ['name too long', (s) => void (s.name = 'a'.repeat(64)), 'spec.name: at most 63 characters'],
    ['label key with "="', (s) => void (s.labels = { 'a=b': 'c' }), 'spec.labels.a=b: label keys must not contain spaces or "="'],
    ['negative replicas', (s) => void (s.mode = { replicated: { replicas: -1 } }), 'spec.mode.replicated.replicas: must not be negative'],
    ['fractional replicas', (s) => void (s.mode = { replicated: { replicas: 1.5 } }), 'spec.mode.replicated.replicas: must be a whole number'],
    ['both modes', (s) => ({ ...s, mode: { replicated: { replicas: 1 }, global: {} } }), 'spec.mode: give exactly one of replicated or global'],
    ['no mode', (s) => ({ ...s, mode: {} }), 'spec.mode: give exactly one of replicated or global'],
    ['env without "="', (s) => void (s.task.container.env = ['A=1', 'PATH']), 'spec.task.container.env.1: must be KEY=value'],
    ['env with an empty key', (s) => void (s.task.container.env = ['=x']), 'spec.task.container.env.0: must be KEY=value'],
    ['relative working dir', (s) => void (s.task.container.dir = 'www'), 'spec.task.container.dir: must be an absolute path'],
    ['bad hostname', (s) => void (s.task.container.hostname = 'web_1'), 'spec.task.container.hostname: must be a host name (letters, digits, "." and "-")'],
    ['bind mount without source', (s) => void (s.task.container.mounts = [{ type: 'bind', target: '/a' }]), 'spec.task.container.mounts.0.source: required for a bind mount'],
    [
      'relative bind source',
      (s) => void (s.task.container.mounts = [{ type: 'bind', source: 'srv', target: '/a' }]),
      'spec.task.container.mounts.0.source: must be an absolute path on the node',
    ],
    [
      'tmpfs with a source',
      (s) => void (s.task.container.mounts = [{ type: 'tmpfs', source: '/x', target: '/a' }]),
      'spec.task.container.mounts.0.source: a tmpfs mount has no source',
    ],
    [
      'bad volume name',
      (s) => void (s.task.container.mounts = [{ type: 'volume', source: '/abs', target: '/a' }]),
      'spec.task.container.mounts.0.source: must be a volume name (letters, digits, "_", "." and "-")',
    ],
    ['relative mount target', (s) => void (s.task.container.mounts = [{ type: 'tmpfs', target: 'tmp' }]), 'spec.task.container.mounts.0.target: must be an absolute path'],
    [
      'duplicate mount target',
      (s) => void s.task.container.mounts?.push({ type: 'tmpfs', target: '/cache' }),
      'spec.task.container.mounts.4.target: /cache is already the target of mounts.1',
    ],
    ['unknown mount type', (s) => ({ ...s, task: { container: { image: 'x', mounts: [{ type: 'nfs', target: '/a' }] } } }), 'spec.task.container.mounts.0.type: must be bind, volume or tmpfs'],
    [
      'bad stop signal',
      (s) => void (s.task.container.stopSignal = 'sigterm'),
      'spec.task.container.stopSignal: must be a signal name such as SIGTERM, or a number from 1 to 64',
    ],
    ['negative grace period', (s) => void (s.task.container.stopGracePeriodMs = -1), 'spec.task.container.stopGracePeriodMs: must not be negative'],
    [
      'tiny memory limit',
      (s) => void (s.task.resources = { limits: { memoryBytes: 1024 } }),
      'spec.task.resources.limits.memoryBytes: must be 0 or at least 4 MiB',
    ],
    [
      'tiny CPU reservation',
      (s) => void (s.task.resources = { reservations: { nanoCpus: 10 } }),
      'spec.task.resources.reservations.nanoCpus: must be 0 or at least 1000000 (0.001 CPU)',
    ],
    [
      'reservation above limit',
      (s) => void (s.task.resources = { limits: { nanoCpus: 1e9 }, reservations: { nanoCpus: 2e9 } }),
      'spec.task.resources.reservations.nanoCpus: 2000000000 is more than the limit (1000000000)',
    ],
    [
      'restart condition',
      (s) => ({ ...s, task: { ...s.task, restart: { ...s.task.restart, condition: 'always' } } }),
      'spec.task.restart.condition: must be none, on-failure or any',
    ],
    ['negative restart delay', (s) => void (s.task.restart!.delayMs = -5), 'spec.task.restart.delayMs: must not be negative'],
    ['restart without window', (s) => void delete (s.task.restart as Partial<NonNullable<typeof s.task.restart>>).windowMs, 'spec.task.restart.windowMs: required'],
    [
      'constraint without operator',
      (s) => void (s.task.placement!.constraints = ['node.role=manager']),
      'spec.task.placement.constraints.0: invalid constraint "node.role=manager": expected exactly one operator, == or !=',
    ],
    [
      'constraint on an unknown key',
      (s) => void (s.task.placement!.constraints = ['node.role==worker', 'node.zone==a']),
      'spec.task.placement.constraints.1: invalid constraint "node.zone==a": unknown key "node.zone" (use node.id, node.hostname, node.role, node.platform.os, node.platform.arch, node.labels.<name> or engine.labels.<name>)',
    ],
    [
      'constraint on a role that does not exist',
      (s) => void (s.task.placement!.constraints = ['node.role==boss']),
      'spec.task.placement.constraints.0: invalid constraint "node.role==boss": node.role is "manager" or "worker"',
    ],
    [
      'spread over something that is not a label',
      (s) => void (s.task.placement!.preferences = [{ spread: { descriptor: 'node.hostname' } }]),
      'spec.task.placement.preferences.0.spread.descriptor: must be node.labels.<name> or engine.labels.<name>',
    ],
    ['negative max replicas per node', (s) => void (s.task.placement!.maxReplicasPerNode = -1), 'spec.task.placement.maxReplicasPerNode: must not be negative'],
    ['max replicas per node on a global service', (s) => void (s.mode = { global: {} }), 'spec.task.placement.maxReplicasPerNode: only for replicated services'],
    [
      'duplicate published port',
      (s) => void s.endpoint?.ports.push({ protocol: 'tcp', targetPort: 90, publishedPort: 8080, publishMode: 'host' }),
      'spec.endpoint.ports.4.publishedPort: 8080/tcp is already published by ports.0',
    ],
    ['port 0 as target', (s) => void (s.endpoint!.ports[0].targetPort = 0), 'spec.endpoint.ports.0.targetPort: must be from 1 to 65535'],
    ['published port too high', (s) => void (s.endpoint!.ports[0].publishedPort = 70000), 'spec.endpoint.ports.0.publishedPort: must be from 0 to 65535'],
    [
      'unknown protocol',
      (s) => ({ ...s, endpoint: { mode: 'vip', ports: [{ protocol: 'http', targetPort: 80, publishMode: 'host' }] } }),
      'spec.endpoint.ports.0.protocol: must be tcp, udp or sctp',
    ],
    [
      'ingress publishing',
      (s) => void (s.endpoint!.ports[0].publishMode = 'ingress'),
      'spec.endpoint.ports.0.publishMode: only host mode is available (the routing mesh is not part of swarmdesk yet)',
    ],
    ['negative parallelism', (s) => void (s.update!.parallelism = -1), 'spec.update.parallelism: must not be negative'],
    ['failure ratio above 1', (s) => void (s.update!.maxFailureRatio = 1.5), 'spec.update.maxFailureRatio: must be between 0 and 1'],
    ['unknown failure action', (s) => ({ ...s, update: { ...s.update, failureAction: 'retry' } }), 'spec.update.failureAction: must be pause, continue or rollback'],
    ['rollback that rolls back', (s) => void (s.rollback!.failureAction = 'rollback'), 'spec.rollback.failureAction: must be pause or continue'],
    ['unknown update order', (s) => ({ ...s, update: { ...s.update, order: 'any' } }), 'spec.update.order: must be stop-first or start-first'],
    ['negative monitor', (s) => void (s.rollback!.monitorMs = -1), 'spec.rollback.monitorMs: must not be negative'],
    ['unknown field', (s) => ({ ...s, replicas: 3 }), 'spec: unknown field "replicas"'],
  ];

  it.each(cases)('%s', (_name, edit, message) => {
    expect(refusal(edit)).toBe(message);
  });

  it('reports every bad field at once', () => {
    expect(
      refusal((s) => {
        s.name = '';
        s.task.container.image = '';
      }),
    ).toBe('spec.name: required; spec.task.container.image: required');
  });
});

describe('at the control API boundary', () => {
  it('createService and updateService refuse a bad spec before any handler runs', () => {
    expect(() => parseControlRequest('createService', { spec: { name: 'web', labels: {}, mode: { replicated: { replicas: 1 } }, task: { container: {} } } })).toThrow(
      'createService: spec.task.container.image: required',
    );
    expect(() => parseControlRequest('updateService', { serviceId: 'abc', version: 3, spec: { ...VALID, name: 'a b' } })).toThrow(
      'updateService: spec.name: must be letters',
    );
  });

  it('listTasks takes only known task states', () => {
    expect(parseControlRequest('listTasks', { desiredState: 512 })).toEqual({ desiredState: 512 });
    expect(() => parseControlRequest('listTasks', { desiredState: 513 })).toThrow('listTasks: desiredState: must be a task state');
  });
});
