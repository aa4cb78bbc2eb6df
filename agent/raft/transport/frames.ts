/**
 * What travels on a raft stream. The messages of one send to one peer share a frame (fewer gRPC
 * writes under load); a message carrying a snapshot is cut into
 * chunks so a large snapshot neither exceeds gRPC's message size limit nor holds up heartbeats for
 * long. The receiver answers a completed snapshot with an ack frame on the same (bidirectional) stream.
 */
import { ByteReader, ByteWriter, DecodeError } from '../codec';

export enum FrameKind {
  Messages = 0,
  SnapshotChunk = 1,
  SnapshotAck = 2,
}

export type Frame =
  | { kind: FrameKind.Messages; messages: Uint8Array[] }
  | { kind: FrameKind.SnapshotChunk; transferId: number; last: boolean; chunk: Uint8Array }
  | { kind: FrameKind.SnapshotAck; transferId: number; ok: boolean };

export function encodeFrame(frame: Frame): Buffer {
  const w = new ByteWriter(frame.kind === FrameKind.SnapshotAck ? 16 : 16 + payloadLength(frame));
  w.uint(frame.kind);
  switch (frame.kind) {
    case FrameKind.Messages:
      w.uint(frame.messages.length);
      for (const message of frame.messages) w.bytes(message);
      break;
    case FrameKind.SnapshotChunk:
      w.uint(frame.transferId).bool(frame.last).bytes(frame.chunk);
      break;
    case FrameKind.SnapshotAck:
      w.uint(frame.transferId).bool(frame.ok);
      break;
  }
  const bytes = w.finish();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function payloadLength(frame: Frame): number {
  if (frame.kind === FrameKind.Messages) return frame.messages.reduce((sum, m) => sum + m.length + 5, 0);
  if (frame.kind === FrameKind.SnapshotChunk) return frame.chunk.length;
  return 0;
}

export function decodeFrame(buf: Uint8Array): Frame {
  const r = new ByteReader(buf);
  const kind = r.uint();
  let frame: Frame;
  switch (kind) {
    case FrameKind.Messages: {
      const count = r.uint();
      const messages: Uint8Array[] = [];
      for (let i = 0; i < count; i++) messages.push(r.bytes());
      frame = { kind, messages };
      break;
    }
    case FrameKind.SnapshotChunk:
      frame = { kind, transferId: r.uint(), last: r.bool(), chunk: r.bytes() };
      break;
    case FrameKind.SnapshotAck:
      frame = { kind, transferId: r.uint(), ok: r.bool() };
      break;
    default:
      throw new DecodeError(`frame kind ${kind}`);
  }
  r.expectEnd();
  return frame;
}

/** Splits an encoded snapshot message into chunk frames of at most `chunkSize` bytes each. */
export function snapshotChunks(transferId: number, encoded: Uint8Array, chunkSize: number): Frame[] {
  const frames: Frame[] = [];
  for (let offset = 0; offset < encoded.length || frames.length === 0; offset += chunkSize) {
    const chunk = encoded.subarray(offset, Math.min(encoded.length, offset + chunkSize));
    frames.push({ kind: FrameKind.SnapshotChunk, transferId, last: offset + chunkSize >= encoded.length, chunk });
  }
  return frames;
}
