/**
 * Browser mode: the main-process services, headless, with the renderer served on 127.0.0.1 and the
 * contract carried over a WebSocket at /api. Guarded by a random token printed at start (the URL's
 * fragment, which browsers never send to a server); the socket's first message must be
 * `{ type: 'hello', token }`. Requests with a foreign Host or Origin are refused (no DNS rebinding, no
 * other site's page talking to the API). Only files under out/renderer are served.
 *
 * There is no keychain here: secrets are kept in memory only (MemoryVault) and lost at exit.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type RawData, WebSocket, WebSocketServer } from 'ws';
import { API_METHODS, type ApiMethod, type BridgeResponse, type SwarmdeskEvent } from '../contract';
import { dataHome } from '../main/data-home';
import { MainServices, type MainServicesOptions } from '../main/services';
import { MemoryVault } from '../main/secrets';
import { Settings } from '../main/settings';
import { openSettingsBackend } from '../main/settings-file';
import { CONTENT_SECURITY_POLICY } from '../main/window-security';

export const DEFAULT_WEB_PORT = 4280;
export const DEFAULT_RENDERER_DIR = fileURLToPath(new URL('../../out/renderer', import.meta.url));
/** A client has this long to say hello with the token. */
const HELLO_TIMEOUT_MS = 10_000;
const MAX_MESSAGE_BYTES = 4 * 1024 * 1024;
/** A BridgeResponse `{ type: 'event', event }` around an event already encoded as JSON. */
const EVENT_PREFIX = Buffer.from('{"type":"event","event":');
const EVENT_SUFFIX = Buffer.from('}');
/** The end of a BridgeResponse `{ type: 'result', id, result: { ok: true, value } }` around a value already JSON. */
const RESULT_SUFFIX = Buffer.from('}}');
/** A client this far behind on events is dropped rather than let the server's memory grow. */
const MAX_BUFFERED_BYTES = 64 * 1024 * 1024;

/** Close codes a client sees (4000-4999 are the application's). */
export const CLOSE_UNAUTHORIZED = 4401;
export const CLOSE_BAD_MESSAGE = 4400;
export const CLOSE_TOO_SLOW = 4408;

export interface WebServerOptions {
  /** Data folder; default SWARMDESK_HOME, else ~/.swarmdesk. */
  home?: string;
  /** Default 4280; 0 picks a free port. */
  port?: number;
  /** The built renderer; default out/renderer of this checkout. */
  rendererDir?: string;
  /** Passed to the services (engine address, raft timing for tests, feed timing, logger). */
  services?: Partial<Omit<MainServicesOptions, 'home' | 'mode' | 'settings' | 'vault'>>;
}

export interface WebServer {
  /** `http://127.0.0.1:<port>/#token=<token>`: what to open. */
  readonly url: string;
  readonly origin: string;
  readonly port: number;
  readonly token: string;
  readonly services: MainServices;
  /** Closes every socket, stops the local node cleanly, stops listening. */
  close(): Promise<void>;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** Constant-time: both sides hashed to the same length first. */
export function tokensMatch(given: string, expected: string): boolean {
  return timingSafeEqual(sha256(given), sha256(expected));
}

function securityHeaders(): Record<string, string> {
  return {
    'Content-Security-Policy': CONTENT_SECURITY_POLICY,
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'no-referrer',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
  };
}

function refuse(response: ServerResponse, status: number, text: string): void {
  response.writeHead(status, { ...securityHeaders(), 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' });
  response.end(`${text}\n`);
}

/** The file under `root` a request path names, or undefined if it names anything outside it. */
export function resolveInside(root: string, urlPath: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return undefined;
  const candidate = resolve(root, `.${decoded.startsWith('/') ? decoded : `/${decoded}`}`);
  const rel = relative(root, candidate);
  if (rel.startsWith('..') || isAbsolute(rel)) return undefined;
  return candidate;
}

/** `..` or `.` as a path segment, plain or percent-encoded: never part of a real asset path. */
function hasDotSegment(rawPath: string): boolean {
  let decoded: string;
  try {
    decoded = decodeURIComponent(rawPath);
  } catch {
    return true;
  }
  return decoded.split(/[/\\]/).some((segment) => segment === '..' || segment === '.');
}

export async function startWebServer(options: WebServerOptions = {}): Promise<WebServer> {
  const home = options.home ?? dataHome();
  const rendererRoot = resolve(options.rendererDir ?? DEFAULT_RENDERER_DIR);
  const token = randomBytes(32).toString('base64url');
  const services = new MainServices({ ...options.services, home, mode: 'web', settings: new Settings(await openSettingsBackend(home)), vault: new MemoryVault() });
  let port = 0;
  const allowedHosts = () => [`127.0.0.1:${port}`, `localhost:${port}`];

  async function serveFile(request: IncomingMessage, response: ServerResponse): Promise<void> {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      refuse(response, 405, 'method not allowed');
      return;
    }
    const rawPath = (request.url ?? '/').split(/[?#]/)[0];
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    let file = resolveInside(rendererRoot, path === '/' ? '/index.html' : path);
    if (file === undefined || hasDotSegment(rawPath)) {
      refuse(response, 403, 'forbidden');
      return;
    }
    let info = await stat(file).catch(() => undefined);
    if (info === undefined && extname(path) === '') {
      // Client-side routes (no file extension) get the app itself.
      file = join(rendererRoot, 'index.html');
      info = await stat(file).catch(() => undefined);
    }
    if (info === undefined || !info.isFile()) {
      refuse(response, 404, 'not found');
      return;
    }
    // A symlink inside the folder must not lead outside it either.
    const real = await realpath(file);
    const realRoot = await realpath(rendererRoot);
    if (real !== realRoot && !real.startsWith(realRoot + sep)) {
      refuse(response, 403, 'forbidden');
      return;
    }
    response.writeHead(200, {
      ...securityHeaders(),
      'Content-Type': CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
      'Content-Length': String(info.size),
      'Cache-Control': extname(file) === '.html' ? 'no-store' : 'no-cache',
    });
    if (request.method === 'HEAD') {
      response.end();
      return;
    }
    createReadStream(real).pipe(response);
  }

  const server = createServer((request, response) => {
    if (!allowedHosts().includes(request.headers.host ?? '')) {
      refuse(response, 421, 'wrong host: open the address swarmdesk printed');
      return;
    }
    serveFile(request, response).catch((err: unknown) => {
      services.logger.warn('serving a file failed', { error: err instanceof Error ? err.message : String(err) });
      if (!response.headersSent) refuse(response, 500, 'internal error');
      else response.destroy();
    });
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });
  server.on('upgrade', (request, socket, head) => {
    const host = request.headers.host ?? '';
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    const reject = (status: number, text: string) => {
      socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    if (path !== '/api') return reject(404, 'Not Found');
    if (!allowedHosts().includes(host)) return reject(421, 'Misdirected Request');
    if (request.headers.origin !== `http://${host}`) return reject(403, 'Forbidden');
    wss.handleUpgrade(request, socket, head, (ws) => onConnection(ws));
  });

  /** A text message (JSON), as a string or as UTF-8 bytes. */
  function sendText(ws: WebSocket, text: string | Buffer): void {
    if (ws.readyState !== WebSocket.OPEN) return;
    if (ws.bufferedAmount > MAX_BUFFERED_BYTES) {
      ws.close(CLOSE_TOO_SLOW, 'too far behind');
      return;
    }
    ws.send(text, { binary: false });
  }

  function send(ws: WebSocket, message: BridgeResponse): void {
    sendText(ws, JSON.stringify(message));
  }

  function onConnection(ws: WebSocket): void {
    let session: ReturnType<MainServices['openSession']> | undefined;
    const helloTimer = setTimeout(() => ws.close(CLOSE_UNAUTHORIZED, 'no hello'), HELLO_TIMEOUT_MS);
    ws.on('close', () => {
      clearTimeout(helloTimer);
      session?.close();
    });
    ws.on('error', () => ws.terminate());
    ws.on('message', (data: RawData, isBinary: boolean) => {
      let message: unknown;
      try {
        message = isBinary ? undefined : JSON.parse(data.toString());
      } catch {
        message = undefined;
      }
      if (typeof message !== 'object' || message === null) {
        ws.close(session === undefined ? CLOSE_UNAUTHORIZED : CLOSE_BAD_MESSAGE, 'unreadable message');
        return;
      }
      const m = message as Record<string, unknown>;
      if (session === undefined) {
        if (m.type !== 'hello' || typeof m.token !== 'string' || !tokensMatch(m.token, token)) {
          ws.close(CLOSE_UNAUTHORIZED, 'unauthorized');
          return;
        }
        clearTimeout(helloTimer);
        session = services.openSession(
          (event: SwarmdeskEvent) => send(ws, { type: 'event', event }),
          // The cluster feed's events come encoded from the node's worker: the same message, spliced.
          (json) => sendText(ws, Buffer.concat([EVENT_PREFIX, json, EVENT_SUFFIX])),
        );
        send(ws, { type: 'ready' });
        return;
      }
      if (m.type !== 'call' || typeof m.id !== 'number' || !Number.isSafeInteger(m.id) || typeof m.method !== 'string') {
        ws.close(CLOSE_BAD_MESSAGE, 'expected a call');
        return;
      }
      const id = m.id;
      const method = m.method;
      if (!(API_METHODS as readonly string[]).includes(method)) {
        send(ws, { type: 'result', id, result: { ok: false, error: { code: 'InvalidArgument', message: `unknown method ${method.slice(0, 64)}` } } });
        return;
      }
      const current = session;
      void current.callEncoded(method as ApiMethod, m.argument).then((result) => {
        if ('valueJson' in result) {
          // The snapshot the node's worker encoded: the same message, spliced.
          sendText(ws, Buffer.concat([Buffer.from(`{"type":"result","id":${id},"result":{"ok":true,"value":`), result.valueJson, RESULT_SUFFIX]));
        } else send(ws, { type: 'result', id, result });
      });
    });
  }

  await new Promise<void>((resolveListen, rejectListen) => {
    server.once('error', rejectListen);
    server.listen(options.port ?? DEFAULT_WEB_PORT, '127.0.0.1', () => {
      server.off('error', rejectListen);
      resolveListen();
    });
  });
  port = (server.address() as AddressInfo).port;
  const origin = `http://127.0.0.1:${port}`;
  void services.start();

  let closing: Promise<void> | undefined;
  return {
    url: `${origin}/#token=${token}`,
    origin,
    port,
    token,
    services,
    close: () =>
      (closing ??= (async () => {
        for (const ws of wss.clients) ws.close(1001, 'server stopping');
        wss.close();
        await new Promise<void>((resolveClose) => {
          server.close(() => resolveClose());
          server.closeAllConnections();
        });
        await services.close();
      })()),
  };
}
