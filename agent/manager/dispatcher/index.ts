/** The leader's dispatcher: node sessions, heartbeats and node status (see dispatcher.ts). */
export {
  DEFAULT_GRACE_PERIOD_MULTIPLIER,
  DEFAULT_UNKNOWN_GRACE_PERIOD_MULTIPLIER,
  Dispatcher,
  type DispatcherOptions,
  HEARTBEAT_FAILURE_MESSAGE,
  LEADERSHIP_CHANGE_MESSAGE,
  type OpenSession,
  type SessionRegistration,
  type SessionSink,
  UNKNOWN_HEARTBEAT_FAILURE_MESSAGE,
} from './dispatcher';
export { peerIp } from './peer-address';
export { addDispatcherService, dispatcherServiceDefinition, type DispatcherServiceOptions } from './service';
export { applyStatusUpdate, type NodeStatusUpdate, NodeStatusWriter } from './status-writer';
