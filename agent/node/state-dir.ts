/**
 * What a node keeps in its state directory, and how it is read back on restart (so a node restarts
 * without re-joining). Layout, after SwarmKit's:
 *   certificates/swarm-root-ca.crt   the cluster's root CA certificate
 *   certificates/swarm-root-ca.key   its signing key, managers only (0600)
 *   certificates/swarm-node.crt      this node's certificate (CN node ID, OU role, O cluster ID)
 *   certificates/swarm-node.key      this node's key (0600)
 *   raft/                            the raft WAL and snapshots, managers only
 *   node-state.json                  IDs and addresses (nothing secret)
 * The directory itself is 0700: the control socket defaults to living inside it.
 */
import { chmod, mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { readCertFile, readKeyFile, writeCertFile, writeFileAtomic, writeKeyFile } from '../ca/key-files';
import type { NodeRole } from '../ca/roles';

export const DEFAULT_STATE_DIR = './swarmkitstate';
export const STATE_DIR_MODE = 0o700;

export interface StatePaths {
  readonly root: string;
  readonly certificates: string;
  readonly rootCaCert: string;
  readonly rootCaKey: string;
  readonly nodeCert: string;
  readonly nodeKey: string;
  readonly raft: string;
  readonly nodeState: string;
  readonly defaultControlSocket: string;
}

export function statePaths(root: string): StatePaths {
  const certificates = join(root, 'certificates');
  return {
    root,
    certificates,
    rootCaCert: join(certificates, 'swarm-root-ca.crt'),
    rootCaKey: join(certificates, 'swarm-root-ca.key'),
    nodeCert: join(certificates, 'swarm-node.crt'),
    nodeKey: join(certificates, 'swarm-node.key'),
    raft: join(root, 'raft'),
    nodeState: join(root, 'node-state.json'),
    defaultControlSocket: join(root, 'swarmd.sock'),
  };
}

/** Non-secret facts a node needs to come back as itself. */
export interface PersistedNodeState {
  nodeId: string;
  clusterId: string;
  /** This node's raft member ID while it is a manager. */
  raftId?: number;
  /** Manager addresses last known (the join address first), for reconnecting after a restart. */
  managers: string[];
  /** Set while a founding manager has not yet written its raft bootstrap (a crash there retries it). */
  bootstrapPending?: boolean;
}

/** The credentials a node holds, as on disk. Never log these. */
export interface StoredCredentials {
  rootCaPem: string;
  certPem: string;
  keyPem: string;
  /** Managers only. */
  caKeyPem?: string;
}

export async function ensureStateDir(paths: StatePaths): Promise<void> {
  await mkdir(paths.certificates, { recursive: true, mode: STATE_DIR_MODE });
  await chmod(paths.root, STATE_DIR_MODE);
  await chmod(paths.certificates, STATE_DIR_MODE);
}

function isMissing(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}

export async function readNodeState(paths: StatePaths): Promise<PersistedNodeState | undefined> {
  let text: string;
  try {
    text = await readFile(paths.nodeState, 'utf8');
  } catch (err) {
    if (isMissing(err)) return undefined;
    throw err;
  }
  const parsed = JSON.parse(text) as Partial<PersistedNodeState>;
  if (typeof parsed.nodeId !== 'string' || typeof parsed.clusterId !== 'string') {
    throw new Error(`${paths.nodeState} is damaged: it names no node or cluster`);
  }
  return { nodeId: parsed.nodeId, clusterId: parsed.clusterId, raftId: parsed.raftId, managers: parsed.managers ?? [], bootstrapPending: parsed.bootstrapPending };
}

export function writeNodeState(paths: StatePaths, state: PersistedNodeState): Promise<void> {
  return writeFileAtomic(paths.nodeState, `${JSON.stringify(state, null, 2)}\n`, 0o600);
}

async function readOptionalKey(path: string): Promise<string | undefined> {
  try {
    return await readKeyFile(path);
  } catch (err) {
    if (isMissing(err)) return undefined;
    throw err;
  }
}

/** The stored credentials, or undefined when this directory has never held a node. */
export async function readCredentials(paths: StatePaths): Promise<StoredCredentials | undefined> {
  let certPem: string;
  try {
    certPem = await readCertFile(paths.nodeCert);
  } catch (err) {
    if (isMissing(err)) return undefined;
    throw err;
  }
  return {
    certPem,
    keyPem: await readKeyFile(paths.nodeKey),
    rootCaPem: await readCertFile(paths.rootCaCert),
    caKeyPem: await readOptionalKey(paths.rootCaKey),
  };
}

/**
 * Writes new credentials. The key goes first and the certificate last: a crash in between leaves a
 * certificate that does not match the key, which the node detects on start, rather than a new
 * certificate with no key.
 */
export async function writeCredentials(paths: StatePaths, credentials: StoredCredentials, role: NodeRole): Promise<void> {
  await writeCertFile(paths.rootCaCert, credentials.rootCaPem);
  if (role === 'manager' && credentials.caKeyPem !== undefined) await writeKeyFile(paths.rootCaKey, credentials.caKeyPem);
  await writeKeyFile(paths.nodeKey, credentials.keyPem);
  await writeCertFile(paths.nodeCert, credentials.certPem);
  // A worker keeps no signing key, even one it held as a manager before a demotion.
  if (role === 'worker') await rm(paths.rootCaKey, { force: true });
}

/** A demoted node drops its copy of the raft log: it is no longer a member. */
export async function removeRaftState(paths: StatePaths): Promise<void> {
  await rm(paths.raft, { recursive: true, force: true });
}
