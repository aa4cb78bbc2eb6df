/**
 * Container logs as lines. Docker sends a non-TTY container's logs multiplexed: frames of an 8-byte
 * header (stream 1 stdout / 2 stderr, then a big-endian length) and a payload; a TTY container's come
 * raw. With timestamps on, each line starts with an RFC 3339 time and a space.
 */
export interface LogLine {
  stream: 'stdout' | 'stderr';
  /** RFC 3339 with nanoseconds, as Docker wrote it; present when timestamps were asked for. */
  timestamp?: string;
  /** Without its trailing newline. */
  text: string;
}

export interface LogOptions {
  follow?: boolean;
  /** Only the last N lines (all when absent). */
  tail?: number;
  timestamps?: boolean;
  /** Unix seconds. */
  since?: number;
  signal?: AbortSignal;
}

const HEADER = 8;

function splitTimestamp(line: string, timestamps: boolean): { timestamp?: string; text: string } {
  if (!timestamps) return { text: line };
  const space = line.indexOf(' ');
  if (space <= 0) return { text: line };
  return { timestamp: line.slice(0, space), text: line.slice(space + 1) };
}

/** Turns a Docker log byte stream into lines; `multiplexed` is false for TTY containers. */
export async function* logLines(source: AsyncIterable<Buffer | string>, multiplexed: boolean, timestamps: boolean): AsyncGenerator<LogLine> {
  let buffer: Buffer = Buffer.alloc(0);
  const partial: Record<LogLine['stream'], string> = { stdout: '', stderr: '' };

  function* emit(stream: LogLine['stream'], chunk: string): Generator<LogLine> {
    const text = partial[stream] + chunk;
    const lines = text.split('\n');
    partial[stream] = lines.pop() ?? '';
    for (const line of lines) yield { stream, ...splitTimestamp(line, timestamps) };
  }

  for await (const raw of source) {
    const chunk = typeof raw === 'string' ? Buffer.from(raw) : raw;
    if (!multiplexed) {
      yield* emit('stdout', chunk.toString('utf8'));
      continue;
    }
    buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
    while (buffer.length >= HEADER) {
      const length = buffer.readUInt32BE(4);
      if (buffer.length < HEADER + length) break;
      const stream = buffer[0] === 2 ? 'stderr' : 'stdout';
      const payload = buffer.subarray(HEADER, HEADER + length).toString('utf8');
      buffer = buffer.subarray(HEADER + length);
      yield* emit(stream, payload);
    }
  }
  for (const stream of ['stdout', 'stderr'] as const) {
    if (partial[stream] !== '') yield { stream, ...splitTimestamp(partial[stream], timestamps) };
  }
}
