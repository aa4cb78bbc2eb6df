/** gRPC method definitions for JSON-over-gRPC services (see json-codec.ts). */
import type * as grpc from '@grpc/grpc-js';
import { decodeMessage, encodeMessage } from './json-codec';

export function unaryJsonMethod(path: string): grpc.MethodDefinition<unknown, unknown> {
  return {
    path,
    requestStream: false,
    responseStream: false,
    requestSerialize: encodeMessage,
    requestDeserialize: decodeMessage,
    responseSerialize: encodeMessage,
    responseDeserialize: decodeMessage,
  };
}

export function serverStreamJsonMethod(path: string): grpc.MethodDefinition<unknown, unknown> {
  return { ...unaryJsonMethod(path), responseStream: true };
}
