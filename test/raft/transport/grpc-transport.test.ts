import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { GrpcRaftTransport } from '../../../agent/raft/transport/grpc-transport';
import { decodeFrame, encodeFrame, FrameKind, snapshotChunks } from '../../../agent/raft/transport/frames';
import type { TransportEvents } from '../../../agent/raft/transport/transport';
import { EntryType, type Message, MessageType } from '../../../agent/raft/types';

function message(overrides: Partial<Message>): Message {
  return {
    type: MessageType.App,
    from: 1,
    to: 2,
    term: 1,
    logTerm: 0,
    index: 0,
    commit: 0,
    reject: false,
    rejectHint: 0,
    context: new Uint8Array(0),
    entries: [],
    ...overrides,
  };
}

interface Recorder extends TransportEvents {
  messages: Message[];
  unreachable: number[];
  snapshotStatus: { peer: number; ok: boolean }[];
}

function recorder(): Recorder {
  const r: Recorder = {
    messages: [],
    unreachable: [],
    snapshotStatus: [],
    onMessage: (m) => r.messages.push(m),
    onUnreachable: (peer) => r.unreachable.push(peer),
    onSnapshotStatus: (peer, ok) => r.snapshotStatus.push({ peer, ok }),
  };
  return r;
}

async function until(predicate: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const servers: grpc.Server[] = [];
const transports: GrpcRaftTransport[] = [];

async function member(snapshotChunkBytes?: number): Promise<{ transport: GrpcRaftTransport; events: Recorder; address: string }> {
  const server = new grpc.Server();
  const transport = new GrpcRaftTransport({ server, channelCredentials: grpc.credentials.createInsecure(), snapshotChunkBytes, reconnectDelayMs: 20 });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, p) => (error ? reject(error) : resolve(p))),
  );
  const events = recorder();
  await transport.start(events);
  servers.push(server);
  transports.push(transport);
  return { transport, events, address: `127.0.0.1:${port}` };
}

afterEach(async () => {
  for (const t of transports.splice(0)) await t.stop();
  for (const s of servers.splice(0)) s.forceShutdown();
});

describe('frames', () => {
  it('cuts a snapshot into chunks that reassemble to the original bytes', () => {
    const encoded = Uint8Array.from({ length: 2500 }, (_, i) => i % 251);
    const frames = snapshotChunks(7, encoded, 1000);
    expect(frames).toHaveLength(3);
    const parts = frames.map((f) => decodeFrame(encodeFrame(f)));
    expect(parts.map((p) => p.kind === FrameKind.SnapshotChunk && p.last)).toEqual([false, false, true]);
    const joined = Buffer.concat(parts.map((p) => (p.kind === FrameKind.SnapshotChunk ? p.chunk : new Uint8Array(0))));
    expect(Buffer.compare(joined, encoded)).toBe(0);
  });
});

describe('gRPC raft transport', () => {
  it('delivers appends in order on their stream to a peer', async () => {
    const a = await member();
    const b = await member();
    a.transport.setPeer(2, b.address);
    const sent = Array.from({ length: 50 }, (_, i) =>
      message({ index: i, entries: [{ term: 1, index: i + 1, type: EntryType.Normal, data: Uint8Array.of(i) }] }),
    );
    for (let i = 0; i < sent.length; i += 5) a.transport.send(sent.slice(i, i + 5));
    await until(() => b.events.messages.length === sent.length);
    expect(b.events.messages.map((m) => m.index)).toEqual(sent.map((m) => m.index));
    expect(b.events.messages[3].entries[0].data).toEqual(Uint8Array.of(3));
  });

  it('does not queue a heartbeat behind megabytes of appends: it overtakes them on a stream of its own', async () => {
    const a = await member();
    const b = await member();
    a.transport.setPeer(2, b.address);
    // Warm the connection so both streams exist before the race.
    a.transport.send([message({ type: MessageType.Heartbeat }), message({ entries: [{ term: 1, index: 1, type: EntryType.Normal, data: Uint8Array.of(1) }] })]);
    await until(() => b.events.messages.length === 2);
    b.events.messages.length = 0;
    const bigAppends = Array.from({ length: 24 }, (_, i) =>
      message({ index: i + 1, entries: [{ term: 1, index: i + 2, type: EntryType.Normal, data: new Uint8Array(1024 * 1024).fill(i) }] }),
    );
    for (const append of bigAppends) a.transport.send([append]);
    a.transport.send([message({ type: MessageType.Heartbeat, commit: 7 })]);
    await until(() => b.events.messages.length === bigAppends.length + 1, 30_000);
    const heartbeatAt = b.events.messages.findIndex((m) => m.type === MessageType.Heartbeat);
    // 24 MiB move 64 KiB per flow-control window; the heartbeat on its own stream needs one.
    expect(heartbeatAt).toBeLessThan(bigAppends.length / 2);
    // The appends themselves still arrive in the order sent.
    expect(b.events.messages.filter((m) => m.type === MessageType.App).map((m) => m.index)).toEqual(bigAppends.map((m) => m.index));
  }, 60_000);

  it('sends a large snapshot in chunks and reports it received', async () => {
    const a = await member(64 * 1024);
    const b = await member();
    a.transport.setPeer(2, b.address);
    const data = Uint8Array.from({ length: 5 * 1024 * 1024 + 17 }, (_, i) => (i * 31) % 256);
    const snap = message({
      type: MessageType.Snap,
      snapshot: { metadata: { index: 500, term: 3, confState: { voters: [1, 2, 3], learners: [], removed: [] } }, data },
    });
    a.transport.send([snap]);
    await until(() => a.events.snapshotStatus.length === 1, 15_000);
    expect(a.events.snapshotStatus).toEqual([{ peer: 2, ok: true }]);
    expect(b.events.messages).toHaveLength(1);
    const received = b.events.messages[0].snapshot;
    expect(received?.metadata.index).toBe(500);
    expect(received && Buffer.compare(received.data, data)).toBe(0);
  });

  it('reports an unreachable peer and a lost snapshot, then reconnects when the peer comes up', async () => {
    const a = await member();
    // A port nobody listens on: bind and release one.
    const probe = new grpc.Server();
    const port = await new Promise<number>((resolve, reject) =>
      probe.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
    );
    probe.forceShutdown();
    a.transport.setPeer(2, `127.0.0.1:${port}`);
    a.transport.send([message({}), message({ type: MessageType.Snap, snapshot: { metadata: { index: 1, term: 1, confState: { voters: [], learners: [], removed: [] } }, data: Uint8Array.of(1) } })]);
    await until(() => a.events.unreachable.includes(2) && a.events.snapshotStatus.length > 0);
    expect(a.events.snapshotStatus[0]).toEqual({ peer: 2, ok: false });

    const b = await member();
    a.transport.setPeer(2, b.address);
    await until(() => {
      a.transport.send([message({ index: 42 })]);
      return b.events.messages.some((m) => m.index === 42);
    });
  });

  it('reports a peer it has no address for as unreachable', async () => {
    const a = await member();
    a.transport.send([message({ to: 9 })]);
    expect(a.events.unreachable).toEqual([9]);
  });

  it('refuses an incoming stream the authorizer rejects', async () => {
    const server = new grpc.Server();
    const guarded = new GrpcRaftTransport({ server, channelCredentials: grpc.credentials.createInsecure(), authorizeStream: () => false });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
    );
    servers.push(server);
    transports.push(guarded);
    const events = recorder();
    await guarded.start(events);
    const a = await member();
    a.transport.setPeer(2, `127.0.0.1:${port}`);
    a.transport.send([message({})]);
    await until(() => a.events.unreachable.includes(2));
    expect(events.messages).toHaveLength(0);
  });
});
