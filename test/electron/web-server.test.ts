/**
 * Browser mode over real sockets: the renderer folder is real files (with a secret file beside it that
 * must never be served), the WebSocket is a real `ws` client, and createCluster starts a real in-process
 * node whose state changes arrive as events.
 */
import { request } from 'node:http';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createLogger } from '../../agent/log';
import type { BridgeResponse, LocalNodeState, SwarmdeskEvent } from '../../electron/contract';
import { CLOSE_UNAUTHORIZED, startWebServer, type WebServer } from '../../electron/web/server';
import { freePort, until } from '../cluster/harness';

const SECRET = 'this-file-is-outside-the-renderer-7f3a';
let root: string;
let server: WebServer;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'swarmdesk-web-'));
  await mkdir(join(root, 'renderer', 'assets'), { recursive: true });
  await writeFile(join(root, 'renderer', 'index.html'), '<!doctype html><title>swarmdesk</title><script type="module" src="/assets/app.js"></script>');
  await writeFile(join(root, 'renderer', 'assets', 'app.js'), 'console.log("app");');
  await writeFile(join(root, 'secret.txt'), SECRET);
  await mkdir(join(root, 'home'));
  server = await startWebServer({
    home: join(root, 'home'),
    port: 0,
    rendererDir: join(root, 'renderer'),
    services: { logger: createLogger({ level: 'error', write: () => undefined }) },
  });
});

afterAll(async () => {
  await server?.close();
  await rm(root, { recursive: true, force: true });
});

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A GET with the path sent exactly as given (no client-side normalization of `..`). */
function get(path: string, headers: Record<string, string> = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.port, path, headers: { host: `127.0.0.1:${server.port}`, ...headers } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** A WebSocket client that records what it receives and how it was closed. */
class Client {
  readonly ws: WebSocket;
  readonly messages: BridgeResponse[] = [];
  /** Messages that came as binary frames (the renderer expects text only). */
  binaryFrames = 0;
  closed: { code: number; reason: string } | undefined;
  opened: Promise<void>;
  private nextId = 1;

  constructor(origin: string | undefined, path = '/api') {
    this.ws = new WebSocket(`ws://127.0.0.1:${server.port}${path}`, origin === undefined ? {} : { origin });
    this.ws.on('message', (data, isBinary) => {
      if (isBinary) this.binaryFrames++;
      this.messages.push(JSON.parse(data.toString()) as BridgeResponse);
    });
    this.ws.on('close', (code, reason) => (this.closed = { code, reason: reason.toString() }));
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
    });
  }

  send(message: unknown): void {
    this.ws.send(JSON.stringify(message));
  }

  async call(method: string, argument?: unknown): Promise<Extract<BridgeResponse, { type: 'result' }>['result']> {
    const id = this.nextId++;
    this.send({ type: 'call', id, method, argument });
    const found = await until(`the answer to ${method}`, () => this.messages.find((m): m is Extract<BridgeResponse, { type: 'result' }> => m.type === 'result' && m.id === id), 120_000, 20);
    return found.result;
  }

  events(): SwarmdeskEvent[] {
    return this.messages.filter((m): m is Extract<BridgeResponse, { type: 'event' }> => m.type === 'event').map((m) => m.event);
  }

  close(): void {
    this.ws.close();
  }
}

async function authenticated(): Promise<Client> {
  const client = new Client(server.origin);
  await client.opened;
  client.send({ type: 'hello', token: server.token });
  await until('ready', () => client.messages.some((m) => m.type === 'ready'), 10_000, 10);
  return client;
}

describe('browser mode: files', () => {
  it('prints a 127.0.0.1 address carrying the token in the fragment', () => {
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/#token=${server.token}`);
    expect(server.token).toMatch(/^[A-Za-z0-9_-]{40,}$/);
  });

  it('serves the renderer with the Content-Security-Policy', async () => {
    const index = await get('/');
    expect(index.status).toBe(200);
    expect(index.body).toContain('<title>swarmdesk</title>');
    expect(index.headers['content-security-policy']).toContain("script-src 'self'");
    expect(index.headers['content-security-policy']).toContain("object-src 'none'");
    expect(index.headers['x-content-type-options']).toBe('nosniff');
    const script = await get('/assets/app.js');
    expect(script.status).toBe(200);
    expect(script.headers['content-type']).toMatch(/^text\/javascript/);
    expect((await get('/assets/missing.js')).status).toBe(404);
  });

  it('serves nothing outside the renderer folder', async () => {
    for (const path of ['/../secret.txt', '/assets/../../secret.txt', '/%2e%2e/secret.txt', '/assets/..%2f..%2fsecret.txt', '/..%5csecret.txt', `/${'..%2f'.repeat(8)}etc/passwd`, '/%00index.html']) {
      const response = await get(path);
      expect([400, 403, 404], path).toContain(response.status);
      expect(response.body, path).not.toContain(SECRET);
      expect(response.body, path).not.toContain('root:');
    }
  });

  it('refuses requests for another host name (DNS rebinding)', async () => {
    const response = await get('/', { host: `evil.example:${server.port}` });
    expect(response.status).toBe(421);
    expect(response.body).not.toContain('<title>swarmdesk</title>');
  });
});

describe('browser mode: the WebSocket', () => {
  it('refuses an upgrade without an Origin, or from another origin', async () => {
    for (const origin of [undefined, 'http://evil.example', `http://127.0.0.1:${server.port + 1}`, `https://127.0.0.1:${server.port}`]) {
      const client = new Client(origin);
      await expect(client.opened, String(origin)).rejects.toThrow(/403/);
    }
  });

  it('closes a socket whose first message is not hello with the right token', async () => {
    const attempts: unknown[] = [
      { type: 'hello', token: 'wrong' },
      { type: 'hello', token: `${server.token}x` },
      { type: 'hello' },
      { type: 'call', id: 1, method: 'getAppInfo' },
      'not json',
    ];
    for (const first of attempts) {
      const client = new Client(server.origin);
      await client.opened;
      if (first === 'not json') client.ws.send('not json');
      else client.send(first);
      await until('the socket closed', () => client.closed, 10_000, 10);
      expect(client.closed?.code, JSON.stringify(first)).toBe(CLOSE_UNAUTHORIZED);
      expect(client.messages.filter((m) => m.type !== 'event'), JSON.stringify(first)).toEqual([]);
    }
  });

  it('round-trips calls once authenticated: results, contract errors, unknown methods', async () => {
    const client = await authenticated();
    await expect(client.call('getAppInfo')).resolves.toMatchObject({ ok: true, value: { name: 'swarmdesk', mode: 'web' } });
    await expect(client.call('updateSettings', { theme: 'light' })).resolves.toEqual({ ok: true, value: { theme: 'light', logTimestamps: false } });
    await expect(client.call('scaleService', { serviceId: 'abc', replicas: -2 })).resolves.toMatchObject({ ok: false, error: { code: 'InvalidArgument', field: 'replicas' } });
    await expect(client.call('rm -rf', {})).resolves.toMatchObject({ ok: false, error: { code: 'InvalidArgument' } });
    await expect(client.call('getJoinTokens')).resolves.toMatchObject({ ok: false, error: { code: 'FailedPrecondition' } });
    client.close();
  });

  it('pushes events: creating a cluster reports the local node starting, then running', async () => {
    const client = await authenticated();
    const port = await freePort();
    const created = await client.call('createCluster', { advertiseAddress: '127.0.0.1', port, runTasks: false });
    expect(created).toMatchObject({ ok: true, value: { phase: 'running', role: 'manager', advertiseAddress: `127.0.0.1:${port}` } });
    const phases = client.events().filter((e): e is { kind: 'local-node'; state: LocalNodeState } => e.kind === 'local-node').map((e) => e.state.phase);
    expect(phases).toContain('starting');
    await until('a running local-node event', () => client.events().some((e) => e.kind === 'local-node' && e.state.phase === 'running'), 30_000, 20);
    // A second client sees the same node, and the cluster's data.
    const other = await authenticated();
    const snapshot = await other.call('subscribeCluster');
    expect(snapshot.ok).toBe(true);
    const nodeId = created.ok ? (created.value as LocalNodeState).nodeId : undefined;
    if (snapshot.ok) {
      // Spliced into the result message as the node's worker encoded it.
      const value = snapshot.value as { nodes: { id: string }[]; cluster: { hasQuorum: boolean } };
      expect(value.nodes.map((n) => n.id)).toEqual([nodeId]);
      expect(value.cluster.hasQuorum).toBe(true);
    }
    // A session without a JSON transport (the Electron window's) gets the same snapshot decoded.
    const direct = server.services.openSession(() => undefined);
    const decoded = await direct.call('subscribeCluster', undefined);
    expect(decoded).toMatchObject({ ok: true, value: { nodes: [{ id: nodeId }], cluster: { hasQuorum: true } } });
    direct.close();
    // The token never reaches the data folder (a created cluster has none to keep; the settings hold no secret).
    const files = await readdir(join(root, 'home'));
    expect(files).toContain('settings.json');
    client.close();
    other.close();
  }, 180_000);

  it('carries the cluster feed\'s changes, encoded in the node\'s worker, as text messages', async () => {
    const client = await authenticated();
    const snapshot = await client.call('subscribeCluster');
    expect(snapshot.ok).toBe(true);
    const { service } = await server.services.host.control().createService({
      spec: { name: 'feed-check', labels: {}, mode: { replicated: { replicas: 2 } }, task: { container: { image: 'busybox:1', command: ['sleep', '1000'] } } },
    });
    const changed = (kind: string) => client.events().flatMap((e) => (e.kind === 'changes' ? e.changes : [])).filter((c) => c.kind === kind && c.action === 'upsert');
    await until('the service and its 2 tasks in changes events', () => changed('service').some((c) => c.action === 'upsert' && c.object.id === service.id) && changed('task').length >= 2, 30_000, 20);
    expect(client.binaryFrames).toBe(0);
    client.close();
  }, 60_000);
});
