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
