/** Reading logs from a manager's Logs service (swarmctl, the desktop app, and followers' relays). */
import type * as grpc from '@grpc/grpc-js';
import { decodeMessage, encodeMessage } from '../rpc/json-codec';
import { fromServiceError } from '../rpc/status';
import type { ApiError } from './errors';
import { LOGS_PATHS, type LogLine, type SubscribeLogsRequest } from './logs';

export interface LogSink {
  send(lines: LogLine[]): void;
  /** Once: with an error, or without when every node said it was done. */
  end(error?: ApiError): void;
}

/** Subscribes on the manager `client` talks to; returns how to cancel. */
export function subscribeRemote(client: grpc.Client, describe: string, request: SubscribeLogsRequest, sink: LogSink): () => void {
  const stream = client.makeServerStreamRequest(LOGS_PATHS.subscribeLogs, encodeMessage, decodeMessage, request);
  let ended = false;
  const finish = (error?: ApiError) => {
    if (ended) return;
    ended = true;
    sink.end(error);
  };
  stream.on('data', (batch: unknown) => {
    const lines = (batch as { lines?: unknown } | null)?.lines;
    if (Array.isArray(lines)) sink.send(lines as LogLine[]);
  });
  stream.on('error', (err: unknown) => finish(fromServiceError(err, describe)));
  stream.on('end', () => finish());
  return () => {
    ended = true;
    stream.cancel();
  };
}
