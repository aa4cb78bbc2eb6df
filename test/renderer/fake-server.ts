/**
 * A stand-in for browser mode while developing the UI: serves out/renderer and answers the contract's
 * WebSocket messages from a simulated cluster (no raft, no Docker). Tasks start a moment after they are
 * created, updates roll one task at a time, logs tick every second. Not a test of the main process.
 *
 *   npm run build && npx tsx test/renderer/fake-server.ts [--configured] [--tasks 10000] [--port 5199]
 *   curl -X POST 'http://127.0.0.1:5199/burst?n=1000'   # 1,000 task updates in one batch
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { extname, join, normalize } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { TaskState, type ServiceSpec } from '../../agent/api/objects';
import { serviceSpecFieldErrors } from '../../agent/api/spec-field-errors';
import type {
  ApiHandlers,
  BridgeRequest,
  BridgeResponse,
  ClusterSummary,
  ContractError,
  JoinTokensView,
  LocalNodeState,
  NodeView,
  ObjectChange,
  ServiceView,
  SwarmdeskEvent,
  Task,
  UiSettings,
} from '../../electron/contract';
import { fakeProvisioning } from './fake-provisioning';

const args = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : undefined;
};

class Refusal extends Error {
  constructor(readonly error: ContractError) {
    super(error.message);
  }
}

const id = () => randomBytes(13).toString('hex').slice(0, 25);
const now = () => new Date().toISOString();
const meta = (version: number) => ({ version, createdAt: now(), updatedAt: now() });

let revision = 1;
let version = 1;
const nodes = new Map<string, NodeView>();
const services = new Map<string, ServiceView>();
const tasks = new Map<string, Task>();
let pending: ObjectChange[] = [];
let fromRevision = 1;
const sockets = new Set<WebSocket>();
let settings: UiSettings = { theme: 'system', logTimestamps: false };
let tokens: JoinTokensView = makeTokens();
let local: LocalNodeState = args.includes('--configured')
  ? { phase: 'running', runTasks: true, role: 'manager', nodeId: 'local', clusterId: 'cluster1', advertiseAddress: '10.0.0.1:4242' }
  : { phase: 'unconfigured', runTasks: true };

function makeTokens(): JoinTokensView {
  const worker = `SWMTKN-1-${id()}${id()}-${id()}`;
  const manager = `SWMTKN-1-${id()}${id()}-${id()}`;
  return {
    worker,
    manager,
    managerAddresses: ['10.0.0.1:4242'],
    workerCommand: `swarmd --join-addr 10.0.0.1:4242 --join-token ${worker}`,
    managerCommand: `swarmd --join-addr 10.0.0.1:4242 --join-token ${manager}`,
  };
}

function broadcast(event: SwarmdeskEvent): void {
  const message = JSON.stringify({ type: 'event', event } satisfies BridgeResponse);
  for (const socket of sockets) socket.send(message);
}

function summary(): ClusterSummary {
  const managers = [...nodes.values()].filter((node) => node.role === 'manager');
  const reachable = managers.filter((node) => node.managerStatus?.reachability === 'reachable').length;
  const quorum = Math.floor(managers.length / 2) + 1;
  return { id: 'cluster1', name: 'default', leaderNodeId: 'local', managers: { total: managers.length, reachable, quorum }, hasQuorum: reachable >= quorum };
}

function upsertNode(node: NodeView) {
  nodes.set(node.id, node);
  pending.push({ kind: 'node', action: 'upsert', object: node });
  revision++;
}
function upsertTask(task: Task) {
  tasks.set(task.id, task);
  pending.push({ kind: 'task', action: 'upsert', object: task });
  revision++;
}
function upsertService(service: ServiceView) {
  services.set(service.id, service);
  pending.push({ kind: 'service', action: 'upsert', object: service });
  revision++;
}

setInterval(() => {
  if (pending.length === 0) return;
  const changes = pending;
  pending = [];
  broadcast({ kind: 'changes', fromRevision, revision, cluster: summary(), changes });
  fromRevision = revision;
}, 250);

function addNode(hostname: string, role: 'manager' | 'worker', nodeId = id()): NodeView {
  const node: NodeView = {
    id: nodeId,
    meta: meta(version++),
    spec: { labels: {}, role, availability: 'active' },
    status: { state: 'ready', message: '', addr: `10.0.0.${nodes.size + 1}` },
    role,
    description: { hostname, platform: { os: 'linux', arch: 'x86_64' }, resources: { nanoCpus: 4e9, memoryBytes: 8 * 1024 ** 3 }, engine: { version: '26.1.5', labels: {} } },
    managerStatus: role === 'manager' ? { raftId: nodes.size + 1, addr: `10.0.0.${nodes.size + 1}:4242`, leader: nodeId === 'local', reachability: 'reachable' } : undefined,
    taskCount: 0,
  };
  upsertNode(node);
  return node;
}

function seed(): void {
  addNode('workstation', 'manager', 'local');
  for (let i = 1; i <= 3; i++) addNode(`vm-${i}`, 'worker');
  const count = Number(option('--tasks') ?? '0');
  if (count > 0) {
    const perService = 1000;
    for (let s = 0; s * perService < count; s++) {
      const service = createService({ name: `bulk-${s}`, labels: {}, mode: { replicated: { replicas: Math.min(perService, count - s * perService) } }, task: { container: { image: 'busybox' } } });
      for (const task of tasks.values()) if (task.serviceId === service.id) task.status.state = TaskState.RUNNING;
    }
  }
}

function recount(serviceId: string): void {
  const service = services.get(serviceId);
  if (!service) return;
  const running = [...tasks.values()].filter((task) => task.serviceId === serviceId && task.desiredState === TaskState.RUNNING && task.status.state === TaskState.RUNNING).length;
  const desired = 'replicated' in service.spec.mode ? service.spec.mode.replicated.replicas : nodes.size;
  upsertService({ ...service, replicas: { running, desired } });
}

function newTask(service: ServiceView, slot: number, nodeId: string): Task {
  const task: Task = {
    id: id(),
    meta: meta(version++),
    spec: service.spec.task,
    status: { state: TaskState.PENDING, message: 'pending', timestamp: now() },
    serviceId: service.id,
    slot,
    nodeId,
    desiredState: TaskState.RUNNING,
    serviceAnnotations: { name: service.spec.name, labels: {} },
    specVersion: service.specVersion,
  };
  upsertTask(task);
  const fail = service.spec.task.container.image.includes('missing');
  setTimeout(() => {
    const current = tasks.get(task.id);
    if (!current || current.desiredState !== TaskState.RUNNING) return;
    upsertTask({
      ...current,
      meta: meta(version++),
      status: fail
        ? { state: TaskState.REJECTED, message: 'preparing', err: `No such image: ${service.spec.task.container.image}`, timestamp: now() }
        : { state: TaskState.RUNNING, message: 'started', timestamp: now() },
    });
    recount(service.id);
  }, 1500);
  return task;
}

function activeNodes(): NodeView[] {
  return [...nodes.values()].filter((node) => node.spec.availability === 'active');
}

function stopTask(task: Task): void {
  upsertTask({ ...task, meta: meta(version++), desiredState: TaskState.SHUTDOWN, status: { state: TaskState.SHUTDOWN, message: 'shutdown', timestamp: now() } });
}

function reconcile(service: ServiceView): void {
  const current = [...tasks.values()].filter((task) => task.serviceId === service.id && task.desiredState === TaskState.RUNNING);
  const want = 'replicated' in service.spec.mode ? service.spec.mode.replicated.replicas : 0;
  const targets = activeNodes();
  for (let slot = 1; slot <= want; slot++) {
    if (!current.some((task) => task.slot === slot)) newTask(service, slot, targets[slot % Math.max(1, targets.length)]?.id ?? '');
  }
  for (const task of current) if (task.slot > want) stopTask(task);
  recount(service.id);
}

function rollingUpdate(service: ServiceView): void {
  upsertService({ ...service, status: { updateStatus: { state: 'updating', startedAt: now(), message: 'update in progress' } } });
  const step = () => {
    const latest = services.get(service.id);
    if (!latest) return;
    const old = [...tasks.values()].find((task) => task.serviceId === service.id && task.desiredState === TaskState.RUNNING && task.specVersion !== latest.specVersion);
    if (!old) {
      upsertService({ ...latest, status: { updateStatus: { state: 'completed', startedAt: latest.status.updateStatus?.startedAt, completedAt: now(), message: 'update completed' } } });
      return;
    }
    stopTask(old);
    newTask(latest, old.slot, old.nodeId);
    setTimeout(step, 2000);
  };
  setTimeout(step, 500);
}

function createService(spec: ServiceSpec): ServiceView {
  const problems = serviceSpecFieldErrors(spec);
  if (problems.length > 0) throw new Refusal({ code: 'InvalidArgument', message: problems.map((p) => `${p.field}: ${p.message}`).join('; '), field: problems[0].field });
  if ([...services.values()].some((service) => service.spec.name === spec.name)) throw new Refusal({ code: 'AlreadyExists', message: `a service named ${spec.name} already exists`, field: 'spec.name' });
  const service: ServiceView = { id: id(), meta: meta(version++), spec, status: {}, specVersion: 1, replicas: { running: 0, desired: 0 } };
  upsertService(service);
  reconcile(service);
  return services.get(service.id) ?? service;
}

function serviceOf(serviceId: string): ServiceView {
  const service = services.get(serviceId);
  if (!service) throw new Refusal({ code: 'NotFound', message: `service ${serviceId} not found` });
  return service;
}
function nodeOf(nodeId: string): NodeView {
  const node = nodes.get(nodeId);
  if (!node) throw new Refusal({ code: 'NotFound', message: `node ${nodeId} not found` });
  return node;
}

const logTimers = new Map<string, NodeJS.Timeout>();

const handlers: ApiHandlers = {
  async getAppInfo() {
    return { name: 'swarmdesk', version: '0.1.0', platform: process.platform, mode: 'web', agent: { version: '0.1.0', runtime: process.version } };
  },
  async getLocalNode() {
    return local;
  },
  async listAddresses() {
    return [
      { interfaceName: 'lo', address: '127.0.0.1', family: 'IPv4', internal: true },
      { interfaceName: 'eth0', address: '192.168.1.20', family: 'IPv4', internal: false },
    ];
  },
  async createCluster(request) {
    local = { phase: 'running', runTasks: request.runTasks, role: 'manager', nodeId: 'local', clusterId: 'cluster1', advertiseAddress: `${request.advertiseAddress}:${request.port}` };
    seed();
    broadcast({ kind: 'local-node', state: local });
    return local;
  },
  async joinCluster() {
    throw new Refusal({ code: 'Unavailable', message: 'could not reach 10.9.9.9:4242: connection refused', field: 'joinAddress' });
  },
  async setRunTasks(request) {
    local = { ...local, runTasks: request.runTasks };
    return local;
  },
  async subscribeCluster() {
    return { revision, cluster: summary(), nodes: [...nodes.values()], services: [...services.values()], tasks: [...tasks.values()] };
  },
  async unsubscribeCluster() {},
  async getJoinTokens() {
    return tokens;
  },
  async rotateJoinToken() {
    tokens = makeTokens();
    return tokens;
  },
  async setNodeAvailability(request) {
    const node = nodeOf(request.nodeId);
    const updated = { ...node, meta: meta(version++), spec: { ...node.spec, availability: request.availability } };
    upsertNode(updated);
    return updated;
  },
  async setNodeRole(request) {
    const node = nodeOf(request.nodeId);
    if (request.role === 'worker' && node.id === 'local') throw new Refusal({ code: 'FailedPrecondition', message: 'demoting the last manager would lose the quorum (1 of 1 managers reachable)' });
    const updated: NodeView = { ...node, meta: meta(version++), role: request.role, spec: { ...node.spec, role: request.role } };
    upsertNode(updated);
    return updated;
  },
  async setNodeLabels(request) {
    const node = nodeOf(request.nodeId);
    const updated = { ...node, meta: meta(version++), spec: { ...node.spec, labels: request.labels } };
    upsertNode(updated);
    return updated;
  },
  async removeNode(request) {
    const node = nodeOf(request.nodeId);
    if (node.status.state === 'ready' && !request.force) throw new Refusal({ code: 'FailedPrecondition', message: `node ${node.id} is not down and can't be removed (use force)` });
    nodes.delete(node.id);
    pending.push({ kind: 'node', action: 'delete', id: node.id });
    revision++;
  },
  async createService(request) {
    return createService(request.spec);
  },
  async updateService(request) {
    const service = serviceOf(request.serviceId);
    if (service.meta.version !== request.version) throw new Refusal({ code: 'Conflict', message: `update out of sequence: service version ${request.version} is not the current ${service.meta.version}` });
    const problems = serviceSpecFieldErrors(request.spec);
    if (problems.length > 0) throw new Refusal({ code: 'InvalidArgument', message: problems.map((p) => `${p.field}: ${p.message}`).join('; '), field: problems[0].field });
    const taskChanged = JSON.stringify(service.spec.task) !== JSON.stringify(request.spec.task) || request.force === true;
    const updated: ServiceView = { ...service, meta: meta(version++), previousSpec: service.spec, spec: request.spec, specVersion: service.specVersion + (taskChanged ? 1 : 0) };
    upsertService(updated);
    reconcile(updated);
    if (taskChanged) rollingUpdate(services.get(updated.id) ?? updated);
    return services.get(updated.id) ?? updated;
  },
  async scaleService(request) {
    const service = serviceOf(request.serviceId);
    if (!('replicated' in service.spec.mode)) throw new Refusal({ code: 'FailedPrecondition', message: 'a global service cannot be scaled' });
    const updated: ServiceView = { ...service, meta: meta(version++), spec: { ...service.spec, mode: { replicated: { replicas: request.replicas } } } };
    upsertService(updated);
    reconcile(updated);
    return services.get(updated.id) ?? updated;
  },
  async rollbackService(request) {
    const service = serviceOf(request.serviceId);
    if (!service.previousSpec) throw new Refusal({ code: 'FailedPrecondition', message: 'the service has no previous spec to roll back to' });
    const updated: ServiceView = { ...service, meta: meta(version++), spec: service.previousSpec, previousSpec: undefined, specVersion: service.specVersion + 1 };
    upsertService(updated);
    reconcile(updated);
    rollingUpdate(services.get(updated.id) ?? updated);
    return updated;
  },
  async removeService(request) {
    const service = serviceOf(request.serviceId);
    for (const task of [...tasks.values()]) {
      if (task.serviceId !== service.id) continue;
      tasks.delete(task.id);
      pending.push({ kind: 'task', action: 'delete', id: task.id });
    }
    services.delete(service.id);
    pending.push({ kind: 'service', action: 'delete', id: service.id });
    revision++;
  },
  async startLogs(request) {
    const service = serviceOf(request.serviceId);
    const subscriptionId = id();
    const mine = () => [...tasks.values()].filter((task) => task.serviceId === service.id && (!request.taskId || task.id === request.taskId));
    let n = 0;
    const emit = (count: number) => {
      const lines = mine().flatMap((task) =>
        Array.from({ length: count }, () => ({ serviceId: service.id, taskId: task.id, nodeId: task.nodeId || 'local', timestamp: now(), stream: n % 7 === 0 ? ('stderr' as const) : ('stdout' as const), data: `line ${n++} from ${service.spec.name}.${task.slot}\n` })),
      );
      if (lines.length > 0) broadcast({ kind: 'logs', subscriptionId, lines });
    };
    setTimeout(() => emit(5), 50);
    if (request.follow) logTimers.set(subscriptionId, setInterval(() => emit(1), 1000));
    else setTimeout(() => broadcast({ kind: 'logs-end', subscriptionId }), 100);
    return { subscriptionId };
  },
  async stopLogs(request) {
    clearInterval(logTimers.get(request.subscriptionId));
    logTimers.delete(request.subscriptionId);
  },
  async getSettings() {
    return settings;
  },
  async updateSettings(request) {
    settings = { ...settings, ...request };
    return settings;
  },
  ...fakeProvisioning(broadcast, (hostname, role) => addNode(hostname, role).id),
};

if (local.phase === 'running') seed();

const token = randomBytes(16).toString('hex');
const root = join(import.meta.dirname, '../../out/renderer');
const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml' };
/** POST /burst?n=1000: that many task updates in one change batch (to watch the UI under a burst). */
function burst(count: number): number {
  let updated = 0;
  for (const task of tasks.values()) {
    if (updated >= count) break;
    const state = task.status.state === TaskState.RUNNING ? TaskState.STARTING : TaskState.RUNNING;
    upsertTask({ ...task, meta: meta(version++), status: { ...task.status, state, timestamp: now() } });
    updated++;
  }
  return updated;
}

const server = createServer((request, response) => {
  if (request.method === 'POST' && request.url?.startsWith('/burst')) {
    const count = Number(new URL(request.url, 'http://x').searchParams.get('n') ?? '1000');
    response.end(String(burst(count)));
    return;
  }
  const path = normalize(decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '');
  const file = join(root, path === '/' ? 'index.html' : path);
  readFile(file).then(
    (body) => {
      response.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
      response.end(body);
    },
    () => {
      response.writeHead(404);
      response.end();
    },
  );
});
const wss = new WebSocketServer({ server, path: '/api' });
wss.on('connection', (socket) => {
  let authenticated = false;
  socket.on('message', (data) => {
    const message = JSON.parse(String(data)) as BridgeRequest;
    if (message.type === 'hello') {
      authenticated = message.token === token;
      if (!authenticated) socket.close();
      else {
        sockets.add(socket);
        socket.send(JSON.stringify({ type: 'ready' } satisfies BridgeResponse));
      }
      return;
    }
    if (!authenticated) return socket.close();
    const handler = handlers[message.method] as (argument: unknown) => Promise<unknown>;
    handler(message.argument).then(
      (value) => socket.send(JSON.stringify({ type: 'result', id: message.id, result: { ok: true, value } } satisfies BridgeResponse)),
      (err: unknown) =>
        socket.send(
          JSON.stringify({
            type: 'result',
            id: message.id,
            result: { ok: false, error: err instanceof Refusal ? err.error : { code: 'Internal', message: String(err) } },
          } satisfies BridgeResponse),
        ),
    );
  });
  socket.on('close', () => sockets.delete(socket));
});
server.listen(Number(option('--port') ?? '0'), '127.0.0.1', () => {
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  console.log(`http://127.0.0.1:${port}/#token=${token}`);
});
