/**
 * Container logs from the Docker Engine, as lines for the log broker. Docker multiplexes stdout and
 * stderr of a container without a TTY into frames (an 8-byte header: stream 1 or 2, three zero bytes,
 * a big-endian payload length); with `timestamps` every line starts with an RFC 3339 time and a space.
 */
import type Docker from 'dockerode';
import type { LogOptions } from '../api/logs';
import { MAX_LINE_BYTES } from '../api/logs';
import type { ContainerLogLine, LogSource } from './log-publisher';

export const TASK_ID_LABEL = 'com.docker.swarm.task.id';

type StreamName = ContainerLogLine['stream'];

/** Splits Docker's log output into lines; feed it chunks as they come. */
export class DockerLogDemuxer {
  private pending: Buffer = Buffer.alloc(0);
  private readonly partial: Record<StreamName, string> = { stdout: '', stderr: '' };

  constructor(private readonly tty: boolean) {}

  push(chunk: Buffer): ContainerLogLine[] {
    if (this.tty) return this.lines('stdout', chunk.toString('utf8'));
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const out: ContainerLogLine[] = [];
    while (this.pending.length >= 8) {
      const size = this.pending.readUInt32BE(4);
      if (this.pending.length < 8 + size) break;
      const stream: StreamName = this.pending[0] === 2 ? 'stderr' : 'stdout';
      out.push(...this.lines(stream, this.pending.subarray(8, 8 + size).toString('utf8')));
      this.pending = this.pending.subarray(8 + size);
    }
    return out;
  }

  /** Whatever was left without a final newline. */
  end(): ContainerLogLine[] {
    const out: ContainerLogLine[] = [];
    for (const stream of ['stdout', 'stderr'] as const) {
      if (this.partial[stream] !== '') out.push(parseLine(stream, this.partial[stream]));
      this.partial[stream] = '';
    }
    return out;
  }

  private lines(stream: StreamName, text: string): ContainerLogLine[] {
    const parts = (this.partial[stream] + text).split('\n');
    this.partial[stream] = parts.pop() ?? '';
    return parts.map((line) => parseLine(stream, line));
  }
}

function parseLine(stream: StreamName, line: string): ContainerLogLine {
  const space = line.indexOf(' ');
  const stamp = space > 0 ? line.slice(0, space) : '';
  const hasTime = /^\d{4}-\d{2}-\d{2}T/.test(stamp);
  const data = (hasTime ? line.slice(space + 1) : line).replace(/\r$/, '');
  return { stream, timestamp: hasTime ? stamp : new Date().toISOString(), data: data.length > MAX_LINE_BYTES ? data.slice(0, MAX_LINE_BYTES) : data };
}

export class DockerLogSource implements LogSource {
  constructor(private readonly docker: Docker) {}

  async *read(taskId: string, options: LogOptions, signal: AbortSignal): AsyncIterable<ContainerLogLine> {
    const [found] = await this.docker.listContainers({ all: true, filters: { label: [`${TASK_ID_LABEL}=${taskId}`] } });
    if (found === undefined) return;
    const container = this.docker.getContainer(found.Id);
    const tty = (await container.inspect()).Config.Tty;
    const demuxer = new DockerLogDemuxer(tty);
    const common = { stdout: true, stderr: true, timestamps: true, ...(options.tail === undefined ? {} : { tail: options.tail }) };
    if (!options.follow) {
      const output = await container.logs({ ...common, follow: false });
      yield* demuxer.push(Buffer.isBuffer(output) ? output : Buffer.from(String(output)));
      yield* demuxer.end();
      return;
    }
    const stream: NodeJS.ReadableStream = await container.logs({ ...common, follow: true });
    const onAbort = () => (stream as NodeJS.ReadableStream & { destroy(): void }).destroy();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      for await (const chunk of stream as AsyncIterable<Buffer | string>) yield* demuxer.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
      yield* demuxer.end();
    } catch (err) {
      if (!signal.aborted) throw err;
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }
}
