/**
 * How a new manager becomes a raft member (SwarmKit's RaftMembership.Join): once it holds a manager
 * certificate, it asks the leader to add it. The leader gives it a fresh raft ID (never reused),
 * records it on the node object, adds it as a learner so it catches up (from a snapshot if the log was
 * compacted) without counting towards quorum, and answers with the member list. The learner promoter
 * (leader-loops.ts) makes it a voter once it has caught up.
 */
import { randomInt } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { LEADER_ADDR_METADATA_KEY } from '../api/dispatcher';
import { ApiError } from '../api/errors';
import { clientCredentials, type ClientTlsMaterial, managerChannelOptions, requireRole } from '../ca/tls-credentials';
import type { RaftRunner } from '../raft/runner';
import type { MemoryStore } from '../store';
import { decodeMessage, encodeMessage } from '../rpc/json-codec';
import { unaryJsonMethod } from '../rpc/json-service';
import { fromServiceError, notLeaderError, toServerError } from '../rpc/status';
import { membershipOf } from './raft-membership';

export const RAFT_JOIN_PATH = '/swarmdesk.raft.Membership/Join';

export interface RaftJoinResponse {
  raftId: number;
  /** [raft ID, address] of every member, the new one included. */
  members: [number, string][];
}

export interface RaftJoinServiceOptions {
  store: MemoryStore;
  runner: () => RaftRunner | undefined;
  rootCaPem: string;
  clusterId: string;
}

/** Raft IDs are random 48-bit numbers: unique without coordination, exact in a JS number. */
function newRaftId(taken: ReadonlySet<number>): number {
  for (;;) {
    const id = randomInt(1, 2 ** 48);
    if (!taken.has(id)) return id;
  }
}

function parseJoinRequest(request: unknown): { addr: string } {
  const addr = (request as { addr?: unknown } | null)?.addr;
  if (typeof addr !== 'string' || !/^[\x21-\x7e]{3,256}$/.test(addr) || !addr.includes(':')) {
    throw new ApiError('InvalidArgument', 'Join: "addr" must be the host:port this manager listens on');
  }
  return { addr };
}

async function join(options: RaftJoinServiceOptions, nodeId: string, addr: string): Promise<RaftJoinResponse> {
  const runner = options.runner();
  if (runner === undefined || !runner.isLeader) {
    throw notLeaderError(runner === undefined ? undefined : membershipOf(runner).addresses.get(runner.status().leaderId));
  }
  const node = options.store.get('node', nodeId);
  if (node === undefined) throw new ApiError('PermissionDenied', `node ${nodeId} was removed from the cluster`);
  if (node.role !== 'manager') throw new ApiError('PermissionDenied', `node ${nodeId} is not a manager`);
  const membership = membershipOf(runner);
  const members = () => [...runner.status().members] as [number, string][];
  const known = node.managerStatus?.raftId;
  if (known !== undefined && (membership.voters.includes(known) || membership.learners.includes(known))) {
    // A retry whose first answer was lost: the member exists, say so again.
    return { raftId: known, members: members() };
  }
  const taken = new Set([...membership.voters, ...membership.learners, ...membership.addresses.keys()]);
  const raftId = newRaftId(taken);
  // Recorded before the member exists, so the ID is never handed out twice even if the add fails.
  await options.store.updateObject('node', { ...node, managerStatus: { raftId, addr, leader: false, reachability: 'unknown' } });
  await runner.addLearner(raftId, addr);
  return { raftId, members: members() };
}

export function addRaftJoinService(server: grpc.Server, options: RaftJoinServiceOptions): void {
  const definition: grpc.ServiceDefinition = { join: unaryJsonMethod(RAFT_JOIN_PATH) };
  const handler: grpc.handleUnaryCall<unknown, unknown> = (call, callback) => {
    const run = async () => {
      const caller = requireRole(call, ['manager'], { rootCaPem: options.rootCaPem, clusterId: options.clusterId });
      return join(options, caller.nodeId, parseJoinRequest(call.request).addr);
    };
    run().then(
      (response) => callback(null, response),
      (err: unknown) => callback(toServerError(err)),
    );
  };
  server.addService(definition, { join: handler });
}

function isJoinResponse(value: unknown): value is RaftJoinResponse {
  const response = value as Partial<RaftJoinResponse> | null;
  return (
    typeof response?.raftId === 'number' &&
    Array.isArray(response.members) &&
    response.members.every((m) => Array.isArray(m) && typeof m[0] === 'number' && typeof m[1] === 'string')
  );
}

/**
 * The joining manager's side: asks each known manager in turn, following a leader hint at once, until
 * the leader adds it. Gives up at the deadline with the last error.
 */
export async function joinRaft(options: {
  managers: readonly string[];
  addr: string;
  tls: ClientTlsMaterial;
  deadline: number;
  retryDelayMs?: number;
}): Promise<RaftJoinResponse> {
  const credentials = clientCredentials(options.tls);
  const queue = [...options.managers];
  let lastError: Error = new ApiError('Unavailable', 'no manager address to join through');
  for (let attempt = 0; Date.now() < options.deadline; attempt++) {
    const address = queue[attempt % Math.max(queue.length, 1)];
    if (address === undefined) break;
    const client = new grpc.Client(address, credentials, managerChannelOptions);
    try {
      return await new Promise<RaftJoinResponse>((resolve, reject) => {
        client.makeUnaryRequest(RAFT_JOIN_PATH, encodeMessage, decodeMessage, { addr: options.addr }, { deadline: Math.min(options.deadline, Date.now() + 10_000) }, (err, response) => {
          if (err) {
            const hint = err.metadata?.get(LEADER_ADDR_METADATA_KEY)[0];
            if (typeof hint === 'string' && !queue.includes(hint)) queue.splice(attempt + 1, 0, hint);
            reject(fromServiceError(err, `the manager at ${address}`));
          } else if (isJoinResponse(response)) resolve(response);
          else reject(new ApiError('Internal', `the manager at ${address} sent an unreadable answer to Join`));
        });
      });
    } catch (err) {
      lastError = err as Error;
      if (err instanceof ApiError && (err.code === 'PermissionDenied' || err.code === 'InvalidArgument')) throw err;
      await new Promise((resolve) => setTimeout(resolve, options.retryDelayMs ?? 300));
    } finally {
      client.close();
    }
  }
  throw lastError;
}
