/** `swarmctl service logs` against a fake manager serving the Logs stream on a real Unix socket. */
import { afterEach, expect, it } from 'vitest';
import type { SubscribeLogsRequest } from '../../agent/api/logs';
import { ApiError } from '../../agent/api/errors';
import { type FakeManager, FakeControl, startFakeManager, swarmctl } from './fake-control';
import { makeNode, makeService, makeTask } from './fixtures';

const WORK1 = makeNode({ id: 'lnxa1hn4q0dzg6bh1vlyf1k0q', hostname: 'work-01' });
const WORK2 = makeNode({ id: 'bhk2f1r4q0dzg6bh1vlyf1k0q', hostname: 'work-02' });
const WEB = makeService({ name: 'web', replicas: 2 });
const T1 = makeTask({ id: 'rrk1vhgqxm6wlt8fz0jzbplvc', service: WEB, slot: 1, nodeId: WORK1.id, at: '2025-03-01T11:55:00.000Z' });
const T2 = makeTask({ id: 'fmfgcqmd8mvxx5ct2qyqam3n8', service: WEB, slot: 2, nodeId: WORK2.id, at: '2025-03-01T11:55:00.000Z' });

let manager: FakeManager | undefined;
afterEach(async () => manager?.close());

it('prints every replica\'s lines prefixed with task and node, and asks for what the flags say', async () => {
  const asked: SubscribeLogsRequest[] = [];
  manager = await startFakeManager(new FakeControl([WORK1, WORK2], [], [WEB], [T1, T2]), (request, sink) => {
    asked.push(request);
    sink.send([
      { serviceId: WEB.id, taskId: T1.id, nodeId: WORK1.id, timestamp: '2025-03-01T12:00:00.000000001Z', stream: 'stdout', data: 'GET / 200' },
      { serviceId: WEB.id, taskId: T2.id, nodeId: WORK2.id, timestamp: '2025-03-01T12:00:01Z', stream: 'stderr', data: 'warming up' },
    ]);
    sink.end();
    return () => {};
  });
  const result = await swarmctl(['--socket', manager.socketPath, 'service', 'logs', 'web', '--tail', '10', '--timestamps']);
  expect(result.code).toBe(0);
  expect(result.stdout).toBe(
    `2025-03-01T12:00:00.000000001Z web.1.${T1.id}@work-01    | GET / 200\n2025-03-01T12:00:01Z web.2.${T2.id}@work-02    | warming up\n`,
  );
  expect(asked).toEqual([{ selector: { serviceIds: [WEB.id] }, options: { follow: false, tail: 10 } }]);
});

it('reports a failed stream as one error line', async () => {
  manager = await startFakeManager(new FakeControl([WORK1], [], [WEB], [T1]), (_request, sink) => {
    sink.end(new ApiError('Unavailable', 'the manager serving these logs lost leadership; retry'));
    return () => {};
  });
  const result = await swarmctl(['--socket', manager.socketPath, 'service', 'logs', 'web']);
  expect(result).toMatchObject({ code: 1, stdout: '' });
  expect(result.stderr).toBe('Error: the manager serving these logs lost leadership; retry\n');
});
