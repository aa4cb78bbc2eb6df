/**
 * The one contract between the renderer and the main process (design: "One typed IPC contract").
 *
 * - `SwarmdeskApi` is what renderer code calls. Every method takes at most one plain-object argument.
 * - The main process registers a handler for every key (`ApiHandlers`, so the compiler flags a missing
 *   one), validates the argument and the sender, and answers with an `IpcResult`: errors cross as
 *   `{ ok: false, error: { code, message } }`, never as thrown Errors (Electron keeps only the message
 *   of an Error thrown across IPC or the context bridge, and the code matters to the UI).
 * - The preload exposes exactly `SwarmdeskBridge` (one invoke per key plus `onEvent`), nothing else.
 *   renderer/src/api.ts turns it back into a `SwarmdeskApi` that throws `{ code, message }` errors.
 * - Browser mode (`npm run web`) carries the same `BridgeRequest`/`BridgeResponse`/`SwarmdeskEvent`
 *   messages over a WebSocket, so the renderer cannot tell the two apart.
 * - Live data is pushed, never polled: `subscribeCluster` answers a snapshot, then `changes` events
 *   (batched store watch events) carry diffs whose `revision` follows the snapshot's.
 *
 * The renderer imports only types from here (and the constants below, which are plain data).
 */
import type { ServiceView, VersionInfo } from '../agent/api/control';
import type { ErrorCode } from '../agent/api/errors';
import type { LogLine } from '../agent/api/logs';
import type { Labels, Node, NodeAvailability, NodeRole, ServiceSpec, Task } from '../agent/api/objects';

export type { ServiceView } from '../agent/api/control';
export type { LogLine } from '../agent/api/logs';
export type { Node, ServiceSpec, Task } from '../agent/api/objects';

// ---------------------------------------------------------------------------------------------------
// Errors and results
// ---------------------------------------------------------------------------------------------------

/** How every failure crosses: the project's error code, a sentence for a person, and for form input the field. */
export interface ContractError {
  code: ErrorCode;
  message: string;
  /** Dotted path of the offending input field (e.g. `spec.task.container.image`) when one is to blame. */
  field?: string;
}

export type IpcResult<T> = { ok: true; value: T } | { ok: false; error: ContractError };

// ---------------------------------------------------------------------------------------------------
// The local node (the manager this app runs in-process)
// ---------------------------------------------------------------------------------------------------

/**
 * - `unconfigured`: first start; the user chooses to create or join a cluster.
 * - `starting` / `running` / `stopping` / `stopped`: the in-process node's lifecycle.
 * - `failed`: it could not start or stopped by itself (e.g. removed from the cluster); `message` says why.
 */
export type LocalNodePhase = 'unconfigured' | 'starting' | 'running' | 'stopping' | 'stopped' | 'failed';

export interface LocalNodeState {
  phase: LocalNodePhase;
  message?: string;
  nodeId?: string;
  clusterId?: string;
  role?: NodeRole;
  /** host:port other nodes reach this manager at. */
  advertiseAddress?: string;
  /** Whether this machine also runs tasks on its own Docker Engine (a setting). */
  runTasks: boolean;
  /** The local Docker Engine, when `runTasks` is on: reachable or why not. */
  engine?: { reachable: boolean; version?: string; message?: string };
}

export interface NetworkAddress {
  interfaceName: string;
  address: string;
  family: 'IPv4' | 'IPv6';
  internal: boolean;
}

export interface CreateClusterRequest {
  /** Address other machines reach this one at (picked from `listAddresses`, editable). */
  advertiseAddress: string;
  /** Default 4242. */
  port: number;
  runTasks: boolean;
}

export interface JoinClusterRequest {
  /** host:port of a manager of the existing cluster. */
  joinAddress: string;
  /** SWMTKN-1-... manager token: the app hosts a manager. */
  token: string;
  advertiseAddress: string;
  port: number;
  runTasks: boolean;
}

// ---------------------------------------------------------------------------------------------------
// Cluster data
// ---------------------------------------------------------------------------------------------------

export interface ClusterSummary {
  id: string;
  name: string;
  /** Node ID of the raft leader, when one is known. */
  leaderNodeId?: string;
  managers: { total: number; reachable: number; quorum: number };
  /** False when fewer managers are reachable than a quorum needs: the cluster cannot change. */
  hasQuorum: boolean;
}

/** A node as the UI lists it: the stored object plus what the UI would otherwise have to compute. */
export interface NodeView extends Node {
  /** Tasks on this node that are desired running. */
  taskCount: number;
}

/** Everything the UI shows, as of `revision`; later `changes` events apply on top of it. */
export interface ClusterSnapshot {
  revision: number;
  cluster: ClusterSummary;
  nodes: NodeView[];
  services: ServiceView[];
  tasks: Task[];
}

export type ObjectChange =
  | { kind: 'node'; action: 'upsert'; object: NodeView }
  | { kind: 'service'; action: 'upsert'; object: ServiceView }
  | { kind: 'task'; action: 'upsert'; object: Task }
  | { kind: 'node' | 'service' | 'task'; action: 'delete'; id: string };

export interface JoinTokensView {
  worker: string;
  manager: string;
  /** Manager addresses a new node can join through, this machine's first. */
  managerAddresses: string[];
  /** Ready to paste on the new machine: `swarmd --join-addr <addr> --join-token <token>`. */
  workerCommand: string;
  managerCommand: string;
}

// ---------------------------------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------------------------------

export interface NodeRef {
  nodeId: string;
}
export interface SetNodeAvailabilityRequest extends NodeRef {
  availability: NodeAvailability;
}
export interface SetNodeRoleRequest extends NodeRef {
  role: NodeRole;
}
export interface SetNodeLabelsRequest extends NodeRef {
  labels: Labels;
}
export interface RemoveNodeRequest extends NodeRef {
  force: boolean;
}

export interface ServiceRef {
  serviceId: string;
}
export interface CreateServiceRequest {
  spec: ServiceSpec;
}
export interface UpdateServiceRequest extends ServiceRef {
  /** The service's `meta.version` the form was filled from: a stale one is a Conflict. */
  version: number;
  spec: ServiceSpec;
  force?: boolean;
}
export interface ScaleServiceRequest extends ServiceRef {
  replicas: number;
}

export interface StartLogsRequest extends ServiceRef {
  /** Only this task's lines. */
  taskId?: string;
  follow: boolean;
  /** Last N lines per task (omit for all). */
  tail?: number;
}

export type ThemeSetting = 'system' | 'light' | 'dark';

/** Settings the renderer may read and change (electron-store; nothing secret lives here). */
export interface UiSettings {
  theme: ThemeSetting;
  /** Show log lines with their timestamps. */
  logTimestamps: boolean;
}

// ---------------------------------------------------------------------------------------------------
// The API
// ---------------------------------------------------------------------------------------------------

export interface AppInfo {
  name: string;
  version: string;
  platform: string;
  /** `electron` in the desktop app, `web` in browser mode. */
  mode: 'electron' | 'web';
  agent: VersionInfo;
}

export interface SwarmdeskApi extends ProvisioningApi {
  getAppInfo(): Promise<AppInfo>;

  // The local node
  getLocalNode(): Promise<LocalNodeState>;
  listAddresses(): Promise<NetworkAddress[]>;
  createCluster(request: CreateClusterRequest): Promise<LocalNodeState>;
  joinCluster(request: JoinClusterRequest): Promise<LocalNodeState>;
  setRunTasks(request: { runTasks: boolean }): Promise<LocalNodeState>;

  // Live cluster data: a snapshot now, `changes` events after it
  subscribeCluster(): Promise<ClusterSnapshot>;
  unsubscribeCluster(): Promise<void>;

  // Join tokens
  getJoinTokens(): Promise<JoinTokensView>;
  rotateJoinToken(request: { role: NodeRole }): Promise<JoinTokensView>;

  // Nodes
  setNodeAvailability(request: SetNodeAvailabilityRequest): Promise<NodeView>;
  setNodeRole(request: SetNodeRoleRequest): Promise<NodeView>;
  setNodeLabels(request: SetNodeLabelsRequest): Promise<NodeView>;
  removeNode(request: RemoveNodeRequest): Promise<void>;

  // Services
  createService(request: CreateServiceRequest): Promise<ServiceView>;
  updateService(request: UpdateServiceRequest): Promise<ServiceView>;
  scaleService(request: ScaleServiceRequest): Promise<ServiceView>;
  rollbackService(request: ServiceRef): Promise<ServiceView>;
  removeService(request: ServiceRef): Promise<void>;

  // Logs: lines arrive as `logs` events for the returned subscription
  startLogs(request: StartLogsRequest): Promise<{ subscriptionId: string }>;
  stopLogs(request: { subscriptionId: string }): Promise<void>;

  // Settings
  getSettings(): Promise<UiSettings>;
  updateSettings(request: Partial<UiSettings>): Promise<UiSettings>;
}

export type ApiMethod = keyof SwarmdeskApi;
export type ApiRequest<M extends ApiMethod> = Parameters<SwarmdeskApi[M]>[0];
export type ApiResponse<M extends ApiMethod> = Awaited<ReturnType<SwarmdeskApi[M]>>;

/** What the main process implements: one handler per method (the IPC layer adds sender checks and validation). */
export type ApiHandlers = { [M in ApiMethod]: SwarmdeskApi[M] };

// ---------------------------------------------------------------------------------------------------
// Provisioning machines over SSH (electron/main/provision, wired by electron/main/machines.ts).
// Progress arrives as `provision` events; a job's failure is its outcome (`error.code` is a
// ProvisionErrorCode), not an IPC error. `host-key-unknown` carries the fingerprint: ask the user, then
// start again with `trustFingerprint`; `consent-required` (Docker missing): start again with
// `installDocker`. Machines provisioned here are remembered in the settings (never their secrets:
// those stay in memory, or in safeStorage when the request asks to remember them).
// ---------------------------------------------------------------------------------------------------

export type { ProvisionErrorCode } from './main/provision/errors';
export type { HostKey } from './main/provision/known-hosts';
export type { ProvisionJobKind, ProvisionJobView } from './main/provision/service';
export type { FailureInfo, ProvisionEvent, ProvisionOutcome, StepId as ProvisionStepId, StepState as ProvisionStepState, StepStatus as ProvisionStepStatus } from './main/provision/steps';

/**
 * How to log in. A password or passphrase left out is taken from what was remembered for this machine
 * (if anything was).
 */
export type ProvisionAuthInput =
  | { method: 'key'; /** Absolute path (or ~/...) of the private key file on this machine. */ keyPath: string; passphrase?: string }
  | { method: 'agent' }
  | { method: 'password'; password?: string };

export type ProvisionAuthMethod = ProvisionAuthInput['method'];

export interface ProvisionMachineInput {
  host: string;
  /** Default 22. */
  port?: number;
  username: string;
  auth: ProvisionAuthInput;
  /** When `username` is not root and sudo wants a password other than the login password. */
  sudoPassword?: string;
  role: NodeRole;
  labels?: Labels;
  /** The fingerprint the user accepted after a `host-key-unknown` outcome. */
  trustFingerprint?: string;
  /** Consent to install Debian/Ubuntu's docker.io when Docker is missing (after a `consent-required` outcome). */
  installDocker?: boolean;
  /** Manager address the machine joins through; default: this machine as the VM sees it. */
  managerHost?: string;
  /**
   * true: keep the password, passphrase and sudo password given here once they have worked (safeStorage;
   * in memory for this run only where there is no keychain). false: forget those remembered for this
   * machine. Absent: change nothing.
   */
  rememberSecrets?: boolean;
}

export interface StartProvisioningRequest {
  /** add: install/upgrade and join; test: connection and preflight only; remove: drain, uninstall, remove the node. */
  kind: import('./main/provision/service').ProvisionJobKind;
  machine: ProvisionMachineInput;
}

export interface ProvisionJobRef {
  jobId: string;
}

/** A machine provisioned from this app (the settings' record, and which secrets are remembered: never their values). */
export interface KnownMachineView {
  /** `user@host[:port]`: the name jobs and events use. */
  id: string;
  host: string;
  port: number;
  username: string;
  auth: ProvisionAuthMethod;
  keyPath?: string;
  role: NodeRole;
  labels: Labels;
  managerHost?: string;
  /** The cluster node it became. */
  nodeId?: string;
  /** When it was last provisioned (ISO 8601). */
  provisionedAt: string;
  remembered: { password: boolean; passphrase: boolean; sudoPassword: boolean };
}

export interface MachinesView {
  machines: KnownMachineView[];
  /** Whether remembered secrets survive a restart (the OS keychain through safeStorage) or last this run only. */
  secretsPersistent: boolean;
}

export interface ProvisioningApi {
  /** Starts a job and answers at once; progress comes as `provision` events with this job id. */
  startProvisioning(request: StartProvisioningRequest): Promise<ProvisionJobRef>;
  cancelProvisioning(request: ProvisionJobRef): Promise<void>;
  /** Every job of this app run, with its steps, recent output and outcome (for a reloaded window). */
  listProvisioningJobs(): Promise<{ jobs: import('./main/provision/service').ProvisionJobView[] }>;
  /** The machines provisioned from this app. */
  listMachines(): Promise<MachinesView>;
  /** Drops a machine from the list and its remembered secrets, without touching the machine or the cluster. */
  forgetMachine(request: { machineId: string }): Promise<void>;
}

export const PROVISIONING_METHODS = ['startProvisioning', 'cancelProvisioning', 'listProvisioningJobs', 'listMachines', 'forgetMachine'] as const satisfies readonly (keyof ProvisioningApi)[];

// ---------------------------------------------------------------------------------------------------
// Events (main -> renderer)
// ---------------------------------------------------------------------------------------------------

export type SwarmdeskEvent =
  | { kind: 'local-node'; state: LocalNodeState }
  /**
   * Store changes since `fromRevision` (exclusive) up to `revision`, batched (at most a few per second),
   * coalesced per object (the latest version only). A large batch arrives in several events with the
   * same `fromRevision`: all but the last have `revision === fromRevision` (part of the range), the last
   * one carries the new revision. `cluster` is present when the summary changed (leader, reachable managers).
   * Events with `revision === fromRevision` also come without any store change: cluster health, a manager's
   * live reachability, counts. So apply every event whose `fromRevision` is at most the revision you hold
   * and whose `revision` is at least it (drop only `revision <` yours; resubscribe on a gap). */
  | { kind: 'changes'; fromRevision: number; revision: number; cluster?: ClusterSummary; changes: ObjectChange[] }
  /** The change stream broke (e.g. this manager lost its store): call `subscribeCluster` again. */
  | { kind: 'resync'; reason: string }
  | { kind: 'logs'; subscriptionId: string; lines: LogLine[] }
  | { kind: 'logs-end'; subscriptionId: string; error?: ContractError }
  /** A provisioning job's progress: a step, a line of remote output, or its outcome (`finished`). */
  | { kind: 'provision'; jobId: string; jobKind: import('./main/provision/service').ProvisionJobKind; event: import('./main/provision/steps').ProvisionEvent };

// ---------------------------------------------------------------------------------------------------
// The wire: what the preload exposes, and what browser mode sends over its WebSocket
// ---------------------------------------------------------------------------------------------------

/** The preload's `window.swarmdesk`: each method answers an IpcResult instead of throwing. */
export type SwarmdeskBridge = {
  [M in ApiMethod]: (...args: Parameters<SwarmdeskApi[M]>) => Promise<IpcResult<ApiResponse<M>>>;
} & {
  /** Listen to main-process events; returns the function that stops listening. */
  onEvent(listener: (event: SwarmdeskEvent) => void): () => void;
};

export const API_METHODS = [
  'getAppInfo',
  'getLocalNode',
  'listAddresses',
  'createCluster',
  'joinCluster',
  'setRunTasks',
  'subscribeCluster',
  'unsubscribeCluster',
  'getJoinTokens',
  'rotateJoinToken',
  'setNodeAvailability',
  'setNodeRole',
  'setNodeLabels',
  'removeNode',
  'createService',
  'updateService',
  'scaleService',
  'rollbackService',
  'removeService',
  'startLogs',
  'stopLogs',
  'getSettings',
  'updateSettings',
  ...PROVISIONING_METHODS,
] as const satisfies readonly ApiMethod[];

// The list above must name every method: this fails to compile if one is missing.
type UnlistedMethods = Exclude<ApiMethod, (typeof API_METHODS)[number]>;
const EVERY_METHOD_LISTED: [UnlistedMethods] extends [never] ? true : UnlistedMethods = true;
void EVERY_METHOD_LISTED;

/** IPC channel of each method: `swarmdesk:<method>`. */
export const IPC_CHANNELS: { readonly [M in ApiMethod]: `swarmdesk:${M}` } = Object.freeze(
  Object.fromEntries(API_METHODS.map((method) => [method, `swarmdesk:${method}`])) as { [M in ApiMethod]: `swarmdesk:${M}` },
);

/** The one channel main-process events travel on. */
export const EVENT_CHANNEL = 'swarmdesk:event';

/**
 * The same events as JSON text (the cluster feed's, encoded in the node's worker): the preload parses
 * them, so the main process neither decodes a batch of thousands of tasks nor clones it again.
 */
export const EVENT_JSON_CHANNEL = 'swarmdesk:event-json';

/** An IPC answer whose value crosses as JSON text (the cluster snapshot); the preload parses it. */
export interface IpcJsonResult {
  ok: true;
  valueJson: string;
}

export function isIpcJsonResult(value: unknown): value is IpcJsonResult {
  return typeof value === 'object' && value !== null && (value as { ok?: unknown }).ok === true && typeof (value as { valueJson?: unknown }).valueJson === 'string';
}

/** Browser mode's WebSocket messages. The first message a client sends is `{ type: 'hello', token }`. */
export type BridgeRequest = { type: 'hello'; token: string } | { type: 'call'; id: number; method: ApiMethod; argument?: unknown };
export type BridgeResponse = { type: 'ready' } | { type: 'result'; id: number; result: IpcResult<unknown> } | { type: 'event'; event: SwarmdeskEvent };
