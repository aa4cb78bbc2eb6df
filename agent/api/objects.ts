/**
 * The cluster object model, after SwarmKit's api/objects.proto and api/specs.proto, trimmed to what
 * swarmdesk uses. Objects are plain JSON data (they are replicated through Raft as JSON and frozen in the
 * store): no Dates, no Uint8Arrays, no class instances, no undefined-vs-missing distinctions. Durations
 * are integer milliseconds (field names end in `Ms`), timestamps are ISO-8601 strings, bytes are base64.
 *
 * Extending: add optional fields freely (old entries and snapshots stay readable). A new kind needs an
 * entry in `ObjectKinds` and `KINDS` here, and its indexes in agent/store/schema.ts.
 */

/** `version` is the Raft index of the entry that last wrote the object (SwarmKit's meta.version.index). */
export interface Meta {
  version: number;
  createdAt: string;
  updatedAt: string;
}

export type Labels = Record<string, string>;

/** The common shape of every stored object. */
export interface ApiObject<S, T> {
  id: string;
  meta: Meta;
  spec: S;
  status: T;
}

/** For kinds that SwarmKit gives no status; kept as an object so a later issue can add fields. */
export type NoStatus = Record<string, never>;

// ---------------------------------------------------------------------------------------------------
// Task states
// ---------------------------------------------------------------------------------------------------

/**
 * SwarmKit's task states with SwarmKit's wire values, so `state < TaskState.RUNNING` means "not yet
 * running" exactly as in SwarmKit. Note SwarmKit orders REMOVE (800) before ORPHANED (832).
 */
export const TaskState = {
  NEW: 0,
  PENDING: 64,
  ASSIGNED: 192,
  ACCEPTED: 256,
  PREPARING: 320,
  READY: 384,
  STARTING: 448,
  RUNNING: 512,
  COMPLETE: 576,
  SHUTDOWN: 640,
  FAILED: 704,
  REJECTED: 768,
  REMOVE: 800,
  ORPHANED: 832,
} as const;
export type TaskStateName = keyof typeof TaskState;
export type TaskState = (typeof TaskState)[TaskStateName];

/** All states in ascending order. */
export const TASK_STATES: readonly TaskState[] = Object.values(TaskState).sort((a, b) => a - b);

const TASK_STATE_NAMES = new Map<number, TaskStateName>(
  (Object.keys(TaskState) as TaskStateName[]).map((name) => [TaskState[name], name]),
);

export function taskStateName(state: TaskState): TaskStateName {
  const name = TASK_STATE_NAMES.get(state);
  if (name === undefined) throw new RangeError(`unknown task state ${String(state)}`);
  return name;
}

export function isTaskState(value: unknown): value is TaskState {
  return typeof value === 'number' && TASK_STATE_NAMES.has(value);
}

// ---------------------------------------------------------------------------------------------------
// Node
// ---------------------------------------------------------------------------------------------------

export type NodeRole = 'worker' | 'manager';
export type NodeAvailability = 'active' | 'pause' | 'drain';
export type NodeState = 'unknown' | 'down' | 'ready' | 'disconnected';
export type Reachability = 'unknown' | 'unreachable' | 'reachable';

export interface NodeSpec {
  /** Operator-chosen name; when empty the node is known by its hostname. */
  name?: string;
  labels: Labels;
  /** Desired role (SwarmKit's DesiredRole); the current role is `Node.role`. */
  role: NodeRole;
  availability: NodeAvailability;
}

export interface NodeStatus {
  state: NodeState;
  message: string;
  /** The address the node connects from, as seen by the manager. */
  addr: string;
}

export interface Platform {
  os: string;
  arch: string;
}

export interface Resources {
  nanoCpus: number;
  memoryBytes: number;
}

export interface EngineDescription {
  version: string;
  labels: Labels;
}

export interface NodeDescription {
  hostname: string;
  platform: Platform;
  resources: Resources;
  engine?: EngineDescription;
}

export interface ManagerStatus {
  raftId: number;
  addr: string;
  leader: boolean;
  reachability: Reachability;
}

export type CertificateState = 'pending' | 'issued' | 'renew' | 'failed';

export interface NodeCertificate {
  role: NodeRole;
  /** Common name: the node id. */
  cn: string;
  state: CertificateState;
  certificatePem?: string;
  csrPem?: string;
  message?: string;
}

export interface Node extends ApiObject<NodeSpec, NodeStatus> {
  /** The role the node currently has (may lag `spec.role` while a promotion/demotion is reconciled). */
  role: NodeRole;
  description?: NodeDescription;
  managerStatus?: ManagerStatus;
  certificate?: NodeCertificate;
}

// ---------------------------------------------------------------------------------------------------
// Service and task specs
// ---------------------------------------------------------------------------------------------------

export type ServiceMode = { replicated: { replicas: number } } | { global: Record<string, never> };

export interface SecretReference {
  secretId: string;
  secretName: string;
  /** Where the secret appears in the container (file target under /run/secrets). */
  target: { name: string; uid?: string; gid?: string; mode?: number };
}

export interface Mount {
  type: 'bind' | 'volume' | 'tmpfs';
  source?: string;
  target: string;
  readOnly?: boolean;
}

export interface ContainerSpec {
  image: string;
  labels?: Labels;
  command?: string[];
  args?: string[];
  hostname?: string;
  /** KEY=value pairs, as Docker takes them. */
  env?: string[];
  dir?: string;
  user?: string;
  tty?: boolean;
  mounts?: Mount[];
  secrets?: SecretReference[];
  stopGracePeriodMs?: number;
  stopSignal?: string;
}

export interface ResourceRequirements {
  limits?: Partial<Resources>;
  reservations?: Partial<Resources>;
}

export interface RestartPolicy {
  condition: 'none' | 'on-failure' | 'any';
  delayMs: number;
  /** 0 means unlimited. */
  maxAttempts: number;
  windowMs: number;
}

/** Spread a service's tasks evenly over the values of a node label (`--placement-pref spread=node.labels.zone`). */
export interface PlacementPreference {
  spread: { descriptor: string };
}

export interface Placement {
  /** Expressions such as `node.role==manager`, `node.labels.zone!=b`. */
  constraints: string[];
  /** Applied in order: the first splits tasks over its label's values, the next within each of those. */
  preferences?: PlacementPreference[];
  platforms?: Platform[];
  maxReplicasPerNode?: number;
}

export interface NetworkAttachmentConfig {
  target: string;
  aliases?: string[];
}

export interface TaskSpec {
  container: ContainerSpec;
  resources?: ResourceRequirements;
  restart?: RestartPolicy;
  placement?: Placement;
  networks?: NetworkAttachmentConfig[];
  /** Bumped to force a rolling update without other changes. */
  forceUpdate?: number;
}

export interface UpdateConfig {
  parallelism: number;
  delayMs: number;
  failureAction: 'pause' | 'continue' | 'rollback';
  monitorMs: number;
  maxFailureRatio: number;
  order: 'stop-first' | 'start-first';
}

export interface PortConfig {
  name?: string;
  protocol: 'tcp' | 'udp' | 'sctp';
  targetPort: number;
  publishedPort?: number;
  publishMode: 'ingress' | 'host';
}

export interface EndpointSpec {
  mode: 'vip' | 'dnsrr';
  ports: PortConfig[];
}

export interface ServiceSpec {
  name: string;
  labels: Labels;
  mode: ServiceMode;
  task: TaskSpec;
  update?: UpdateConfig;
  rollback?: UpdateConfig;
  endpoint?: EndpointSpec;
}

export type UpdateState =
  | 'updating'
  | 'paused'
  | 'completed'
  | 'rollback_started'
  | 'rollback_paused'
  | 'rollback_completed';

export interface UpdateStatus {
  state: UpdateState;
  startedAt?: string;
  completedAt?: string;
  message: string;
}

export interface ServiceStatus {
  updateStatus?: UpdateStatus;
}

export interface Endpoint {
  spec: EndpointSpec;
  ports: PortConfig[];
  virtualIps: { networkId: string; addr: string }[];
}

export interface Service extends ApiObject<ServiceSpec, ServiceStatus> {
  /** Incremented on every spec change; tasks record the one they were created from. */
  specVersion: number;
  previousSpec?: ServiceSpec;
  endpoint?: Endpoint;
  /** Set while the service's tasks are being shut down before the service is removed. */
  pendingDelete?: boolean;
}

// ---------------------------------------------------------------------------------------------------
// Task
// ---------------------------------------------------------------------------------------------------

export interface ContainerStatus {
  containerId: string;
  pid: number;
  exitCode: number;
}

export interface PortStatus {
  ports: PortConfig[];
}

export interface TaskStatus {
  state: TaskState;
  /** Human-readable summary of the last transition ("started", "preparing", ...). */
  message: string;
  err?: string;
  /** When the agent (or manager) observed `state`. */
  timestamp: string;
  containerStatus?: ContainerStatus;
  portStatus?: PortStatus;
}

export interface NetworkAttachment {
  networkId: string;
  addresses: string[];
  aliases?: string[];
}

export interface Task extends ApiObject<TaskSpec, TaskStatus> {
  serviceId: string;
  /** 1-based replica slot of a replicated service; 0 for global services (identified by nodeId). */
  slot: number;
  /** Empty until the scheduler assigns the task. */
  nodeId: string;
  desiredState: TaskState;
  serviceAnnotations: { name: string; labels: Labels };
  /** The service's specVersion this task was created from. */
  specVersion?: number;
  /** Task name as Docker shows it (`web.3.<id>`); derived, not indexed. */
  name?: string;
  networks?: NetworkAttachment[];
  endpoint?: Endpoint;
}

// ---------------------------------------------------------------------------------------------------
// Network
// ---------------------------------------------------------------------------------------------------

export interface Driver {
  name: string;
  options?: Record<string, string>;
}

export interface IpamConfig {
  subnet: string;
  range?: string;
  gateway?: string;
}

export interface IpamOptions {
  driver?: Driver;
  configs: IpamConfig[];
}

export interface NetworkSpec {
  name: string;
  labels: Labels;
  driver?: Driver;
  ipam?: IpamOptions;
  internal?: boolean;
  attachable?: boolean;
  ingress?: boolean;
}

export interface NetworkStatus {
  driverState?: Driver;
  /** What the allocator actually assigned. */
  ipam?: IpamOptions;
}

export type Network = ApiObject<NetworkSpec, NetworkStatus>;

// ---------------------------------------------------------------------------------------------------
// Secret
// ---------------------------------------------------------------------------------------------------

export interface SecretSpec {
  name: string;
  labels: Labels;
  /**
   * The secret payload, base64-encoded. Never log it, never put it in an error message; list views
   * should strip it (see `redactSecret`).
   */
  data: string;
  driver?: Driver;
}

export interface Secret extends ApiObject<SecretSpec, NoStatus> {
  /** Created by the cluster itself (SwarmKit's `internal`); hidden from users. */
  internal?: boolean;
}

/** A copy of a secret without its payload, for listing, logging and the UI. */
export function redactSecret(secret: Secret): Secret {
  return { ...secret, spec: { ...secret.spec, data: '' } };
}

// ---------------------------------------------------------------------------------------------------
// Cluster
// ---------------------------------------------------------------------------------------------------

export interface ClusterSpec {
  name: string;
  labels: Labels;
  orchestration: { taskHistoryRetentionLimit: number };
  dispatcher: { heartbeatPeriodMs: number };
  caConfig: { nodeCertExpiryMs: number };
}

export interface JoinTokens {
  worker: string;
  manager: string;
}

export interface RootCa {
  caCertPem: string;
  joinTokens: JoinTokens;
}

export interface Cluster extends ApiObject<ClusterSpec, NoStatus> {
  rootCa: RootCa;
}

// ---------------------------------------------------------------------------------------------------
// Kinds
// ---------------------------------------------------------------------------------------------------

/** Kind name -> object type. The store, its events and its indexes are all keyed by this map. */
export interface ObjectKinds {
  node: Node;
  service: Service;
  task: Task;
  network: Network;
  secret: Secret;
  cluster: Cluster;
}

export type Kind = keyof ObjectKinds;

/** Canonical order of kinds (snapshots are written in this order). */
export const KINDS: readonly Kind[] = ['node', 'service', 'task', 'network', 'secret', 'cluster'];

export type AnyObject = ObjectKinds[Kind];

export function isKind(value: unknown): value is Kind {
  return typeof value === 'string' && (KINDS as readonly string[]).includes(value);
}
