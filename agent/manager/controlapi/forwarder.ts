/**
 * Control API calls made to a follower are answered by the leader, transparently: the follower relays
 * the call over mutual TLS with its own manager certificate and passes the answer (or the error, with
 * its code) back. Only calls that arrive on the local socket are relayed; calls arriving from another
 * manager are served only by the leader, so a relay can never bounce between two confused followers.
 */
import { CONTROL_METHODS, type ControlApi, type ControlMethod, type ControlRequest, type ControlResponse } from '../../api/control';
import type { ControlClient } from '../../api/control-client';
import { ApiError } from '../../api/errors';

export interface LeaderRouting {
  isLeader(): boolean;
  /** The leader's remote API address, or undefined while there is none. */
  leaderAddress(): string | undefined;
}

export const NO_LEADER_MESSAGE = 'no leader is elected: the managers may have lost quorum (see swarmd --force-new-cluster)';

type Route = <M extends ControlMethod>(method: M, request: ControlRequest<M>) => Promise<ControlResponse<M>>;

function viaRoute(route: Route): ControlApi {
  const api: Partial<Record<ControlMethod, (request: never) => Promise<unknown>>> = {};
  for (const method of CONTROL_METHODS) api[method] = (request: ControlRequest<typeof method>) => route(method, request);
  return api as ControlApi;
}

function callLocal<M extends ControlMethod>(local: ControlApi, method: M, request: ControlRequest<M>): Promise<ControlResponse<M>> {
  const handler = local[method] as (request: ControlRequest<M>) => Promise<ControlResponse<M>>;
  return handler.call(local, request);
}

/** For the local socket: the leader answers itself; a follower relays to the leader. */
export function leaderRoutedControlApi(local: ControlApi, routing: LeaderRouting, clientFor: (address: string) => ControlClient): ControlApi {
  return viaRoute((method, request) => {
    if (routing.isLeader()) return callLocal(local, method, request);
    const address = routing.leaderAddress();
    if (address === undefined) return Promise.reject(new ApiError('Unavailable', NO_LEADER_MESSAGE));
    return clientFor(address).call(method, request);
  });
}

/** For calls from other managers: answered only while this manager leads. */
export function leaderOnlyControlApi(local: ControlApi, routing: LeaderRouting): ControlApi {
  return viaRoute((method, request) => {
    if (!routing.isLeader()) return Promise.reject(new ApiError('Unavailable', 'this manager is no longer the leader; retry'));
    return callLocal(local, method, request);
  });
}
