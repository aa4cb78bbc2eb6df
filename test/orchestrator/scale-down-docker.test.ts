/**
 * Scale-down and removal leave nothing behind on a real Docker Engine: one swarmd (manager that also
 * runs tasks) on a private dockerd, driven by swarmctl. After `service update --replicas 2` from 6,
 * `docker ps -a` holds the containers of slots 1 and 2 only and `task ls -a` lists only those slots;
 * after `service rm`, neither holds anything of the service.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ctlOk, type SwarmdProcess, SwarmLab, until, untilNodes } from '../cluster/harness';
import { dockerTestsSkipped, type PrivateDockerd, startPrivateDockerd } from '../support/private-dockerd';
import { importTestImage } from '../support/test-image';

let lab: SwarmLab | undefined;
let engine: PrivateDockerd | undefined;
let manager: SwarmdProcess;

/** What `docker ps -a` shows of swarm tasks: every container, running or not. */
async function allTaskContainers(): Promise<string[]> {
  if (engine === undefined) throw new Error('no engine');
  const containers = await engine.docker.listContainers({ all: true, filters: { label: ['com.docker.swarm.service.id'] } });
  return containers.map((c) => (c.Names[0] ?? '').replace(/^\//, '')).sort();
}

/** The Slot column of `task ls -a --service <name>` (the header and its underline skipped). */
async function listedSlots(service: string): Promise<string[]> {
  const text = await ctlOk(manager.socket, 'task', 'ls', '-a', '--service', service);
  return text
    .trim()
    .split('\n')
    .slice(2)
    .filter((line) => line.trim() !== '')
    .map((line) => line.trim().split(/\s+/)[2] ?? '')
    .sort();
}

describe.skipIf(dockerTestsSkipped())('scale-down and removal on real Docker through swarmd', () => {
  beforeAll(async () => {
    engine = await startPrivateDockerd();
    await importTestImage(engine.docker);
    lab = await SwarmLab.create();
    manager = await lab.startNode('mgmt-01', { extraArgs: ['--engine-addr', engine.engineAddr] });
    await untilNodes(manager.socket, 'the node READY', (rows) => rows.length === 1 && rows.every((r) => r.status === 'READY'));
  }, 180_000);

  afterAll(async () => {
    await lab?.cleanup();
    await engine?.stop();
  }, 120_000);

  it('scaling 6 -> 2 leaves the containers and tasks of slots 1 and 2 only; service rm leaves none', async () => {
    await ctlOk(manager.socket, 'service', 'create', '--name', 'web', '--image', 'swarmdesk-test:1', '--replicas', '6', '--command', '/bin/sh', '--args', '-c', '--args', 'exec sleep 1000');
    await until('6/6 replicas running', async () => (await ctlOk(manager.socket, 'service', 'ls')).includes('6/6') || undefined, 120_000);
    expect(await allTaskContainers()).toHaveLength(6);

    await ctlOk(manager.socket, 'service', 'update', 'web', '--replicas', '2');
    const left = await until('only 2 containers in docker ps -a', async () => {
      const names = await allTaskContainers();
      return names.length === 2 ? names : undefined;
    }, 90_000);
    expect(left.map((n) => n.split('.')[1])).toEqual(['1', '2']);
    for (const name of left) expect(name).toMatch(/^web\.[12]\.[0-9a-z]{25}$/);
    const slots = await until('task ls -a showing slots 1 and 2 only', async () => {
      const listed = await listedSlots('web');
      return listed.length === 2 ? listed : undefined;
    }, 60_000);
    expect(slots).toEqual(['1', '2']);
    expect(await ctlOk(manager.socket, 'service', 'ls')).toContain('2/2');

    await ctlOk(manager.socket, 'service', 'rm', 'web');
    await until('no container of the service in docker ps -a', async () => ((await allTaskContainers()).length === 0 ? true : undefined), 90_000);
    await until('the service gone from service ls', async () => (!(await ctlOk(manager.socket, 'service', 'ls')).includes('web') ? true : undefined), 60_000);
  }, 360_000);
});
