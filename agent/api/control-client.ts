/**
 * The control API's client: swarmctl and the desktop app talk to a manager through this, over the
 * manager's Unix socket (no TLS: the socket's file mode is the access control) or over mutual TLS.
 * Failures reject with an ApiError carrying the manager's code and message.
 */
import * as grpc from '@grpc/grpc-js';
import { decodeMessage, encodeMessage, UNDECODABLE } from '../rpc/json-codec';
import { fromServiceError } from '../rpc/status';
import { type ControlApi, type ControlMethod, controlPath, type ControlRequest, type ControlResponse } from './control';
import { ApiError } from './errors';
import type { SubscribeLogsRequest } from './logs';
import { type LogSink, subscribeRemote } from './logs-client';

export const DEFAULT_CONTROL_TIMEOUT_MS = 30_000;

export interface ControlClientOptions {
  credentials?: grpc.ChannelCredentials;
  channelOptions?: grpc.ChannelOptions;
  /** Per-call deadline. */
  timeoutMs?: number;
  /** How to name the manager in error messages (default: the target). */
  describe?: string;
}

/** `unix:<path>` for a socket path, unchanged otherwise. */
export function controlTarget(socketPath: string): string {
  return `unix:${socketPath}`;
}

export class ControlClient implements ControlApi {
  private readonly client: grpc.Client;
  private readonly timeoutMs: number;
  private readonly describe: string;

  constructor(target: string, options: ControlClientOptions = {}) {
    this.client = new grpc.Client(target, options.credentials ?? grpc.credentials.createInsecure(), options.channelOptions ?? {});
    this.timeoutMs = options.timeoutMs ?? DEFAULT_CONTROL_TIMEOUT_MS;
    this.describe = options.describe ?? `the manager at ${target}`;
  }

  /** A client for a manager's local control socket. */
  static forSocket(socketPath: string, options: Omit<ControlClientOptions, 'credentials'> = {}): ControlClient {
    return new ControlClient(controlTarget(socketPath), { describe: `the manager's control socket ${socketPath}`, ...options });
  }

  call<M extends ControlMethod>(method: M, request: ControlRequest<M>): Promise<ControlResponse<M>> {
    const deadline = Date.now() + this.timeoutMs;
    return new Promise((resolve, reject) => {
      this.client.makeUnaryRequest(controlPath(method), encodeMessage, decodeMessage, request, { deadline }, (err, response) => {
        if (err) reject(fromServiceError(err, this.describe));
        else if (response === UNDECODABLE || typeof response !== 'object' || response === null) {
          reject(new ApiError('Internal', `${this.describe} sent an unreadable answer to ${method}`));
        } else resolve(response as ControlResponse<M>);
      });
    });
  }

  /** Streams the selected tasks' log lines to `sink`; returns how to stop. */
  subscribeLogs(request: SubscribeLogsRequest, sink: LogSink): () => void {
    return subscribeRemote(this.client, this.describe, request, sink);
  }

  close(): void {
    this.client.close();
  }

  listNodes = (request: ControlRequest<'listNodes'>) => this.call('listNodes', request);
  getNode = (request: ControlRequest<'getNode'>) => this.call('getNode', request);
  updateNode = (request: ControlRequest<'updateNode'>) => this.call('updateNode', request);
  removeNode = (request: ControlRequest<'removeNode'>) => this.call('removeNode', request);
  listClusters = (request: ControlRequest<'listClusters'>) => this.call('listClusters', request);
  getCluster = (request: ControlRequest<'getCluster'>) => this.call('getCluster', request);
  updateCluster = (request: ControlRequest<'updateCluster'>) => this.call('updateCluster', request);
  getVersion = (request: ControlRequest<'getVersion'>) => this.call('getVersion', request);
  createService = (request: ControlRequest<'createService'>) => this.call('createService', request);
  getService = (request: ControlRequest<'getService'>) => this.call('getService', request);
  listServices = (request: ControlRequest<'listServices'>) => this.call('listServices', request);
  updateService = (request: ControlRequest<'updateService'>) => this.call('updateService', request);
  rollbackService = (request: ControlRequest<'rollbackService'>) => this.call('rollbackService', request);
  removeService = (request: ControlRequest<'removeService'>) => this.call('removeService', request);
  listTasks = (request: ControlRequest<'listTasks'>) => this.call('listTasks', request);
  getTask = (request: ControlRequest<'getTask'>) => this.call('getTask', request);
  removeTask = (request: ControlRequest<'removeTask'>) => this.call('removeTask', request);
}
