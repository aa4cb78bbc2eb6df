/**
 * The CA service's view of the cluster (JoinAuthority), backed by the replicated store: the current
 * join tokens, the node records that joining creates, and each node's role for renewals.
 */
import { ApiError } from '../api/errors';
import type { JoinAuthority } from '../ca/ca-service';
import { DEFAULT_NODE_CERT_VALIDITY_MS } from '../ca/node-cert';
import { newNodeId } from '../ca/ids';
import type { NodeRole } from '../ca/roles';
import type { RootCa } from '../ca/root-ca';
import type { SecretSealer } from '../ca/sealing';
import type { MemoryStore } from '../store';
import type { Cluster } from '../api/objects';
import { newNodeObject } from './cluster-objects';

export class StoreJoinAuthority implements JoinAuthority {
  constructor(
    private readonly store: MemoryStore,
    readonly rootCa: RootCa,
    readonly clusterId: string,
    private readonly sealer: SecretSealer,
  ) {}

  private cluster(): Cluster {
    const cluster = this.store.get('cluster', this.clusterId);
    if (cluster === undefined) throw new ApiError('Unavailable', 'the cluster is still being created');
    return cluster;
  }

  joinTokens(): { worker: string; manager: string } {
    const { joinTokens } = this.cluster().rootCa;
    return { worker: this.sealer.unseal(joinTokens.worker), manager: this.sealer.unseal(joinTokens.manager) };
  }

  async registerNode(role: NodeRole, advertiseAddress: string | undefined): Promise<string> {
    const created = await this.store.createObject('node', newNodeObject(newNodeId(), role, advertiseAddress));
    return created.id;
  }

  async currentRole(nodeId: string): Promise<NodeRole | undefined> {
    return this.store.get('node', nodeId)?.role;
  }

  certValidityMs(): number {
    return this.store.get('cluster', this.clusterId)?.spec.caConfig.nodeCertExpiryMs ?? DEFAULT_NODE_CERT_VALIDITY_MS;
  }
}
