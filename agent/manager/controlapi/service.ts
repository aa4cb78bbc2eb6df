/**
 * The control API as a gRPC service. This file is transport only: it validates each request
 * (control-schema.ts), hands it to a ControlApi implementation, and turns errors into statuses. Who
 * may call is decided by `authorize` (manager certificates on the TCP port; the Unix socket relies on
 * its file mode), and what the call does is the implementation's business (the leader's handlers, or
 * a follower's forwarder).
 */
import * as grpc from '@grpc/grpc-js';
import { CONTROL_METHODS, type ControlApi, type ControlMethod, controlPath, type ControlRequest } from '../../api/control';
import { parseControlRequest } from '../../api/control-schema';
import { UNDECODABLE } from '../../rpc/json-codec';
import { unaryJsonMethod } from '../../rpc/json-service';
import { RpcStatusError, toServerError } from '../../rpc/status';

export const controlServiceDefinition: grpc.ServiceDefinition = Object.fromEntries(
  CONTROL_METHODS.map((method) => [method, unaryJsonMethod(controlPath(method))]),
);

export interface ControlServiceOptions {
  /** Throws (a status error) when the caller may not use the control API. */
  authorize?: (call: grpc.ServerUnaryCall<unknown, unknown>) => void;
  /** Sees unexpected errors (bugs), which callers only learn about as INTERNAL. */
  onInternalError?: (method: ControlMethod, err: unknown) => void;
}

function invoke<M extends ControlMethod>(api: ControlApi, method: M, request: ControlRequest<M>): Promise<unknown> {
  // Each ControlApi method takes its own request type; the table above pairs them, TS cannot see it.
  const handler = api[method] as (request: ControlRequest<M>) => Promise<unknown>;
  return handler.call(api, request);
}

export function addControlService(server: grpc.Server, api: ControlApi, options: ControlServiceOptions = {}): void {
  const handlers: grpc.UntypedServiceImplementation = {};
  for (const method of CONTROL_METHODS) {
    const handle: grpc.handleUnaryCall<unknown, unknown> = (call, callback) => {
      const run = async () => {
        options.authorize?.(call);
        if (call.request === UNDECODABLE) {
          throw new RpcStatusError(grpc.status.INVALID_ARGUMENT, `${method}: the request is not UTF-8 JSON`, 'InvalidArgument');
        }
        return invoke(api, method, parseControlRequest(method, call.request));
      };
      run().then(
        (response) => callback(null, response),
        (err: unknown) => callback(toServerError(err, (bug) => options.onInternalError?.(method, bug))),
      );
    };
    handlers[method] = handle;
  }
  server.addService(controlServiceDefinition, handlers);
}
