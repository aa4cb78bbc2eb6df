/**
 * The node description: host facts in Docker's naming, the engine read through dockerode (against a
 * stand-in Docker API on a Unix socket), and a missing engine that leaves `engine` out with a log line.
 */
import * as http from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LogFields } from '../../agent/runtime';
import { describeNode, dockerArch, dockerOs, type HostFacts, parseEngineLabels } from '../../agent/worker/description';
import { createEngineClient, engineOptions } from '../../agent/worker/engine';

const host: HostFacts = {
  hostname: () => 'box',
  platform: () => 'linux',
  arch: () => 'arm64',
  cpuCount: () => 8,
  totalMemoryBytes: () => 16 * 2 ** 30,
};

function recordingLogger() {
  const warnings: { message: string; fields?: LogFields }[] = [];
  return {
    warnings,
    logger: { debug: () => {}, info: () => {}, warn: (message: string, fields?: LogFields) => warnings.push({ message, fields }) },
  };
}

describe('describeNode without an engine', () => {
  it('describes the host in Docker\'s naming', async () => {
    expect(await describeNode({ host })).toEqual({
      hostname: 'box',
      platform: { os: 'linux', arch: 'aarch64' },
      resources: { nanoCpus: 8e9, memoryBytes: 16 * 2 ** 30 },
    });
  });

  it('prefers the --hostname flag', async () => {
    expect((await describeNode({ host, hostname: 'named' })).hostname).toBe('named');
    expect((await describeNode({ host, hostname: '' })).hostname).toBe('box');
  });

  it('describes this machine with real values', async () => {
    const d = await describeNode();
    expect(d.hostname.length).toBeGreaterThan(0);
    expect(d.platform.arch).not.toBe('x64');
    expect(d.resources.nanoCpus % 1e9).toBe(0);
    expect(d.resources.nanoCpus).toBeGreaterThanOrEqual(1e9);
    expect(d.resources.memoryBytes).toBeGreaterThan(0);
  });

  it('maps architectures and operating systems', () => {
    expect(dockerArch('x64')).toBe('x86_64');
    expect(dockerArch('arm64')).toBe('aarch64');
    expect(dockerArch('s390x')).toBe('s390x');
    expect(dockerOs('win32')).toBe('windows');
    expect(dockerOs('darwin')).toBe('darwin');
  });

  it('parses engine labels', () => {
    expect(parseEngineLabels(['zone=a', 'gpu', 'x=y=z', '=bad', 3])).toEqual({ zone: 'a', gpu: '', x: 'y=z' });
    expect(parseEngineLabels(null)).toEqual({});
  });
});

describe('describeNode with a Docker Engine', () => {
  let dir: string;
  let socketPath: string;
  let server: http.Server;
  const requests: string[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'swarmdesk-engine-'));
    socketPath = join(dir, 'docker.sock');
    server = http.createServer((req, res) => {
      requests.push(req.url ?? '');
      if ((req.url ?? '').endsWith('/info')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ ServerVersion: '27.3.1', Labels: ['zone=b', 'ssd=true'], NCPU: 4, MemTotal: 8 * 2 ** 30, Name: 'engine-host' }));
      } else {
        res.writeHead(404);
        res.end();
      }
    });
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await rm(dir, { recursive: true, force: true });
  });

  it('reads version, labels and resources from the engine', async () => {
    const d = await describeNode({ host, engine: createEngineClient(`unix://${socketPath}`) });
    expect(d.engine).toEqual({ version: '27.3.1', labels: { zone: 'b', ssd: 'true' } });
    expect(d.resources).toEqual({ nanoCpus: 4e9, memoryBytes: 8 * 2 ** 30 });
    expect(requests.some((url) => url.endsWith('/info'))).toBe(true);
  });

  it('leaves engine out and says so when the engine is unreachable', async () => {
    const { logger, warnings } = recordingLogger();
    const missing = join(dir, 'nothing-here.sock');
    const d = await describeNode({ host, engine: createEngineClient(missing), engineAddr: missing, logger });
    expect(d.engine).toBeUndefined();
    expect(d.resources).toEqual({ nanoCpus: 8e9, memoryBytes: 16 * 2 ** 30 });
    expect(warnings).toHaveLength(1);
    expect(warnings[0].message).toMatch(/Docker Engine unreachable/);
    expect(warnings[0].fields).toMatchObject({ engineAddr: missing });
  });

  it('treats an answer without a version as no engine', async () => {
    const { logger, warnings } = recordingLogger();
    const d = await describeNode({ host, engine: { info: () => Promise.resolve({}) }, logger });
    expect(d.engine).toBeUndefined();
    expect(warnings).toHaveLength(1);
  });
});

describe('engine addresses', () => {
  it('accepts socket paths and unix, tcp and http URLs', () => {
    expect(engineOptions('/var/run/docker.sock')).toMatchObject({ socketPath: '/var/run/docker.sock', host: undefined });
    expect(engineOptions('unix:///run/user/1000/docker.sock')).toMatchObject({ socketPath: '/run/user/1000/docker.sock' });
    expect(engineOptions('tcp://10.0.0.5:2375')).toMatchObject({ protocol: 'http', host: '10.0.0.5', port: 2375, socketPath: undefined });
    expect(engineOptions('tcp://dockerhost')).toMatchObject({ host: 'dockerhost', port: 2375 });
    expect(engineOptions('https://[::1]:2376')).toMatchObject({ protocol: 'https', host: '::1', port: 2376 });
  });

  it('refuses what it cannot use', () => {
    expect(() => engineOptions('docker.sock')).toThrow(/neither a socket path/);
    expect(() => engineOptions('ftp://x')).toThrow(/unsupported scheme/);
  });
});
