/** The container a task becomes (no engine needed), Docker's error text, and log demultiplexing. */
import { describe, expect, it } from 'vitest';
import { TaskState } from '../../agent/api/objects';
import { boundPorts, createOptions, dockerMessage, logLines, stopTimeoutSeconds } from '../../agent/worker/executor';
import { assignedTask } from './task-fixtures';

function frame(stream: 1 | 2, text: string): Buffer {
  const payload = Buffer.from(text);
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe('container configuration', () => {
  it('maps command to the entrypoint and args to CMD, and publishes only host-mode ports', () => {
    const task = assignedTask({
      desiredState: TaskState.RUNNING,
      container: { command: ['/bin/app'], args: ['--port', '80'], stopSignal: 'SIGINT', stopGracePeriodMs: 2500, labels: { team: 'a' } },
      ports: [
        { protocol: 'tcp', targetPort: 80, publishedPort: 8080, publishMode: 'host' },
        { protocol: 'udp', targetPort: 53, publishMode: 'host' },
        { protocol: 'tcp', targetPort: 443, publishedPort: 443, publishMode: 'ingress' },
      ],
    });
    const options = createOptions(task);
    expect(options.name).toBe(task.name);
    expect(options.Entrypoint).toEqual(['/bin/app']);
    expect(options.Cmd).toEqual(['--port', '80']);
    expect(options.StopSignal).toBe('SIGINT');
    expect(options.StopTimeout).toBe(3); // whole seconds, never shorter than asked
    expect(options.Labels?.team).toBe('a');
    expect(options.HostConfig?.PortBindings).toEqual({ '80/tcp': [{ HostIp: '', HostPort: '8080' }], '53/udp': [{ HostIp: '', HostPort: '' }] });
    expect(Object.keys(options.ExposedPorts ?? {})).toEqual(['80/tcp', '53/udp']);
  });

  it('defaults the stop grace to SwarmKit\'s 10 s', () => {
    expect(stopTimeoutSeconds(assignedTask())).toBe(10);
    expect(stopTimeoutSeconds(assignedTask({ container: { stopGracePeriodMs: 0 } }))).toBe(0);
  });

  it('reads bound ports back from inspect', () => {
    expect(boundPorts({ '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '32768' }], '9/udp': null })).toEqual([
      { protocol: 'tcp', targetPort: 80, publishedPort: 32768, publishMode: 'host' },
    ]);
  });
});

describe('Docker errors and logs', () => {
  it('keeps only the engine\'s words of a dockerode error', () => {
    const wrapped = Object.assign(new Error('(HTTP code 404) no such container - No such image: x:1 '), { statusCode: 404, json: null });
    expect(dockerMessage(wrapped)).toBe('No such image: x:1');
    expect(dockerMessage(Object.assign(new Error('whatever'), { json: { message: 'conflict: name in use' } }))).toBe('conflict: name in use');
  });

  it('splits multiplexed frames into stdout and stderr lines, across chunk boundaries', async () => {
    const bytes = Buffer.concat([frame(1, 'one\ntw'), frame(2, 'err\n'), frame(1, 'o\n')]);
    const chunks = [bytes.subarray(0, 5), bytes.subarray(5, 17), bytes.subarray(17)];
    const lines = await collect(logLines((async function* () { yield* chunks; })(), true, false));
    expect(lines).toEqual([
      { stream: 'stdout', text: 'one' },
      { stream: 'stderr', text: 'err' },
      { stream: 'stdout', text: 'two' },
    ]);
  });
});
