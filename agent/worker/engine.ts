/**
 * The Docker Engine a node runs containers on, reached through dockerode. `--engine-addr` takes the
 * forms Docker's own DOCKER_HOST does: a Unix socket (`unix:///var/run/docker.sock` or a bare path)
 * or TCP (`tcp://host:2375`). Without one, dockerode's default applies (DOCKER_HOST, else the standard
 * socket).
 */
import Docker from 'dockerode';

export const DEFAULT_ENGINE_TIMEOUT_MS = 5000;

/** What describeNode needs from an engine; a dockerode client fits, tests pass a fake. */
export interface EngineClient {
  info(): Promise<unknown>;
}

export function engineOptions(endpoint: string, timeoutMs = DEFAULT_ENGINE_TIMEOUT_MS): Docker.DockerOptions {
  const trimmed = endpoint.trim();
  // host/socketPath are set to undefined explicitly: docker-modem merges our options over defaults it
  // reads from DOCKER_HOST, and a leftover host would win over our socket.
  if (trimmed.startsWith('/')) return { socketPath: trimmed, host: undefined, timeout: timeoutMs };
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    throw new Error(`engine address "${endpoint}" is neither a socket path nor a unix://, npipe://, tcp:// or http(s):// URL`);
  }
  switch (url.protocol) {
    case 'unix:':
    case 'npipe:':
      // unix:///var/run/docker.sock has an empty host and the socket as its path.
      return { socketPath: decodeURIComponent(url.pathname), host: undefined, timeout: timeoutMs };
    case 'tcp:':
    case 'http:':
    case 'https:': {
      if (url.hostname === '') throw new Error(`engine address "${endpoint}" names no host`);
      const protocol = url.protocol === 'https:' ? 'https' : 'http';
      const port = url.port === '' ? (protocol === 'https' ? 2376 : 2375) : Number(url.port);
      // URL keeps IPv6 hosts bracketed; the HTTP client wants them bare.
      const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
      return { protocol, host, port, socketPath: undefined, timeout: timeoutMs };
    }
    default:
      throw new Error(`engine address "${endpoint}" has unsupported scheme ${url.protocol}`);
  }
}

/** A dockerode client for `endpoint` (or dockerode's default when undefined). Connects lazily. */
export function createEngineClient(endpoint?: string, timeoutMs = DEFAULT_ENGINE_TIMEOUT_MS): Docker {
  return endpoint === undefined || endpoint === '' ? new Docker({ timeout: timeoutMs }) : new Docker(engineOptions(endpoint, timeoutMs));
}
