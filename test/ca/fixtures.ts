import { createNodeCsr, createRootCa, newClusterId, newNodeId, type NodeRole, type RootCa, signNodeCsr, type SignNodeCsrRequest } from '../../agent/ca';

export interface IssuedNode {
  nodeId: string;
  role: NodeRole;
  certPem: string;
  keyPem: string;
}

export interface TestCluster {
  rootCa: RootCa;
  clusterId: string;
  issue(role: NodeRole, extra?: Partial<SignNodeCsrRequest>): Promise<IssuedNode>;
}

export async function makeCluster(): Promise<TestCluster> {
  const rootCa = await createRootCa();
  const clusterId = newClusterId();
  return {
    rootCa,
    clusterId,
    async issue(role, extra = {}) {
      const nodeId = extra.nodeId ?? newNodeId();
      const { keyPem, csrPem } = await createNodeCsr();
      const certPem = await signNodeCsr(rootCa, csrPem, { nodeId, role, clusterId, ...extra });
      return { nodeId, role, certPem, keyPem };
    },
  };
}
