/**
 * Cost of one per-call peer check (requireRole -> peerIdentity) as the dispatcher makes it for every
 * heartbeat and status report: a verified worker certificate, re-checked against the root.
 *   tsx test/bench/peer-identity-bench.ts [--calls N]
 */
import { X509Certificate } from 'node:crypto';
import type { PeerCertificate } from 'node:tls';
import { parseArgs } from 'node:util';
import { createNodeCsr, createRootCa, newClusterId, newNodeId, peerIdentity, signNodeCsr } from '../../agent/ca';

const { values } = parseArgs({ options: { calls: { type: 'string', default: '2000' } } });
const calls = Number(values.calls);
const rootCa = await createRootCa();
const clusterId = newClusterId();
const { csrPem } = await createNodeCsr();
const certPem = await signNodeCsr(rootCa, csrPem, { nodeId: newNodeId(), role: 'worker', clusterId });
const raw = new X509Certificate(certPem).raw;
// grpc-js hands each call a fresh peer certificate object (getPeerCertificate), so do the same.
const call = { getAuthContext: () => ({ transportSecurityType: 'ssl', sslPeerCertificate: { raw: Buffer.from(raw) } as PeerCertificate }) };
const options = { rootCaPem: rootCa.certPem, clusterId };
for (let i = 0; i < 200; i++) peerIdentity(call, options);
const times: number[] = [];
for (let round = 0; round < 5; round++) {
  const started = performance.now();
  for (let i = 0; i < calls; i++) if (peerIdentity(call, options) === undefined) throw new Error('the certificate did not verify');
  times.push(((performance.now() - started) * 1000) / calls);
}
times.sort((a, b) => a - b);
process.stdout.write(`peerIdentity: median ${times[2]?.toFixed(1)} µs per call (rounds: ${times.map((t) => t.toFixed(1)).join(', ')} µs)\n`);
