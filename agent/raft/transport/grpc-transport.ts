/**
 * Raft over gRPC: long-lived bidirectional streams from this member to each peer (two, on one
 * connection: bulk and control, see laneOf). Outgoing frames go on our streams to the peer; the peer's messages arrive on the stream it opened to us. The server side
 * answers only snapshot acks. Credentials are injected: mutual TLS is configured by the node, not here.
 */
import * as grpc from '@grpc/grpc-js';
import { decodeMessage, encodeMessage } from '../codec';
import type { Message, NodeId } from '../types';
import { decodeFrame, encodeFrame, type Frame, FrameKind, snapshotChunks } from './frames';
import { raftServiceDefinition } from './grpc-service';
import type { RaftTransport, TransportEvents } from './transport';

export interface GrpcRaftTransportOptions {
  /** The node's gRPC server; the raft service is added to it (the caller binds and starts it). */
  server: grpc.Server;
  channelCredentials: grpc.ChannelCredentials;
  channelOptions?: grpc.ChannelOptions;
  /** Snapshot chunk size (default 1 MiB, well under gRPC's 4 MiB message limit). */
  snapshotChunkBytes?: number;
  /** Bytes queued in one peer's stream beyond which ordinary messages are dropped (default 32 MiB). */
  maxQueuedBytes?: number;
  /** After a stream fails, wait this long before opening a new one (default 100 ms). */
  reconnectDelayMs?: number;
  /** Decides whether an incoming raft stream may be served (mutual TLS role checks plug in here). */
  authorizeStream?: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => boolean;
}

const RaftClient = grpc.makeGenericClientConstructor(raftServiceDefinition, 'Raft');

export class GrpcRaftTransport implements RaftTransport {
  private events: TransportEvents | undefined;
  private readonly peers = new Map<NodeId, PeerStream>();
  private readonly incoming = new Set<grpc.ServerDuplexStream<Buffer, Buffer>>();

  constructor(private readonly options: GrpcRaftTransportOptions) {
    options.server.addService(raftServiceDefinition, { stream: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => this.serve(call) });
  }

  async start(events: TransportEvents): Promise<void> {
    this.events = events;
  }

  setPeer(id: NodeId, address: string): void {
    const existing = this.peers.get(id);
    if (existing?.address === address) return;
    existing?.close();
    this.peers.set(id, new PeerStream(id, address, this.options, () => this.events));
  }

  removePeer(id: NodeId): void {
    this.peers.get(id)?.close();
    this.peers.delete(id);
  }

  send(messages: Message[]): void {
    // Group by destination so each peer gets one frame per call.
    const byPeer = new Map<NodeId, Message[]>();
    for (const message of messages) {
      const list = byPeer.get(message.to);
      if (list) list.push(message);
      else byPeer.set(message.to, [message]);
    }
    for (const [to, list] of byPeer) {
      const peer = this.peers.get(to);
      if (peer) peer.send(list);
      else {
        for (const message of list) if (message.snapshot) this.events?.onSnapshotStatus(to, false);
        this.events?.onUnreachable(to);
      }
    }
  }

  async stop(): Promise<void> {
    this.events = undefined;
    for (const peer of this.peers.values()) peer.close();
    this.peers.clear();
    for (const call of this.incoming) call.end();
    this.incoming.clear();
  }

  private serve(call: grpc.ServerDuplexStream<Buffer, Buffer>): void {
    if (this.options.authorizeStream && !this.options.authorizeStream(call)) {
      call.emit('error', { code: grpc.status.PERMISSION_DENIED, details: 'raft requires a manager certificate' });
      return;
    }
    this.incoming.add(call);
    const snapshotParts = new Map<number, Uint8Array[]>();
    call.on('data', (data: Buffer) => {
      let frame: Frame;
      try {
        frame = decodeFrame(data);
      } catch {
        call.destroy(new Error('malformed raft frame'));
        return;
      }
      if (frame.kind === FrameKind.Messages) {
        for (const bytes of frame.messages) this.deliver(bytes);
      } else if (frame.kind === FrameKind.SnapshotChunk) {
        const parts = snapshotParts.get(frame.transferId) ?? [];
        parts.push(frame.chunk.slice());
        if (!frame.last) {
          snapshotParts.set(frame.transferId, parts);
          return;
        }
        snapshotParts.delete(frame.transferId);
        const ok = this.deliver(Buffer.concat(parts));
        call.write(encodeFrame({ kind: FrameKind.SnapshotAck, transferId: frame.transferId, ok }));
      }
    });
    const forget = () => this.incoming.delete(call);
    call.on('end', () => {
      forget();
      call.end();
    });
    call.on('error', forget);
    call.on('close', forget);
  }

  private deliver(bytes: Uint8Array): boolean {
    let message: Message;
    try {
      message = decodeMessage(bytes);
    } catch {
      return false;
    }
    this.events?.onMessage(message);
    return true;
  }
}

/**
 * Which of a peer's two streams a message takes. Entries (appends, forwarded proposals) and snapshots
 * can be megabytes and move at the pace HTTP/2 flow control allows: 64 KiB per window update, each
 * needing a turn of both event loops. On busy managers that is slow, and a heartbeat queued behind
 * them would arrive after the followers' election timeout, moving leadership for nothing (seen with
 * 1,000 nodes). So heartbeats, votes, responses and commit-only appends take a stream of their own.
 * Raft tolerates messages reordered between the two, as it tolerates any network reordering.
 */
function laneOf(message: Message): 'bulk' | 'control' {
  return message.snapshot !== undefined || message.entries.length > 0 ? 'bulk' : 'control';
}

/** The outgoing side of one peer link: one connection, two streams (bulk and control, see laneOf). */
class PeerStream {
  private client: grpc.Client | undefined;
  private readonly bulk: Lane;
  private readonly control: Lane;
  private nextTransferId = 1;
  private readonly pendingSnapshots = new Set<number>();
  private closed = false;

  constructor(
    readonly id: NodeId,
    readonly address: string,
    private readonly options: GrpcRaftTransportOptions,
    private readonly events: () => TransportEvents | undefined,
  ) {
    const lane = (onData?: (data: Buffer) => void) =>
      new Lane(
        () => this.connect(),
        options,
        () => this.onLaneEnd(),
        onData,
      );
    this.bulk = lane((data) => this.onAck(data));
    this.control = lane();
  }

  send(messages: Message[]): void {
    if (this.closed) {
      this.reportDropped(messages);
      return;
    }
    const bulk: Message[] = [];
    const control: Message[] = [];
    for (const message of messages) (laneOf(message) === 'bulk' ? bulk : control).push(message);
    if (control.length > 0) this.sendOn(this.control, control);
    if (bulk.length > 0) this.sendOn(this.bulk, bulk);
  }

  private sendOn(lane: Lane, messages: Message[]): void {
    const call = lane.open();
    if (!call) {
      this.reportDropped(messages);
      return;
    }
    // Raft retransmits what is lost, so a peer that cannot keep up loses messages rather than
    // growing our memory without bound. Checked before encoding: a leader once spent most of its
    // CPU encoding megabytes of appends only to drop them here.
    if (call.writableLength > (this.options.maxQueuedBytes ?? 32 * 1024 * 1024)) {
      this.reportDropped(messages);
      return;
    }
    const ordinary: Uint8Array[] = [];
    for (const message of messages) {
      if (message.snapshot) this.sendSnapshot(call, message);
      else ordinary.push(encodeMessage(message));
    }
    if (ordinary.length === 0) return;
    call.write(encodeFrame({ kind: FrameKind.Messages, messages: ordinary }));
  }

  private sendSnapshot(call: grpc.ClientDuplexStream<Buffer, Buffer>, message: Message): void {
    const transferId = this.nextTransferId++;
    this.pendingSnapshots.add(transferId);
    const chunkSize = this.options.snapshotChunkBytes ?? 1024 * 1024;
    for (const frame of snapshotChunks(transferId, encodeMessage(message), chunkSize)) call.write(encodeFrame(frame));
  }

  private connect(): grpc.Client {
    this.client ??= new RaftClient(this.address, this.options.channelCredentials, this.options.channelOptions);
    return this.client;
  }

  private onAck(data: Buffer): void {
    let frame: Frame;
    try {
      frame = decodeFrame(data);
    } catch {
      return;
    }
    if (frame.kind !== FrameKind.SnapshotAck || !this.pendingSnapshots.delete(frame.transferId)) return;
    this.events()?.onSnapshotStatus(this.id, frame.ok);
  }

  /** A stream failed or ended: snapshots in flight on it are lost (they travel on the bulk lane). */
  private onLaneEnd(): void {
    if (this.closed) return;
    for (const transferId of this.pendingSnapshots) {
      this.pendingSnapshots.delete(transferId);
      this.events()?.onSnapshotStatus(this.id, false);
    }
    this.events()?.onUnreachable(this.id);
  }

  private reportDropped(messages: Message[]): void {
    const events = this.events();
    for (const message of messages) if (message.snapshot) events?.onSnapshotStatus(this.id, false);
    events?.onUnreachable(this.id);
  }

  close(): void {
    this.closed = true;
    this.bulk.close();
    this.control.close();
    this.client?.close();
    this.client = undefined;
  }
}

/** One stream to a peer, opened lazily and reopened (after a short delay) once it fails. */
class Lane {
  private call: grpc.ClientDuplexStream<Buffer, Buffer> | undefined;
  private retryAt = 0;
  private closed = false;

  constructor(
    private readonly client: () => grpc.Client,
    private readonly options: GrpcRaftTransportOptions,
    private readonly onEnd: () => void,
    private readonly onData?: (data: Buffer) => void,
  ) {}

  open(): grpc.ClientDuplexStream<Buffer, Buffer> | undefined {
    if (this.closed) return undefined;
    if (this.call) return this.call;
    if (Date.now() < this.retryAt) return undefined;
    const call = this.client().makeBidiStreamRequest<Buffer, Buffer>(
      raftServiceDefinition.stream.path,
      (value: Buffer) => value,
      (value: Buffer) => value,
    );
    const onData = this.onData;
    // Reading keeps the stream flowing even where nothing is expected back.
    call.on('data', (data: Buffer) => onData?.(data));
    call.on('error', () => this.ended(call));
    call.on('end', () => this.ended(call));
    this.call = call;
    return call;
  }

  private ended(call: grpc.ClientDuplexStream<Buffer, Buffer>): void {
    if (this.call !== call) return;
    this.call = undefined;
    this.retryAt = Date.now() + (this.options.reconnectDelayMs ?? 100);
    if (!this.closed) this.onEnd();
  }

  close(): void {
    this.closed = true;
    this.call?.end();
    this.call = undefined;
  }
}
