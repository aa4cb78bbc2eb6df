import { describe, expect, it } from 'vitest';
import type { ServiceSpec } from '../../agent/api/objects';
import { serviceSpecFieldErrors } from '../../agent/api/spec-field-errors';
import { emptyServiceForm, formFromSpec, formToSpec, messageForField, parseMemory } from '../../renderer/src/forms/service-form-model';

function filled() {
  return { ...emptyServiceForm(), name: 'web', image: 'nginx:1.27', replicas: '3' };
}

describe('formToSpec', () => {
  it('turns a filled form into a valid spec', () => {
    const values = {
      ...filled(),
      command: 'sh -c "sleep 10"',
      env: [{ key: 'A', value: '1' }, { key: '', value: '' }, { key: 'B', value: 'x=y' }],
      ports: [{ targetPort: '80', publishedPort: '8080', protocol: 'tcp' as const }],
      cpuLimit: '0.5',
      memoryLimit: '256MiB',
      constraints: ['node.role==worker', ''],
      preferences: ['node.labels.zone'],
      maxReplicasPerNode: '2',
    };
    const { spec, errors } = formToSpec(values);
    expect(errors).toEqual({});
    expect(spec).toBeDefined();
    expect(serviceSpecFieldErrors(spec)).toEqual([]);
    expect(spec?.mode).toEqual({ replicated: { replicas: 3 } });
    expect(spec?.task.container).toEqual({ image: 'nginx:1.27', command: ['sh', '-c', 'sleep 10'], env: ['A=1', 'B=x=y'] });
    expect(spec?.task.resources).toEqual({ limits: { nanoCpus: 5e8, memoryBytes: 256 * 1024 * 1024 } });
    expect(spec?.task.placement).toEqual({ constraints: ['node.role==worker'], preferences: [{ spread: { descriptor: 'node.labels.zone' } }], maxReplicasPerNode: 2 });
    expect(spec?.endpoint).toEqual({ mode: 'vip', ports: [{ protocol: 'tcp', targetPort: 80, publishedPort: 8080, publishMode: 'host' }] });
    expect(spec?.update?.parallelism).toBe(1);
  });

  it('puts the schema messages on the fields, with the server wording', () => {
    const { spec, errors } = formToSpec({ ...emptyServiceForm(), name: 'bad name!', image: '' });
    expect(spec).toBeUndefined();
    expect(errors.image).toBe('required');
    expect(errors.name).toMatch(/letters, digits/);
  });

  it('words what the schema cannot see: numbers, durations, sizes', () => {
    const values = { ...filled(), replicas: 'three', memoryLimit: 'lots', restart: { ...emptyServiceForm().restart, delay: '5 parsecs' } };
    const { errors } = formToSpec(values);
    expect(errors.replicas).toBe('must be a whole number');
    expect(errors.memoryLimit).toMatch(/size/);
    expect(errors['restart.delay']).toMatch(/duration/);
  });

  it('maps row errors back to the row the user typed, skipping blank rows', () => {
    const { errors } = formToSpec({ ...filled(), env: [{ key: '', value: '' }, { key: 'OK', value: '1' }, { key: ' ', value: 'x' }], constraints: ['', 'node.colour==red'] });
    expect(Object.keys(errors).sort()).toEqual(['constraints.1', 'env.2']);
    expect(errors['constraints.1']).toMatch(/unknown key/);
  });

  it('maps a server field path to a form field', () => {
    const { fieldFor } = formToSpec({ ...filled(), ports: [{ targetPort: '', publishedPort: '', protocol: 'tcp' }, { targetPort: '80', publishedPort: '80', protocol: 'tcp' }] });
    expect(fieldFor('spec.task.container.image')).toBe('image');
    expect(fieldFor('spec.mode.replicated.replicas')).toBe('replicas');
    expect(fieldFor('spec.endpoint.ports.0.publishedPort')).toBe('ports.1.publishedPort');
    expect(fieldFor('spec.update.delayMs')).toBe('update.delay');
    expect(fieldFor('spec.task.resources.reservations.memoryBytes')).toBe('memoryReservation');
    expect(fieldFor('spec.labels.x')).toBe('');
  });

  it('refuses a global service with max replicas per node on that field', () => {
    const { errors } = formToSpec({ ...filled(), mode: 'global', maxReplicasPerNode: '1' });
    expect(errors.maxReplicasPerNode).toBe('only for replicated services');
  });
});

describe('update form', () => {
  const base: ServiceSpec = {
    name: 'web',
    labels: { team: 'a' },
    mode: { replicated: { replicas: 2 } },
    task: { container: { image: 'nginx:1', mounts: [{ type: 'volume', source: 'data', target: '/data' }], env: ['A=1'] }, placement: { constraints: ['node.role==worker'] } },
    endpoint: { mode: 'vip', ports: [{ protocol: 'tcp', targetPort: 80, publishedPort: 8080, publishMode: 'host' }] },
  };

  it('round-trips a spec without adding policies it never had', () => {
    const { spec, errors } = formToSpec(formFromSpec(base), base);
    expect(errors).toEqual({});
    expect(spec).toEqual(base);
  });

  it('changes the image and keeps what the form does not show', () => {
    const values = { ...formFromSpec(base), image: 'nginx:2' };
    const { spec } = formToSpec(values, base);
    expect(spec?.task.container.image).toBe('nginx:2');
    expect(spec?.task.container.mounts).toEqual(base.task.container.mounts);
    expect(spec?.labels).toEqual({ team: 'a' });
  });

  it('fills durations and sizes the way people write them', () => {
    const values = formFromSpec({ ...base, task: { ...base.task, resources: { limits: { memoryBytes: 512 * 1024 * 1024 } } }, update: { parallelism: 2, delayMs: 10_000, failureAction: 'rollback', monitorMs: 5000, maxFailureRatio: 0.2, order: 'start-first' } });
    expect(values.memoryLimit).toBe('512MiB');
    expect(values.update.delay).toBe('10s');
    expect(values.update.maxFailureRatio).toBe('0.2');
  });
});

describe('helpers', () => {
  it('reads Docker sizes', () => {
    expect(parseMemory('512m')).toBe(512 * 1024 ** 2);
    expect(parseMemory('1.5GiB')).toBe(1.5 * 1024 ** 3);
    expect(parseMemory('4096')).toBe(4096);
  });

  it('takes the part of a server message about one field', () => {
    expect(messageForField('spec.name: required; spec.task.container.image: must not contain spaces', 'spec.task.container.image')).toBe('must not contain spaces');
    expect(messageForField('image not found', 'spec.task.container.image')).toBe('image not found');
  });
});
