/**
 * Services on real Docker Engines, end to end through swarmd processes: one manager and one worker,
 * each running tasks on its own private dockerd, driven by swarmctl. (The lab tests put each worker
 * in its own VM; this one proves the whole path on one machine.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dockerTestsSkipped, type PrivateDockerd, startPrivateDockerd } from '../support/private-dockerd';
import { importTestImage } from '../support/test-image';
import { ctlOk, joinTokens, type SwarmdProcess, SwarmLab, swarmctl, until, untilNodes } from './harness';

let lab: SwarmLab;
let engines: PrivateDockerd[] = [];
let manager: SwarmdProcess;

async function containerNames(engine: PrivateDockerd): Promise<string[]> {
  const containers = await engine.docker.listContainers({ filters: { label: ['com.docker.swarm.service.id'] } });
  return containers.map((c) => (c.Names[0] ?? '').replace(/^\//, '')).sort();
}

describe.skipIf(dockerTestsSkipped())('services on real Docker through swarmd', () => {
  beforeAll(async () => {
    engines = [await startPrivateDockerd(), await startPrivateDockerd()];
    for (const engine of engines) await importTestImage(engine.docker);
    lab = await SwarmLab.create();
    manager = await lab.startNode('mgmt-01', { extraArgs: ['--engine-addr', engines[0]?.engineAddr ?? ''] });
    const tokens = await joinTokens(manager.socket);
    await lab.startNode('work-01', { joinAddr: manager.address, joinToken: tokens.worker, extraArgs: ['--engine-addr', engines[1]?.engineAddr ?? ''] });
    await untilNodes(manager.socket, 'two READY nodes', (rows) => rows.length === 2 && rows.every((r) => r.status === 'READY'));
  }, 180_000);

  afterAll(async () => {
    await lab?.cleanup();
    for (const engine of engines) await engine.stop();
  });

  it('runs replicas spread over both engines as <service>.<slot>.<task id>, scales, and shows their logs', async () => {
    const created = await swarmctl(manager.socket, 'service', 'create', '--name', 'web', '--image', 'swarmdesk-test:1', '--replicas', '4', '--command', '/bin/sh', '--args', '-c', '--args', 'echo hello from $HOSTNAME; exec sleep 1000');
    expect(created.stderr).toBe('');
    expect(created.stdout).toMatch(/^[0-9a-z]{25}\n$/);
    await until('4/4 replicas running', async () => (await ctlOk(manager.socket, 'service', 'ls')).includes('4/4') || undefined, 90_000);
    const [onManager, onWorker] = await Promise.all(engines.map(containerNames));
    expect(onManager).toHaveLength(2);
    expect(onWorker).toHaveLength(2);
    for (const name of [...(onManager ?? []), ...(onWorker ?? [])]) expect(name).toMatch(/^web\.[1-4]\.[0-9a-z]{25}$/);

    const logs = await until('a line from every replica', async () => {
      const text = await ctlOk(manager.socket, 'service', 'logs', 'web');
      return text.split('\n').filter((l) => l.includes('| hello from')).length === 4 ? text : undefined;
    }, 30_000);
    expect(logs).toMatch(/^web\.\d\.[0-9a-z]{25}@(mgmt-01|work-01) {4}\| hello from /m);

    await ctlOk(manager.socket, 'service', 'update', 'web', '--replicas', '2');
    await until('2 containers left', async () => ((await Promise.all(engines.map(containerNames))).flat().length === 2 ? true : undefined), 60_000);
    expect(await ctlOk(manager.socket, 'service', 'ls')).toContain('2/2');
  }, 240_000);

  it('rejects a task whose image cannot be had, with Docker\'s reason', async () => {
    await ctlOk(manager.socket, 'service', 'create', '--name', 'broken', '--image', '127.0.0.1:9/swarmdesk-missing:1', '--restart-condition', 'none');
    const text = await until('a rejected task', async () => {
      const out = await ctlOk(manager.socket, 'task', 'ls', '-a', '--service', 'broken');
      return /REJECTED/.test(out) ? out : undefined;
    }, 90_000);
    const taskId = /^([0-9a-z]{25}) .*REJECTED/m.exec(text)?.[1];
    expect(taskId).toBeDefined();
    expect(await ctlOk(manager.socket, 'task', 'inspect', taskId ?? '')).toMatch(/Error +: .*(No such image|pull)/i);
  }, 120_000);
});
