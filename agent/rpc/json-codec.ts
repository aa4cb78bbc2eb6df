/**
 * Our gRPC services carry JSON objects as UTF-8 bytes (no protobuf code generation), like the raft
 * service's own framing. The decoder never throws: grpc-js would turn a throwing deserializer into
 * INTERNAL, while a bad message is the caller's fault and deserves INVALID_ARGUMENT with a reason.
 */
const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** What decodeMessage yields for bytes that are not UTF-8 JSON, so the handler can answer for them. */
export const UNDECODABLE: unique symbol = Symbol('undecodable');

export function encodeMessage(value: unknown): Buffer {
  return Buffer.from(encoder.encode(JSON.stringify(value)));
}

export function decodeMessage(bytes: Buffer): unknown {
  try {
    return JSON.parse(decoder.decode(bytes)) as unknown;
  } catch {
    return UNDECODABLE;
  }
}
