/** The leader's dispatcher: node sessions, heartbeats, node status, and the task channel (see dispatcher.ts). */
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
export { type AssignmentsSink, type AssignmentsStream, AssignmentStreams, stableKey } from './assignments';
export { peerIp } from './peer-address';
export { DEFAULT_REGISTRATION_LIMIT, type RegistrationLimit, RegistrationLimiter } from './registration-limit';
export { addDispatcherService, dispatcherServiceDefinition, type DispatcherServiceOptions } from './service';
export { applyStatusUpdate, type IgnoredReason, type NodeStatusUpdate, NodeStatusWriter, TaskStatusWriter } from './status-writer';
