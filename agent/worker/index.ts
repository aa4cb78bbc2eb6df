/** The node side of the dispatcher protocol: the session every node keeps with the leader, what it reports, and its tasks. */
export { Backoff, HEARTBEAT_JITTER, INITIAL_BACKOFF_MS, jitteredHeartbeatMs, MAX_BACKOFF_MS } from './backoff';
export { type DescribeNodeOptions, describeNode, dockerArch, dockerOs, type HostFacts, nodeHost } from './description';
export { createEngineClient, DEFAULT_ENGINE_TIMEOUT_MS, type EngineClient, engineOptions } from './engine';
export {
  DEFAULT_RPC_TIMEOUT_MS,
  DEFAULT_SESSION_OPEN_TIMEOUT_MS,
  DispatcherSession,
  type DispatcherSessionOptions,
  MAX_IMMEDIATE_REDIRECTS,
  type SessionLink,
} from './session';
export * from './executor';
export { TaskAgent, type TaskAgentOptions } from './task-agent';
export { DEFAULT_REPORT_RETRY_MS, DEFAULT_REPORT_TIMEOUT_MS, TaskChannel, type TaskChannelOptions } from './task-channel';
export { TaskManager, type TaskManagerOptions } from './task-manager';
export { exitError, TASK_STATUS_MESSAGES, TaskRunner, type TaskRunnerOptions } from './task-runner';
