/**
 * Every contract method has a handler, and every bad argument is refused with InvalidArgument before
 * any work: the services here are real (temp SWARMDESK_HOME, unconfigured node), so a handler that ran
 * would answer differently (FailedPrecondition: no cluster yet) or leave traces (a node state folder).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../agent/log';
import { API_METHODS, type ApiMethod, type SwarmdeskEvent } from '../../electron/contract';
import type { ApiSession } from '../../electron/main/api-session';
import { MemoryVault } from '../../electron/main/secrets';
import { MainServices } from '../../electron/main/services';
import { Settings } from '../../electron/main/settings';
import { openSettingsBackend } from '../../electron/main/settings-file';
import { MAX_STRING_LENGTH } from '../../electron/main/validation';

let home: string;
let services: MainServices;
let session: ApiSession;
const events: SwarmdeskEvent[] = [];

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'swarmdesk-validation-'));
  services = new MainServices({
    home,
    mode: 'web',
    settings: new Settings(await openSettingsBackend(home)),
    vault: new MemoryVault(),
    logger: createLogger({ level: 'error', write: () => undefined }),
  });
  session = services.openSession((event) => events.push(event));
});

afterAll(async () => {
  await services.close();
  await rm(home, { recursive: true, force: true });
});

const long = 'a'.repeat(MAX_STRING_LENGTH + 1);
const goodSpec = { name: 'web', labels: {}, mode: { replicated: { replicas: 1 } }, task: { container: { image: 'busybox:1' } } };
const goodMachine = { host: '10.0.0.5', port: 22, username: 'root', auth: { method: 'agent' }, role: 'worker' };

/** For each method: arguments that must be refused, and the field to blame (when one is). */
const BAD: { [M in ApiMethod]: { argument: unknown; field?: string }[] } = {
  getAppInfo: [{ argument: { extra: 1 } }],
  getLocalNode: [{ argument: 'x' }],
  listAddresses: [{ argument: [] }],
  createCluster: [
    { argument: undefined },
    { argument: { advertiseAddress: '10.0.0.1', port: '4242', runTasks: false }, field: 'port' },
    { argument: { advertiseAddress: '10.0.0.1', port: 70000, runTasks: false }, field: 'port' },
    { argument: { advertiseAddress: '10.0.0.1', port: 4242, runTasks: false, token: 'x' } },
    { argument: { advertiseAddress: 'a b', port: 4242, runTasks: false }, field: 'advertiseAddress' },
    { argument: { advertiseAddress: long, port: 4242, runTasks: false }, field: 'advertiseAddress' },
  ],
  joinCluster: [
    { argument: { joinAddress: '10.0.0.1', token: 'SWMTKN-1-abc-def', advertiseAddress: '10.0.0.2', port: 4242, runTasks: true }, field: 'joinAddress' },
    { argument: { joinAddress: '10.0.0.1:4242', token: 'not-a-token', advertiseAddress: '10.0.0.2', port: 4242, runTasks: true }, field: 'token' },
    { argument: { joinAddress: '10.0.0.1:4242', token: `SWMTKN-1-${'a'.repeat(600)}-b`, advertiseAddress: '10.0.0.2', port: 4242, runTasks: true }, field: 'token' },
  ],
  setRunTasks: [{ argument: { runTasks: 'yes' }, field: 'runTasks' }, { argument: {} }],
  subscribeCluster: [{ argument: { since: 3 } }],
  unsubscribeCluster: [{ argument: 1 }],
  getJoinTokens: [{ argument: { role: 'worker' } }],
  rotateJoinToken: [{ argument: { role: 'admin' }, field: 'role' }, { argument: { role: 'worker', now: true } }],
  setNodeAvailability: [
    { argument: { nodeId: 'abc', availability: 'gone' }, field: 'availability' },
    { argument: { nodeId: 'ABC!', availability: 'drain' }, field: 'nodeId' },
    { argument: { nodeId: long, availability: 'drain' }, field: 'nodeId' },
  ],
  setNodeRole: [{ argument: { nodeId: 'abc', role: 'root' }, field: 'role' }],
  setNodeLabels: [
    { argument: { nodeId: 'abc', labels: { 'a b': 'c' } } },
    { argument: { nodeId: 'abc', labels: { zone: 5 } }, field: 'labels.zone' },
  ],
  removeNode: [{ argument: { nodeId: 'abc' }, field: 'force' }, { argument: { nodeId: 'abc', force: 'true' }, field: 'force' }],
  createService: [
    { argument: { spec: { ...goodSpec, task: { container: { image: '' } } } }, field: 'spec.task.container.image' },
    { argument: { spec: goodSpec, extra: true } },
    { argument: { spec: { ...goodSpec, task: { container: { image: long } } } }, field: 'spec.task.container.image' },
    { argument: { spec: { ...goodSpec, mode: { replicated: { replicas: -1 } } } }, field: 'spec.mode.replicated.replicas' },
  ],
  updateService: [{ argument: { serviceId: 'abc', version: -1, spec: goodSpec }, field: 'version' }, { argument: { serviceId: 'abc', spec: goodSpec }, field: 'version' }],
  scaleService: [{ argument: { serviceId: 'abc', replicas: 1.5 }, field: 'replicas' }, { argument: { serviceId: 'abc', replicas: '3' }, field: 'replicas' }],
  rollbackService: [{ argument: { serviceId: 'abc', version: 3 } }],
  removeService: [{ argument: { serviceId: 42 }, field: 'serviceId' }],
  startLogs: [{ argument: { serviceId: 'abc', follow: true, tail: -1 }, field: 'tail' }, { argument: { serviceId: 'abc' }, field: 'follow' }],
  stopLogs: [{ argument: { subscriptionId: '../../x' }, field: 'subscriptionId' }],
  getSettings: [{ argument: { theme: 'dark' } }],
  updateSettings: [{ argument: { theme: 'purple' }, field: 'theme' }, { argument: { password: 'hunter2' } }],
  startProvisioning: [
    { argument: undefined },
    { argument: { kind: 'install', machine: goodMachine }, field: 'kind' },
    { argument: { kind: 'add', machine: { ...goodMachine, host: 'a b' } }, field: 'machine.host' },
    { argument: { kind: 'add', machine: { ...goodMachine, port: 0 } }, field: 'machine.port' },
    { argument: { kind: 'add', machine: { ...goodMachine, username: '' } }, field: 'machine.username' },
    { argument: { kind: 'add', machine: { ...goodMachine, username: 'root; rm -rf /' } }, field: 'machine.username' },
    { argument: { kind: 'add', machine: { ...goodMachine, role: 'boss' } }, field: 'machine.role' },
    { argument: { kind: 'add', machine: { ...goodMachine, auth: { method: 'telepathy' } } }, field: 'machine.auth.method' },
    { argument: { kind: 'add', machine: { ...goodMachine, auth: { method: 'key', keyPath: 'id_ed25519' } } }, field: 'machine.auth.keyPath' },
    { argument: { kind: 'add', machine: { ...goodMachine, auth: { method: 'agent', password: 'x' } } }, field: 'machine.auth' },
    { argument: { kind: 'add', machine: { ...goodMachine, auth: { method: 'password', password: long } } }, field: 'machine.auth.password' },
    { argument: { kind: 'add', machine: { ...goodMachine, labels: { 'a b': 'c' } } } },
    { argument: { kind: 'add', machine: { ...goodMachine, trustFingerprint: 'MD5:aa:bb' } }, field: 'machine.trustFingerprint' },
    { argument: { kind: 'add', machine: { ...goodMachine, rememberSecrets: 'yes' } }, field: 'machine.rememberSecrets' },
    { argument: { kind: 'add', machine: { ...goodMachine, token: 'SWMTKN-1-abc-def' } } },
  ],
  cancelProvisioning: [{ argument: { jobId: '../x' }, field: 'jobId' }, { argument: {} }],
  listProvisioningJobs: [{ argument: { all: true } }],
  listMachines: [{ argument: 'all' }],
  forgetMachine: [{ argument: { machineId: 'no at sign' }, field: 'machineId' }, { argument: { machineId: 'root@vm1', wipe: true } }],
};

describe('the API session', () => {
  it('has a handler for every contract method, and nothing else', () => {
    expect(Object.keys(session.handlers).sort()).toEqual([...API_METHODS].sort());
    for (const method of API_METHODS) expect(typeof session.handlers[method]).toBe('function');
  });

  it('answers the calls that need no cluster', async () => {
    await expect(session.call('getAppInfo', undefined)).resolves.toMatchObject({ ok: true, value: { name: 'swarmdesk', mode: 'web' } });
    await expect(session.call('getLocalNode', undefined)).resolves.toEqual({ ok: true, value: { phase: 'unconfigured', runTasks: false } });
    const addresses = await session.call('listAddresses', undefined);
    expect(addresses.ok && Array.isArray(addresses.value) && addresses.value.some((a: { address: string }) => a.address === '127.0.0.1')).toBe(true);
    await expect(session.call('updateSettings', { theme: 'dark' })).resolves.toEqual({ ok: true, value: { theme: 'dark', logTimestamps: false } });
    await expect(session.call('getSettings', undefined)).resolves.toEqual({ ok: true, value: { theme: 'dark', logTimestamps: false } });
  });

  it('callEncoded (browser mode) refuses and fails subscribeCluster as call does', async () => {
    await expect(session.callEncoded('subscribeCluster', { since: 3 })).resolves.toMatchObject({ ok: false, error: { code: 'InvalidArgument' } });
    const refused = await session.call('subscribeCluster', undefined);
    expect(refused.ok).toBe(false);
    await expect(session.callEncoded('subscribeCluster', undefined)).resolves.toEqual(refused);
  });

  it('a well-formed call that needs a cluster says so (so the refusals below come from validation)', async () => {
    await expect(session.call('setNodeAvailability', { nodeId: 'abc', availability: 'drain' })).resolves.toMatchObject({ ok: false, error: { code: 'FailedPrecondition' } });
    await expect(session.call('createService', { spec: goodSpec })).resolves.toMatchObject({ ok: false, error: { code: 'FailedPrecondition' } });
    await expect(session.call('startProvisioning', { kind: 'add', machine: goodMachine })).resolves.toMatchObject({
      ok: false,
      error: { code: 'FailedPrecondition', message: 'this app runs no manager yet: create or join a cluster first' },
    });
    await expect(session.call('cancelProvisioning', { jobId: '00000000-0000-4000-8000-000000000000' })).resolves.toMatchObject({ ok: false, error: { code: 'NotFound' } });
    await expect(session.call('forgetMachine', { machineId: 'root@vm1' })).resolves.toMatchObject({ ok: false, error: { code: 'NotFound' } });
    await expect(session.call('listProvisioningJobs', undefined)).resolves.toEqual({ ok: true, value: { jobs: [] } });
    await expect(session.call('listMachines', undefined)).resolves.toEqual({ ok: true, value: { machines: [], secretsPersistent: false } });
  });

  it.each(API_METHODS)('%s refuses bad arguments with InvalidArgument before doing anything', async (method) => {
    expect(BAD[method].length).toBeGreaterThan(0);
    for (const { argument, field } of BAD[method]) {
      const result = await session.call(method, argument);
      expect(result, `${method}(${JSON.stringify(argument)?.slice(0, 200)})`).toMatchObject({ ok: false, error: { code: 'InvalidArgument' } });
      if (!result.ok && field !== undefined) expect(result.error.field).toBe(field);
      if (!result.ok) expect(result.error.message.length).toBeLessThan(2000);
    }
    // Nothing happened: no node was started, no state folder written, settings untouched.
    expect(existsSync(join(home, 'node'))).toBe(false);
    expect(services.host.snapshot().phase).toBe('unconfigured');
    expect(services.settings.localNode()).toBeUndefined();
  });

  it('refuses arguments nested too deeply or with too many entries', async () => {
    let deep: unknown = 'x';
    for (let i = 0; i < 40; i++) deep = { a: deep };
    await expect(session.call('setNodeLabels', { nodeId: 'abc', labels: deep })).resolves.toMatchObject({ ok: false, error: { code: 'InvalidArgument' } });
    const many = { ...goodSpec, task: { container: { image: 'x', env: Array.from({ length: 20_000 }, (_, i) => `K${i}=v`) } } };
    await expect(session.call('createService', { spec: many })).resolves.toMatchObject({ ok: false, error: { code: 'InvalidArgument', field: 'spec.task.container.env' } });
  });

  it('refuses a method outside the contract', async () => {
    await expect(session.call('constructor' as ApiMethod, undefined)).resolves.toMatchObject({ ok: false, error: { code: 'InvalidArgument' } });
    await expect(session.call('__proto__' as ApiMethod, undefined)).resolves.toMatchObject({ ok: false, error: { code: 'InvalidArgument' } });
  });
});
