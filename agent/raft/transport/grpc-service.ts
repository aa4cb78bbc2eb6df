/**
 * The raft service as gRPC sees it: one bidirectional streaming method carrying our own binary frames.
 * We serialize frames ourselves (agent/raft/codec) instead of protobuf so the WAL and the wire share one
 * encoding and no code generation is needed.
 */
import type * as grpc from '@grpc/grpc-js';

const identity = (value: Buffer): Buffer => value;

export const RAFT_STREAM_PATH = '/swarmdesk.raft.Raft/Stream';

export const raftServiceDefinition: grpc.ServiceDefinition = {
  stream: {
    path: RAFT_STREAM_PATH,
    requestStream: true,
    responseStream: true,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
};
