/** Running tasks' containers: the executor interface and its Docker implementation. */
export {
  boundPorts,
  containerLabels,
  containerName,
  createOptions,
  DEFAULT_STOP_GRACE_PERIOD_MS,
  hostPorts,
  LABEL_NODE_ID,
  LABEL_SERVICE_ID,
  LABEL_SERVICE_NAME,
  LABEL_TASK,
  LABEL_TASK_ID,
  LABEL_TASK_NAME,
  LABEL_TASK_SLOT,
  stopTimeoutSeconds,
} from './container-config';
export { DEFAULT_ENGINE_CALL_TIMEOUT_MS, DockerExecutor, type DockerExecutorOptions } from './docker-executor';
export { dockerMessage, isConnectionError } from './docker-errors';
export { type ContainerExit, EngineUnavailableError, type Executor, ExecutorError, type RuntimeContainer, type RuntimeStatus } from './executor';
export { type LogLine, logLines, type LogOptions } from './logs';
