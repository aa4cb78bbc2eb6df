/** The node side of the dispatcher protocol: the session every node keeps with the leader, and what it reports. */
export { Backoff, HEARTBEAT_JITTER, INITIAL_BACKOFF_MS, jitteredHeartbeatMs, MAX_BACKOFF_MS } from './backoff';
export { type DescribeNodeOptions, describeNode, dockerArch, dockerOs, type HostFacts, nodeHost } from './description';
export { createEngineClient, DEFAULT_ENGINE_TIMEOUT_MS, type EngineClient, engineOptions } from './engine';
export {
  DEFAULT_RPC_TIMEOUT_MS,
  DEFAULT_SESSION_OPEN_TIMEOUT_MS,
  DispatcherSession,
  type DispatcherSessionOptions,
  MAX_IMMEDIATE_REDIRECTS,
} from './session';
