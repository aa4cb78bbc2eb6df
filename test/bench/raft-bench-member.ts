/**
 * One raft member process for the raft benchmark: the real runner, WAL (fsync on) and gRPC transport,
 * with a key-value state machine and a small unary "Put" service for the load generator.
 *   tsx test/bench/raft-bench-member.ts --id 1 --port 5001 --bench-port 6001 --dir D --peers 2=127.0.0.1:5002,3=127.0.0.1:5003
 *   [--eager-commit]  announce every commit index with an App of its own (etcd's way; lazyCommitNotice off)
 *   [--blocking-wal]  WAL appends as blocking system calls on the loop's thread (see blocking-append-fs.ts)
 */
import * as grpc from '@grpc/grpc-js';
import { parseArgs } from 'node:util';
import { RaftRunner } from '../../agent/raft/runner';
import { NodeFs } from '../../agent/raft/storage/fs';
import { DurableRaftStorage } from '../../agent/raft/storage/raft-storage';
import { GrpcRaftTransport } from '../../agent/raft/transport/grpc-transport';
import { withoutChannelz } from '../../agent/ca/tls-credentials';
import { KvStateMachine } from '../raft/kv-state-machine';
import { BlockingAppendFs } from './blocking-append-fs';

const { values } = parseArgs({
  options: {
    id: { type: 'string' },
    port: { type: 'string' },
    'bench-port': { type: 'string' },
    dir: { type: 'string' },
    peers: { type: 'string' },
    'eager-commit': { type: 'boolean', default: false },
    'blocking-wal': { type: 'boolean', default: false },
  },
});

const identity = (value: Buffer): Buffer => value;
const benchService: grpc.ServiceDefinition = {
  put: { path: '/swarmdesk.bench.Kv/Put', requestStream: false, responseStream: false, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity },
  role: { path: '/swarmdesk.bench.Kv/Role', requestStream: false, responseStream: false, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity },
};

function bind(server: grpc.Server, port: string): Promise<void> {
  return new Promise((resolve, reject) =>
    server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (error) => (error ? reject(error) : resolve())),
  );
}

async function main(): Promise<void> {
  const id = Number(values.id);
  const peers = new Map<number, string>(
    (values.peers ?? '').split(',').filter(Boolean).map((p) => {
      const [peerId, address] = p.split('=');
      return [Number(peerId), address];
    }),
  );
  const raftServer = new grpc.Server({ 'grpc.max_receive_message_length': 16 * 1024 * 1024, ...withoutChannelz });
  const transport = new GrpcRaftTransport({ server: raftServer, channelCredentials: grpc.credentials.createInsecure(), channelOptions: withoutChannelz });
  await bind(raftServer, String(values.port));
  const fs = values['blocking-wal'] ? new BlockingAppendFs() : new NodeFs();
  const { storage, state } = await DurableRaftStorage.open(String(values.dir), fs);
  const runner = await RaftRunner.start({
    id,
    address: `127.0.0.1:${values.port}`,
    durable: storage,
    restored: state,
    transport,
    stateMachine: new KvStateMachine(),
    bootstrap: true,
    peers,
    lazyCommitNotice: !values['eager-commit'],
  });

  const benchServer = new grpc.Server(withoutChannelz); // as the manager's servers
  benchServer.addService(benchService, {
    put: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
      runner.propose(call.request).then(
        () => callback(null, Buffer.alloc(0)),
        (error: Error) => callback({ code: grpc.status.UNAVAILABLE, details: error.message }),
      );
    },
    role: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
      callback(null, Buffer.from(runner.isLeader ? 'leader' : 'follower'));
    },
  });
  await bind(benchServer, String(values['bench-port']));
  process.send?.('ready');
  process.on('SIGTERM', () => {
    void runner.stop().finally(() => process.exit(0));
  });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
