/**
 * The desktop app's services end to end with a real in-process manager in a temp SWARMDESK_HOME that
 * runs its tasks on a private Docker Engine: create a cluster, watch a service's tasks reach RUNNING
 * through `changes` events (as the UI would), scale it, read its logs, join tokens and rotation, drain
 * and re-activate this machine, restart the app (same node, same cluster, containers adopted), remove
 * the service, and a second app instance joining (a worker token refused, the manager token accepted).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TaskState } from '../../agent/api/objects';
import type { ApiMethod, ClusterSnapshot, IpcResult, JoinTokensView, LocalNodeState, LogLine, ServiceView, SwarmdeskEvent } from '../../electron/contract';
import type { ApiSession } from '../../electron/main/api-session';
import { MemoryVault } from '../../electron/main/secrets';
import { MainServices } from '../../electron/main/services';
import { Settings } from '../../electron/main/settings';
import { openSettingsBackend } from '../../electron/main/settings-file';
import { freePort, until } from '../cluster/harness';
import { dockerTestsSkipped, type PrivateDockerd, startPrivateDockerd } from '../support/private-dockerd';
import { importTestImage } from '../support/test-image';
import { ClusterMirror } from './cluster-mirror';

const STEP_MS = 120_000;

interface App {
  services: MainServices;
  session: ApiSession;
  events: SwarmdeskEvent[];
  mirror?: ClusterMirror;
}

let engine: PrivateDockerd | undefined;
let home: string;
let secondHome: string;
let app: App | undefined;
let second: App | undefined;
let port: number;
let nodeId: string;
let clusterId: string;
let serviceId: string;

async function openApp(dataHome: string): Promise<App> {
  const services = new MainServices({
    home: dataHome,
    mode: 'web',
    settings: new Settings(await openSettingsBackend(dataHome)),
    vault: new MemoryVault(),
    engineAddr: engine?.engineAddr,
    feed: { flushMs: 100 },
  });
  const opened: App = { services, session: undefined as unknown as ApiSession, events: [] };
  opened.session = services.openSession((event) => {
    opened.events.push(event);
    opened.mirror?.apply(event);
  });
  return opened;
}

async function ok<T>(target: App, method: ApiMethod, argument?: unknown): Promise<T> {
  const result: IpcResult<unknown> = await target.session.call(method, argument);
  if (!result.ok) throw new Error(`${method} failed: ${result.error.code}: ${result.error.message}`);
  return result.value as T;
}

async function subscribe(target: App): Promise<ClusterMirror> {
  const snapshot = await ok<ClusterSnapshot>(target, 'subscribeCluster');
  target.mirror = new ClusterMirror(snapshot);
  return target.mirror;
}

function running(mirror: ClusterMirror, service: string): number {
  return mirror.tasksOf(service).filter((t) => t.status.state === TaskState.RUNNING && t.desiredState === TaskState.RUNNING).length;
}

const spec = (replicas: number) => ({
  name: 'web',
  labels: {},
  mode: { replicated: { replicas } },
  task: { container: { image: 'swarmdesk-test:1', command: ['/bin/sh', '-c', 'echo "hello from $HOSTNAME"; exec sleep 100000'] } },
});

describe.skipIf(dockerTestsSkipped())('the desktop services with a real in-process manager and Docker', () => {
  beforeAll(async () => {
    engine = await startPrivateDockerd();
    await importTestImage(engine.docker);
    home = await mkdtemp(join(tmpdir(), 'swarmdesk-home-'));
    secondHome = await mkdtemp(join(tmpdir(), 'swarmdesk-home2-'));
    port = await freePort();
    app = await openApp(home);
  }, 180_000);

  afterAll(async () => {
    await second?.services.close();
    await app?.services.close();
    await engine?.stop();
    await rm(home, { recursive: true, force: true });
    await rm(secondHome, { recursive: true, force: true });
  }, 180_000);

  it('creates a cluster: the local node runs, reports the engine, and the snapshot shows it as leader', async () => {
    if (app === undefined) throw new Error('no app');
    await expect(ok<LocalNodeState>(app, 'getLocalNode')).resolves.toMatchObject({ phase: 'unconfigured' });
    const state = await ok<LocalNodeState>(app, 'createCluster', { advertiseAddress: '127.0.0.1', port, runTasks: true });
    expect(state).toMatchObject({ phase: 'running', role: 'manager', advertiseAddress: `127.0.0.1:${port}`, runTasks: true, engine: { reachable: true } });
    nodeId = state.nodeId ?? '';
    clusterId = state.clusterId ?? '';
    expect(nodeId).toMatch(/^[0-9a-z]{25}$/);
    expect(app.events.some((e) => e.kind === 'local-node' && e.state.phase === 'starting')).toBe(true);
    expect(existsSync(join(home, 'node', 'certificates'))).toBe(true);

    const mirror = await subscribe(app);
    expect([...mirror.nodes.keys()]).toEqual([nodeId]);
    expect(mirror.nodes.get(nodeId)).toMatchObject({ role: 'manager', spec: { availability: 'active' }, taskCount: 0, managerStatus: { leader: true, reachability: 'reachable' } });
    expect(mirror.cluster).toMatchObject({ id: clusterId, name: 'default', leaderNodeId: nodeId, managers: { total: 1, reachable: 1, quorum: 1 }, hasQuorum: true });
  }, STEP_MS);

  it('creates a service and its tasks reach RUNNING in the change events, with counts kept', async () => {
    if (app?.mirror === undefined) throw new Error('not subscribed');
    const mirror = app.mirror;
    const created = await ok<ServiceView>(app, 'createService', { spec: spec(2) });
    serviceId = created.id;
    expect(created.spec.name).toBe('web');
    await until('2 tasks RUNNING in the events', () => running(mirror, serviceId) === 2, STEP_MS);
    await until('the service view to say 2/2', () => mirror.services.get(serviceId)?.replicas.running === 2, 10_000);
    expect(mirror.services.get(serviceId)?.replicas).toEqual({ running: 2, desired: 2 });
    expect(mirror.nodes.get(nodeId)?.taskCount).toBe(2);
    const containers = await engine?.docker.listContainers({ filters: { label: [`com.docker.swarm.service.id=${serviceId}`] } });
    expect(containers?.length).toBe(2);
    expect(mirror.problems).toEqual([]);
  }, STEP_MS);

  it('scales the service to 3', async () => {
    if (app?.mirror === undefined) throw new Error('not subscribed');
    const mirror = app.mirror;
    const scaled = await ok<ServiceView>(app, 'scaleService', { serviceId, replicas: 3 });
    expect(scaled.spec.mode).toEqual({ replicated: { replicas: 3 } });
    await until('3 tasks RUNNING', () => running(mirror, serviceId) === 3 && mirror.services.get(serviceId)?.replicas.running === 3, STEP_MS);
    expect(mirror.services.get(serviceId)?.replicas).toEqual({ running: 3, desired: 3 });
    expect(mirror.nodes.get(nodeId)?.taskCount).toBe(3);
  }, STEP_MS);

  it('streams the service logs as batched events, and ends a non-follow read', async () => {
    if (app === undefined) throw new Error('no app');
    const current = app;
    const { subscriptionId } = await ok<{ subscriptionId: string }>(current, 'startLogs', { serviceId, follow: false });
    await until('the logs to end', () => current.events.some((e) => e.kind === 'logs-end' && e.subscriptionId === subscriptionId), STEP_MS);
    const lines: LogLine[] = current.events.flatMap((e) => (e.kind === 'logs' && e.subscriptionId === subscriptionId ? e.lines : []));
    const end = current.events.find((e) => e.kind === 'logs-end' && e.subscriptionId === subscriptionId);
    expect(end).toEqual({ kind: 'logs-end', subscriptionId });
    expect(lines.filter((l) => l.data.includes('hello from')).length).toBe(3);
    expect(new Set(lines.map((l) => l.taskId)).size).toBe(3);
    const stopped = await current.session.call('stopLogs', { subscriptionId });
    expect(stopped).toMatchObject({ ok: false, error: { code: 'NotFound' } });

    // Following one task: its lines arrive, and stopLogs ends the stream without a logs-end.
    const taskId = current.mirror?.tasksOf(serviceId).find((t) => t.desiredState === TaskState.RUNNING)?.id ?? '';
    const follow = await ok<{ subscriptionId: string }>(current, 'startLogs', { serviceId, taskId, follow: true, tail: 10 });
    const followed = () => current.events.flatMap((e) => (e.kind === 'logs' && e.subscriptionId === follow.subscriptionId ? e.lines : []));
    await until('the followed task\'s line', () => followed().some((l) => l.data.includes('hello from')), STEP_MS);
    expect(new Set(followed().map((l) => l.taskId))).toEqual(new Set([taskId]));
    await expect(current.session.call('stopLogs', { subscriptionId: follow.subscriptionId })).resolves.toMatchObject({ ok: true });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(current.events.some((e) => e.kind === 'logs-end' && e.subscriptionId === follow.subscriptionId)).toBe(false);
    await expect(current.session.call('startLogs', { serviceId: 'nosuchservice', follow: false })).resolves.toMatchObject({ ok: false, error: { code: 'NotFound' } });
  }, STEP_MS);

  it('gives join tokens with ready-to-paste commands, rotates one, and keeps no token in the settings file', async () => {
    if (app === undefined) throw new Error('no app');
    const tokens = await ok<JoinTokensView>(app, 'getJoinTokens');
    expect(tokens.worker).toMatch(/^SWMTKN-1-/);
    expect(tokens.manager).toMatch(/^SWMTKN-1-/);
    expect(tokens.managerAddresses[0]).toBe(`127.0.0.1:${port}`);
    expect(tokens.workerCommand).toBe(`swarmd --join-addr 127.0.0.1:${port} --join-token ${tokens.worker}`);
    expect(tokens.managerCommand).toBe(`swarmd --join-addr 127.0.0.1:${port} --join-token ${tokens.manager}`);
    const rotated = await ok<JoinTokensView>(app, 'rotateJoinToken', { role: 'worker' });
    expect(rotated.worker).not.toBe(tokens.worker);
    expect(rotated.manager).toBe(tokens.manager);
    const file = await readFile(app.services.settings.path, 'utf8');
    expect(JSON.parse(file)).toMatchObject({ localNode: { origin: 'created', advertiseAddress: '127.0.0.1', port, runTasks: true } });
    expect(file).not.toContain('SWMTKN');
  }, STEP_MS);

  it('"run tasks on this machine" off drains the node (its tasks stop), on brings them back', async () => {
    if (app?.mirror === undefined) throw new Error('not subscribed');
    const mirror = app.mirror;
    await expect(ok<LocalNodeState>(app, 'setRunTasks', { runTasks: false })).resolves.toMatchObject({ phase: 'running', runTasks: false });
    await until('the node drained and no task running', () => mirror.nodes.get(nodeId)?.spec.availability === 'drain' && running(mirror, serviceId) === 0, STEP_MS);
    expect(mirror.services.get(serviceId)?.replicas.running).toBe(0);
    await expect(ok<LocalNodeState>(app, 'setRunTasks', { runTasks: true })).resolves.toMatchObject({ runTasks: true, engine: { reachable: true } });
    await until('3 tasks RUNNING again', () => running(mirror, serviceId) === 3 && mirror.services.get(serviceId)?.replicas.running === 3, STEP_MS);
    expect(mirror.problems).toEqual([]);
  }, 2 * STEP_MS);

  it('a restart of the app brings the same node back, in the same cluster, with the service running', async () => {
    if (app === undefined) throw new Error('no app');
    const before = app;
    await before.services.close();
    expect(before.services.host.snapshot().phase).toBe('stopped');
    app = await openApp(home);
    const state = await app.services.start();
    expect(state).toMatchObject({ phase: 'running', nodeId, clusterId, role: 'manager', runTasks: true });
    const mirror = await subscribe(app);
    expect(mirror.services.get(serviceId)?.spec.name).toBe('web');
    await until('3 tasks RUNNING after the restart', () => running(mirror, serviceId) === 3 && mirror.services.get(serviceId)?.replicas.running === 3, STEP_MS);
  }, 2 * STEP_MS);

  it('removes the service: its tasks leave the feed and its containers the engine', async () => {
    if (app?.mirror === undefined) throw new Error('not subscribed');
    const mirror = app.mirror;
    await ok(app, 'removeService', { serviceId });
    await until('the service and its tasks gone from the feed', () => !mirror.services.has(serviceId) && mirror.tasksOf(serviceId).length === 0, STEP_MS);
    await until('no container left', async () => (await engine?.docker.listContainers({ all: true, filters: { label: [`com.docker.swarm.service.id=${serviceId}`] } }))?.length === 0, STEP_MS);
    expect(mirror.nodes.get(nodeId)?.taskCount).toBe(0);
    expect(mirror.problems).toEqual([]);
  }, STEP_MS);

  it('a second instance refuses a worker token, then joins with the manager token as a second manager', async () => {
    if (app?.mirror === undefined) throw new Error('not subscribed');
    const mirror = app.mirror;
    const tokens = await ok<JoinTokensView>(app, 'getJoinTokens');
    second = await openApp(secondHome);
    const secondPort = await freePort();
    const request = { joinAddress: `127.0.0.1:${port}`, advertiseAddress: '127.0.0.1', port: secondPort, runTasks: false };
    const refused = await second.session.call('joinCluster', { ...request, token: tokens.worker });
    expect(refused).toMatchObject({ ok: false, error: { code: 'InvalidArgument', field: 'token' } });
    if (!refused.ok) expect(refused.error.message).toMatch(/worker token/);
    expect(second.services.host.snapshot().phase).toBe('unconfigured');
    expect(existsSync(join(secondHome, 'node'))).toBe(false);

    const joined = await ok<LocalNodeState>(second, 'joinCluster', { ...request, token: tokens.manager });
    expect(joined).toMatchObject({ phase: 'running', role: 'manager', clusterId, runTasks: false });
    const file = await readFile(second.services.settings.path, 'utf8');
    expect(file).not.toContain('SWMTKN');
    expect(JSON.parse(file)).toMatchObject({ localNode: { origin: 'joined', joinAddress: `127.0.0.1:${port}` } });
    await until('two reachable managers in the cluster summary', () => mirror.cluster.managers.total === 2 && mirror.cluster.managers.reachable === 2, STEP_MS);
    expect(mirror.nodes.get(joined.nodeId ?? '')).toMatchObject({ role: 'manager', spec: { availability: 'drain' } });
    // The joined manager's own feed shows the same cluster.
    const theirs = await subscribe(second);
    expect(theirs.cluster.id).toBe(clusterId);
    expect(theirs.nodes.has(nodeId)).toBe(true);
  }, 2 * STEP_MS);
});
