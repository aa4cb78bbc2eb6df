/**
 * The control API on a local Unix socket, for swarmctl and the desktop app. No TLS: the socket's file
 * mode (0600, owner only) is the access control, as with Docker's own socket. The socket is created
 * with a tight umask so there is no moment where others could connect, and a stale socket left by a
 * crash is replaced.
 */
import { chmod, mkdir, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { isMainThread } from 'node:worker_threads';
import * as grpc from '@grpc/grpc-js';

export const CONTROL_SOCKET_MODE = 0o600;

async function removeStaleSocket(path: string): Promise<void> {
  try {
    const info = await stat(path);
    if (!info.isSocket()) throw new Error(`${path} exists and is not a socket; refusing to replace it`);
    await rm(path, { force: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

/**
 * A worker thread cannot set the umask (the desktop app runs its node in one): there the socket's
 * directory must keep other users out until the chmod, as the node's state directory (0700) does.
 */
async function requirePrivateDirectory(dir: string): Promise<void> {
  const info = await stat(dir);
  const foreignOwner = process.getuid !== undefined && info.uid !== process.getuid();
  if ((info.mode & 0o077) !== 0 || foreignOwner) {
    throw new Error(`${dir} is open to other users: a node in a worker thread puts its control socket only in a directory of its own with mode 0700`);
  }
}

function bind(server: grpc.Server, path: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.bindAsync(`unix:${path}`, grpc.ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve()));
  });
}

export async function listenControlSocket(server: grpc.Server, path: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await removeStaleSocket(path);
  if (isMainThread) {
    // umask is process-wide; bind is quick and this runs once at startup, so the window is negligible.
    const previous = process.umask(0o177);
    try {
      await bind(server, path);
    } finally {
      process.umask(previous);
    }
  } else {
    await requirePrivateDirectory(dirname(path));
    await bind(server, path);
  }
  await chmod(path, CONTROL_SOCKET_MODE);
}

export async function closeControlSocket(server: grpc.Server, path: string): Promise<void> {
  await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
  await rm(path, { force: true });
}
