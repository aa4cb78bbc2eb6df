/**
 * `swarmctl service update`'s list flags end to end: the installed bin/swarmctl.mjs against a real
 * swarmd (one manager, no Docker engine needed: the service has no replicas), so the manager's own
 * validation and storage of the changed spec are part of what is checked.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ctlOk, type CtlResult, type SwarmdProcess, SwarmLab } from '../cluster/harness';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

let lab: SwarmLab;
let manager: SwarmdProcess;

/** The real bin, as a user runs it; never throws, the exit code is part of the result. */
function bin(...args: string[]): Promise<CtlResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['bin/swarmctl.mjs', '--socket', manager.socket, ...args], { cwd: ROOT }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

/** The `  Mounts`, `  Preferences` and `Ports` lines of `service inspect`, by label. */
async function inspected(service: string): Promise<Record<string, string>> {
  const text = await ctlOk(manager.socket, 'service', 'inspect', service);
  const fields: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const match = /^ *(Mounts|Preferences|Ports|Constraints) *: (.*)$/.exec(line);
    if (match !== null) fields[match[1] ?? ''] = match[2] ?? '';
  }
  return fields;
}

beforeAll(async () => {
  lab = await SwarmLab.create();
  manager = await lab.startNode('mgmt-01');
}, 120_000);

afterAll(async () => {
  await lab?.cleanup();
});

describe('swarmctl service update against a real manager', () => {
  it('changes published ports, mounts and spread preferences, and refuses what it cannot do', async () => {
    await ctlOk(
      manager.socket,
      'service', 'create', '--name', 'web', '--image', 'busybox', '--replicas', '0',
      '--ports', '8080:80', '--ports', '5353:53/udp', '--mount', 'type=volume,source=data,target=/data',
    );
    expect(await inspected('web')).toEqual({ Mounts: 'volume data:/data', Ports: '8080:80/tcp, 5353:53/udp' });

    const updated = await bin(
      'service', 'update', 'web',
      '--publish-rm', '80', '--publish-add', '8081:80',
      '--mount-rm', '/data', '--mount-add', 'type=tmpfs,target=/cache',
      '--placement-pref-add', 'spread=node.labels.zone',
    );
    expect(updated.stderr).toBe('');
    expect(updated.code).toBe(0);
    expect(updated.stdout).toMatch(/^[0-9a-z]{25}\n$/);
    expect(await inspected('web')).toEqual({ Mounts: 'tmpfs /cache', Preferences: 'spread=node.labels.zone', Ports: '5353:53/udp, 8081:80/tcp' });

    expect(await bin('service', 'update', 'web', '--publish-rm', '80/udp')).toEqual({ code: 1, stdout: '', stderr: 'Error: service web publishes no port 80/udp (--publish-rm)\n' });
    expect(await bin('service', 'update', 'web', '--mode', 'global')).toEqual({
      code: 1,
      stdout: '',
      stderr: 'Error: service update does not take --mode: a service stays replicated or global; remove it and create it again with the other --mode\n',
    });
    expect(await inspected('web')).toEqual({ Mounts: 'tmpfs /cache', Preferences: 'spread=node.labels.zone', Ports: '5353:53/udp, 8081:80/tcp' });
  }, 120_000);
});
