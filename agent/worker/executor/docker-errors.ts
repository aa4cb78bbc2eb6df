/**
 * Docker's own words for a failure. dockerode wraps the engine's message as
 * "(HTTP code 404) no such container - No such image: x "; a task's status shows just the engine's part.
 */
interface DockerodeError {
  statusCode?: number;
  json?: unknown;
  message?: string;
}

function asDockerodeError(err: unknown): DockerodeError | undefined {
  return typeof err === 'object' && err !== null ? (err as DockerodeError) : undefined;
}

export function dockerStatusCode(err: unknown): number | undefined {
  const code = asDockerodeError(err)?.statusCode;
  return typeof code === 'number' ? code : undefined;
}

export function dockerMessage(err: unknown): string {
  const e = asDockerodeError(err);
  const json = e?.json;
  if (typeof json === 'object' && json !== null && 'message' in json && typeof json.message === 'string') return json.message;
  const message = err instanceof Error ? err.message : String(err);
  const wrapped = /^\(HTTP code \d+\) [^-]*- ([\s\S]*?)\s*$/.exec(message);
  return wrapped === null ? message.trim() : wrapped[1];
}

export function isNotFound(err: unknown): boolean {
  return dockerStatusCode(err) === 404;
}

/** 304: the container is already started (start) or already stopped (stop). */
export function isNotModified(err: unknown): boolean {
  return dockerStatusCode(err) === 304;
}

export function isConflict(err: unknown): boolean {
  return dockerStatusCode(err) === 409;
}

/** Socket-level failures: the engine was not reached, or the connection to it broke. */
const CONNECTION_ERROR_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ENOENT', // a Unix socket that is not there (yet): the engine is restarting
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

/** The engine did not answer at all (no HTTP status): it is down, restarting, or the connection broke. */
export function isConnectionError(err: unknown): boolean {
  if (dockerStatusCode(err) !== undefined || typeof err !== 'object' || err === null) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') return CONNECTION_ERROR_CODES.has(code);
  return err instanceof Error && /socket hang up|connection to the engine was lost/i.test(err.message);
}

/** The engine answered with a 5xx: a failure of its own, not a verdict on the request. */
export function isServerError(err: unknown): boolean {
  const code = dockerStatusCode(err);
  return code !== undefined && code >= 500;
}
