/**
 * The log broker's gRPC faces. Nodes (worker or manager certificates) listen for subscriptions and
 * publish lines on the leader; a follower answers them UNAVAILABLE with the leader's address, as the
 * dispatcher does. Subscribers call Logs.SubscribeLogs on any manager: on the local socket a follower
 * relays the stream to the leader; on the TCP port (manager certificates) only the leader serves, so a
 * relay cannot bounce.
 */
import * as grpc from '@grpc/grpc-js';
import { ApiError } from '../../api/errors';
import { LOGS_PATHS, type LogLine, publishLogsRequestSchema, type SubscribeLogsRequest, subscribeLogsRequestSchema } from '../../api/logs';
import { requireRole } from '../../ca/tls-credentials';
import { UNDECODABLE } from '../../rpc/json-codec';
import { serverStreamJsonMethod, unaryJsonMethod } from '../../rpc/json-service';
import { notLeaderError, type RpcStatusError, toServerError } from '../../rpc/status';
import type { LeaderRouting } from '../controlapi/forwarder';
import type { LogBroker, LogSubscriberSink } from './broker';

export { subscribeRemote } from '../../api/logs-client';

export const logBrokerServiceDefinition: grpc.ServiceDefinition = {
  listenSubscriptions: serverStreamJsonMethod(LOGS_PATHS.listenSubscriptions),
  publishLogs: unaryJsonMethod(LOGS_PATHS.publishLogs),
};

export const logsServiceDefinition: grpc.ServiceDefinition = {
  subscribeLogs: serverStreamJsonMethod(LOGS_PATHS.subscribeLogs),
};

function parse<T>(schema: { safeParse(value: unknown): { success: true; data: T } | { success: false; error: { issues: { path: PropertyKey[]; message: string }[] } } }, value: unknown, what: string): T {
  if (value === UNDECODABLE) throw new ApiError('InvalidArgument', `${what}: not UTF-8 JSON`);
  const result = schema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new ApiError('InvalidArgument', `${what}: ${issue ? `${issue.path.map(String).join('.')}: ${issue.message}` : 'invalid'}`);
  }
  return result.data;
}

function notLeader(routing: LeaderRouting): RpcStatusError {
  return notLeaderError(routing.leaderAddress());
}

export interface LogBrokerServiceOptions {
  broker: LogBroker;
  routing: LeaderRouting;
  rootCaPem: string;
  clusterId: string;
}

/** The node-facing side, on the managers' TCP port. */
export function addLogBrokerService(server: grpc.Server, options: LogBrokerServiceOptions): void {
  const peerCheck = { rootCaPem: options.rootCaPem, clusterId: options.clusterId };
  const listenSubscriptions: grpc.handleServerStreamingCall<unknown, unknown> = (call) => {
    try {
      const { nodeId } = requireRole(call, ['worker', 'manager'], peerCheck);
      if (!options.broker.isRunning) throw notLeader(options.routing);
      const stopListening = options.broker.listen(nodeId, { send: (message) => call.write(message) });
      call.on('cancelled', stopListening);
      call.on('close', stopListening);
    } catch (err) {
      call.emit('error', toServerError(err));
    }
  };
  const publishLogs: grpc.handleUnaryCall<unknown, unknown> = (call, callback) => {
    try {
      const { nodeId } = requireRole(call, ['worker', 'manager'], peerCheck);
      if (!options.broker.isRunning) throw notLeader(options.routing);
      options.broker.publish(nodeId, parse(publishLogsRequestSchema, call.request, 'PublishLogs'));
      callback(null, {});
    } catch (err) {
      callback(toServerError(err));
    }
  };
  server.addService(logBrokerServiceDefinition, { listenSubscriptions, publishLogs });
}

/** Opens a subscription here (leader) or relays it to the leader; returns how to cancel it. */
export type LogSubscribe = (request: SubscribeLogsRequest, sink: LogSubscriberSink) => () => void;

export interface LogsServiceOptions {
  subscribe: LogSubscribe;
  /** Throws when the caller may not read logs (the TCP port needs a manager certificate). */
  authorize?: (call: grpc.ServerWritableStream<unknown, unknown>) => void;
}

/** The subscriber-facing side: on the local socket, and on the TCP port for relays from followers. */
export function addLogsService(server: grpc.Server, options: LogsServiceOptions): void {
  const subscribeLogs: grpc.handleServerStreamingCall<unknown, unknown> = (call) => {
    let cancel: (() => void) | undefined;
    let ended = false;
    const sink: LogSubscriberSink = {
      send: (lines: LogLine[]) => {
        if (!ended) call.write({ lines });
      },
      end: (error) => {
        if (ended) return;
        ended = true;
        if (error) call.emit('error', toServerError(error));
        else call.end();
      },
    };
    try {
      options.authorize?.(call);
      cancel = options.subscribe(parse(subscribeLogsRequestSchema, call.request, 'SubscribeLogs'), sink);
    } catch (err) {
      ended = true;
      call.emit('error', toServerError(err));
      return;
    }
    call.on('cancelled', () => {
      ended = true;
      cancel?.();
    });
  };
  server.addService(logsServiceDefinition, { subscribeLogs });
}
