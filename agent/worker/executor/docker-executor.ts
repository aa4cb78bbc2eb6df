/**
 * The executor on a Docker Engine through dockerode (SwarmKit's daemon/cluster/executor/container).
 *
 * Image: used as it is when the engine has it, pulled otherwise. When the pull fails (no registry can
 * be reached, a name that does not exist) the create is still tried, as Docker's own executor does,
 * and its error ("No such image: ...") becomes the task's, with the pull's reason beside it.
 *
 * Containers are found by name (`<service>.<slot>.<task id>`, unique per task) and, after a restart,
 * by the node label (list()). Two clients: calls that answer at once get a timeout, calls that last
 * as long as a container does (wait, stop with its grace, pull, followed logs) get none.
 *
 * Failures that say nothing about the container (the engine not reached, the connection broken, a 5xx
 * answering a read) are EngineUnavailableError, which the task runner retries for a while; Docker
 * refusing to create or start a container stays an ExecutorError, the task's own failure.
 */
import type { IncomingMessage } from 'node:http';
import type Docker from 'dockerode';
import type { Task } from '../../api/objects';
import { type ComponentLogger, silentLogger } from '../../runtime';
import { createEngineClient } from '../engine';
import { boundPorts, containerName, createOptions, LABEL_NODE_ID, LABEL_TASK_ID, stopTimeoutSeconds } from './container-config';
import { dockerMessage, isConflict, isConnectionError, isNotFound, isNotModified, isServerError } from './docker-errors';
import { type ContainerExit, EngineUnavailableError, type Executor, ExecutorError, type RuntimeContainer, type RuntimeStatus } from './executor';
import { type LogLine, logLines, type LogOptions } from './logs';

/** For calls that answer at once; creating a container on vfs copies its image, so not too tight. */
export const DEFAULT_ENGINE_CALL_TIMEOUT_MS = 30_000;

export interface DockerExecutorOptions {
  /** This node: containers are labelled with it, and list() finds only those. */
  nodeId: string;
  /** swarmd's --engine-addr (unix://..., tcp://..., a socket path); dockerode's default when absent. */
  engineAddr?: string;
  callTimeoutMs?: number;
  logger?: ComponentLogger;
}

interface PullOutcome {
  error?: string;
}

interface WaitBody {
  StatusCode?: number;
  Error?: { Message?: string } | null;
}

/**
 * The error a failed engine call becomes. A 5xx is the engine's own trouble only for reads (inspect,
 * wait, list): from create or start it is Docker refusing the container, the task's failure.
 */
function engineError(err: unknown, call: 'read' | 'write'): ExecutorError {
  if (isConnectionError(err)) return new EngineUnavailableError(`cannot reach the Docker Engine: ${dockerMessage(err)}`);
  if (call === 'read' && isServerError(err)) return new EngineUnavailableError(dockerMessage(err));
  return new ExecutorError(dockerMessage(err));
}

function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new DOMException('aborted', 'AbortError');
}

export class DockerExecutor implements Executor {
  readonly nodeId: string;
  private readonly api: Docker;
  private readonly long: Docker;
  private readonly logger: ComponentLogger;

  constructor(options: DockerExecutorOptions) {
    this.nodeId = options.nodeId;
    this.api = createEngineClient(options.engineAddr, options.callTimeoutMs ?? DEFAULT_ENGINE_CALL_TIMEOUT_MS);
    // docker-modem's timeout is a socket idle timeout: a wait would hit it while the container runs.
    this.long = createEngineClient(options.engineAddr, 0);
    this.logger = options.logger ?? silentLogger;
  }

  async list(): Promise<RuntimeContainer[]> {
    let containers: Docker.ContainerInfo[];
    try {
      containers = await this.api.listContainers({ all: true, filters: { label: [`${LABEL_NODE_ID}=${this.nodeId}`] } });
    } catch (err) {
      throw engineError(err, 'read');
    }
    const found: RuntimeContainer[] = [];
    for (const c of containers) {
      const taskId = c.Labels[LABEL_TASK_ID];
      if (taskId === undefined || taskId === '') continue;
      found.push({ taskId, containerId: c.Id, name: (c.Names[0] ?? '').replace(/^\//, ''), running: c.State === 'running' });
    }
    return found;
  }

  async prepare(task: Task, signal?: AbortSignal): Promise<void> {
    const name = containerName(task);
    if (await this.exists(name)) return;
    const image = task.spec.container.image;
    let pull: PullOutcome = {};
    if (!(await this.hasImage(image))) {
      if (signal?.aborted === true) throw abortError(signal);
      this.logger.info('pulling image', { taskId: task.id, image });
      pull = await this.pull(image, signal);
      if (pull.error !== undefined) this.logger.warn('image pull failed', { taskId: task.id, image, error: pull.error });
    }
    try {
      await this.api.createContainer(createOptions(task));
    } catch (err) {
      if (isConflict(err) && (await this.exists(name))) return; // created meanwhile by an earlier attempt
      if (isConnectionError(err)) throw engineError(err, 'write');
      const message = dockerMessage(err);
      throw new ExecutorError(pull.error === undefined ? message : `${message} (pull failed: ${pull.error})`);
    }
  }

  async start(task: Task): Promise<RuntimeStatus> {
    const container = this.api.getContainer(containerName(task));
    try {
      await container.start();
    } catch (err) {
      if (!isNotModified(err)) throw engineError(err, 'write');
    }
    const status = await this.inspect(task);
    if (status === undefined) throw new ExecutorError(`container ${containerName(task)} disappeared after it started`);
    return { containerStatus: status.containerStatus, ports: status.ports };
  }

  async wait(task: Task, signal: AbortSignal): Promise<ContainerExit> {
    if (signal.aborted) throw abortError(signal);
    let result: WaitBody;
    try {
      result = await this.waitRequest(containerName(task), signal);
    } catch (err) {
      if (signal.aborted) throw abortError(signal);
      throw engineError(err, 'read');
    }
    const exit: ContainerExit = { exitCode: result.StatusCode ?? -1 };
    const error = result.Error?.Message;
    if (error !== undefined && error !== '') exit.error = error;
    return exit;
  }

  async inspect(task: Task): Promise<(RuntimeStatus & { running: boolean }) | undefined> {
    let info: Docker.ContainerInspectInfo;
    try {
      info = await this.api.getContainer(containerName(task)).inspect();
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw engineError(err, 'read');
    }
    return {
      containerStatus: { containerId: info.Id, pid: info.State.Pid, exitCode: info.State.ExitCode },
      ports: boundPorts(info.NetworkSettings.Ports),
      running: info.State.Running,
    };
  }

  async shutdown(task: Task): Promise<void> {
    try {
      // The signal is the container's StopSignal, set at create from the task spec.
      await this.long.getContainer(containerName(task)).stop({ t: stopTimeoutSeconds(task) });
    } catch (err) {
      if (isNotModified(err) || isNotFound(err)) return;
      throw engineError(err, 'write');
    }
  }

  async remove(container: string): Promise<void> {
    try {
      await this.long.getContainer(container).remove({ force: true, v: true });
    } catch (err) {
      // 409: a removal of the same container is already in progress.
      if (isNotFound(err) || isConflict(err)) return;
      throw engineError(err, 'write');
    }
  }

  /** The task's container logs as lines; with follow, until the container stops or `signal` fires. */
  async logs(task: Task, options: LogOptions = {}): Promise<AsyncIterable<LogLine>> {
    const container = this.long.getContainer(containerName(task));
    let tty: boolean;
    try {
      tty = (await container.inspect()).Config.Tty;
    } catch (err) {
      throw new ExecutorError(dockerMessage(err));
    }
    const common: Docker.ContainerLogsOptions = {
      stdout: true,
      stderr: true,
      timestamps: options.timestamps ?? false,
      since: options.since ?? 0,
      abortSignal: options.signal,
    };
    if (options.tail !== undefined) common.tail = options.tail;
    let source: AsyncIterable<Buffer | string>;
    try {
      if (options.follow === true) source = await container.logs({ ...common, follow: true });
      else {
        const all = await container.logs({ ...common, follow: false });
        source = (async function* () {
          yield all;
        })();
      }
    } catch (err) {
      throw new ExecutorError(dockerMessage(err));
    }
    return logLines(source, !tty, options.timestamps ?? false);
  }

  /**
   * POST /containers/{name}/wait, its answer read here: dockerode's wait() never settles when the
   * connection breaks after the headers came (the engine restarting while the container runs), which
   * would leave the task unwatched for good. A break rejects, so the runner can wait again.
   */
  private waitRequest(name: string, signal: AbortSignal): Promise<WaitBody> {
    return new Promise<WaitBody>((resolve, reject) => {
      const options = {
        path: `/containers/${name}/wait?`,
        method: 'POST',
        isStream: true,
        abortSignal: signal,
        statusCodes: { 200: true, 400: 'bad parameter', 404: 'no such container', 500: 'server error' },
        options: {},
      };
      this.long.modem.dial(options, (err, result) => {
        if (err !== null) {
          reject(err);
          return;
        }
        const res = result as IncomingMessage;
        const chunks: Buffer[] = [];
        let ended = false;
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          ended = true;
          const text = Buffer.concat(chunks).toString('utf8');
          try {
            resolve(JSON.parse(text) as WaitBody);
          } catch {
            reject(new Error(`the engine's answer to wait is not JSON: ${text.slice(0, 200)}`));
          }
        });
        res.on('error', (e) => {
          if (!ended) reject(e);
        });
        res.on('close', () => {
          if (!ended) reject(Object.assign(new Error('the connection to the engine was lost while waiting on the container'), { code: 'ECONNRESET' }));
        });
      });
    });
  }

  // -------------------------------------------------------------------------------------------- images

  private async exists(name: string): Promise<boolean> {
    try {
      await this.api.getContainer(name).inspect();
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw engineError(err, 'read');
    }
  }

  private async hasImage(image: string): Promise<boolean> {
    try {
      await this.api.getImage(image).inspect();
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw engineError(err, 'read');
    }
  }

  /** Pulls `image`; the outcome carries the engine's error instead of throwing it (create decides). */
  private async pull(image: string, signal?: AbortSignal): Promise<PullOutcome> {
    let stream: NodeJS.ReadableStream;
    try {
      stream = (await this.long.pull(image, { abortSignal: signal })) as NodeJS.ReadableStream;
    } catch (err) {
      return { error: dockerMessage(err) };
    }
    return new Promise<PullOutcome>((resolve) => {
      this.long.modem.followProgress(stream, (err: Error | null, output: { error?: string; errorDetail?: { message?: string } }[]) => {
        if (err) {
          resolve({ error: dockerMessage(err) });
          return;
        }
        // A pull that starts streaming reports its failure as a progress line.
        const failed = output.find((o) => o.error !== undefined);
        resolve(failed === undefined ? {} : { error: failed.errorDetail?.message ?? failed.error });
      });
    });
  }
}
