import { X509Certificate as NodeX509Certificate } from 'node:crypto';
import type { PeerCertificate } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { type CallWithAuthContext, checkManagerIdentity, clientCredentials, peerIdentity, PermissionDeniedError, requireRole } from '../../agent/ca';
import { makeCluster } from './fixtures';

/** A server call as grpc-js presents it once the TLS session verified the client's certificate. */
function callFrom(certPem: string | undefined): CallWithAuthContext {
  return {
    getAuthContext: () =>
      certPem === undefined
        ? {}
        : { transportSecurityType: 'ssl', sslPeerCertificate: { raw: new NodeX509Certificate(certPem).raw } as PeerCertificate },
  };
}

function legacy(certPem: string): PeerCertificate {
  return new NodeX509Certificate(certPem).toLegacyObject();
}

describe('peer identity', async () => {
  const cluster = await makeCluster();
  const other = await makeCluster();
  const manager = await cluster.issue('manager');
  const worker = await cluster.issue('worker', { validityMs: 60 * 60 * 1000 });
  const foreign = await other.issue('manager');

  it('reads node ID, role and cluster from a verified certificate', () => {
    expect(peerIdentity(callFrom(manager.certPem))).toEqual({ nodeId: manager.nodeId, role: 'manager', clusterId: cluster.clusterId });
    expect(peerIdentity(callFrom(undefined))).toBeUndefined();
    expect(peerIdentity({ getAuthContext: () => null })).toBeUndefined();
  });

  it('denies a certificate that has expired since the connection was made', () => {
    const later = new Date(Date.now() + 2 * 60 * 60 * 1000);
    expect(peerIdentity(callFrom(worker.certPem), { now: later })).toBeUndefined();
    expect(() => requireRole(callFrom(worker.certPem), ['worker'], { now: later })).toThrow(PermissionDeniedError);
  });

  it('re-checks the signature against our root and the cluster when asked', () => {
    expect(peerIdentity(callFrom(foreign.certPem), { rootCaPem: cluster.rootCa.certPem })).toBeUndefined();
    expect(peerIdentity(callFrom(manager.certPem), { rootCaPem: cluster.rootCa.certPem })?.nodeId).toBe(manager.nodeId);
    // Outcomes are remembered per root and certificate: asking again, or with the other root, still answers right.
    expect(peerIdentity(callFrom(foreign.certPem), { rootCaPem: cluster.rootCa.certPem })).toBeUndefined();
    expect(peerIdentity(callFrom(foreign.certPem), { rootCaPem: other.rootCa.certPem })?.nodeId).toBe(foreign.nodeId);
    expect(peerIdentity(callFrom(manager.certPem), { rootCaPem: other.rootCa.certPem })).toBeUndefined();
    expect(peerIdentity(callFrom(manager.certPem), { clusterId: other.clusterId })).toBeUndefined();
    // A CA certificate is not a node certificate.
    expect(peerIdentity(callFrom(cluster.rootCa.certPem))).toBeUndefined();
  });

  it('requireRole returns the identity or a PERMISSION_DENIED status error', () => {
    expect(requireRole(callFrom(manager.certPem), ['manager']).nodeId).toBe(manager.nodeId);
    try {
      requireRole(callFrom(worker.certPem), ['manager']);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(PermissionDeniedError);
      expect(err).toMatchObject({ code: grpc.status.PERMISSION_DENIED, details: expect.stringMatching(/needs a manager certificate/) });
    }
  });
});

describe('manager identity check (client side)', async () => {
  const cluster = await makeCluster();
  const manager = await cluster.issue('manager');
  const worker = await cluster.issue('worker');

  it('accepts a manager certificate whatever host name was dialled', () => {
    expect(checkManagerIdentity(legacy(manager.certPem))).toBeUndefined();
    expect(checkManagerIdentity(legacy(manager.certPem), { clusterId: cluster.clusterId, nodeId: manager.nodeId })).toBeUndefined();
  });

  it('rejects workers, other clusters and other nodes', () => {
    expect(checkManagerIdentity(legacy(worker.certPem))?.message).toMatch(/not a manager certificate/);
    expect(checkManagerIdentity(legacy(manager.certPem), { clusterId: 'x'.repeat(25) })?.message).toMatch(/another cluster/);
    expect(checkManagerIdentity(legacy(manager.certPem), { nodeId: worker.nodeId })?.message).toMatch(/another node/);
  });

  it('wants a client certificate and key together', () => {
    expect(() => clientCredentials({ rootCaPem: cluster.rootCa.certPem, certPem: manager.certPem })).toThrow(/together/);
  });
});
