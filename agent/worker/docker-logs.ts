/**
 * The log broker's view of a node's containers: a task's container found by its task-ID label, read
 * through the executor's log line splitter (executor/logs.ts).
 */
import type Docker from 'dockerode';
import type { LogOptions } from '../api/logs';
import { MAX_LINE_BYTES } from '../api/logs';
import { logLines } from './executor/logs';
import type { ContainerLogLine, LogSource } from './log-publisher';

export const TASK_ID_LABEL = 'com.docker.swarm.task.id';

export class DockerLogSource implements LogSource {
  constructor(private readonly docker: Docker) {}

  async *read(taskId: string, options: LogOptions, signal: AbortSignal): AsyncIterable<ContainerLogLine> {
    const [found] = await this.docker.listContainers({ all: true, filters: { label: [`${TASK_ID_LABEL}=${taskId}`] } });
    if (found === undefined) return;
    const container = this.docker.getContainer(found.Id);
    const tty = (await container.inspect()).Config.Tty;
    const common = { stdout: true, stderr: true, timestamps: true, abortSignal: signal, ...(options.tail === undefined ? {} : { tail: options.tail }) };
    const source: AsyncIterable<Buffer | string> = options.follow
      ? ((await container.logs({ ...common, follow: true })) as AsyncIterable<Buffer | string>)
      : (async function* () {
          yield await container.logs({ ...common, follow: false });
        })();
    try {
      for await (const line of logLines(source, !tty, true)) {
        yield { stream: line.stream, timestamp: line.timestamp ?? new Date().toISOString(), data: line.text.slice(0, MAX_LINE_BYTES) };
      }
    } catch (err) {
      if (!signal.aborted) throw err;
    }
  }
}
