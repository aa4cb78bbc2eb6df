/** The objects a new cluster starts with, and the defaults SwarmKit gives them. */
import type { NewObject } from '../store';
import type { ClusterSpec, JoinTokens } from '../api/objects';
import { generateJoinToken } from '../ca/join-token';
import { DEFAULT_NODE_CERT_VALIDITY_MS } from '../ca/node-cert';
import type { RootCa } from '../ca/root-ca';
import type { SecretSealer } from '../ca/sealing';

export const DEFAULT_CLUSTER_NAME = 'default';
export const DEFAULT_HEARTBEAT_PERIOD_MS = 5000;
export const DEFAULT_TASK_HISTORY = 5;

export function defaultClusterSpec(): ClusterSpec {
  return {
    name: DEFAULT_CLUSTER_NAME,
    labels: {},
    orchestration: { taskHistoryRetentionLimit: DEFAULT_TASK_HISTORY },
    dispatcher: { heartbeatPeriodMs: DEFAULT_HEARTBEAT_PERIOD_MS },
    caConfig: { nodeCertExpiryMs: DEFAULT_NODE_CERT_VALIDITY_MS },
  };
}

/** Fresh tokens, sealed for the store. */
export function newSealedJoinTokens(rootCa: RootCa, sealer: SecretSealer): JoinTokens {
  return { worker: sealer.seal(generateJoinToken(rootCa.certDer)), manager: sealer.seal(generateJoinToken(rootCa.certDer)) };
}

export function newClusterObject(clusterId: string, rootCa: RootCa, sealer: SecretSealer): NewObject<'cluster'> {
  return {
    id: clusterId,
    spec: defaultClusterSpec(),
    status: {},
    rootCa: { caCertPem: rootCa.certPem, joinTokens: newSealedJoinTokens(rootCa, sealer) },
  };
}

/** The host part of host:port (IPv6 in brackets allowed); the address itself when it has no port. */
export function hostOf(address: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(address);
  if (bracketed) return bracketed[1] ?? address;
  const colons = address.split(':').length - 1;
  return colons === 1 ? address.slice(0, address.lastIndexOf(':')) : address;
}

export function newNodeObject(nodeId: string, role: 'worker' | 'manager', advertiseAddress: string | undefined): NewObject<'node'> {
  return {
    id: nodeId,
    spec: { labels: {}, role, availability: 'active' },
    role,
    status: { state: 'unknown', message: 'joined; waiting for its first session', addr: advertiseAddress === undefined ? '' : hostOf(advertiseAddress) },
  };
}
