/** The log broker, its node-facing service and the Logs service, wired for one manager. */
import * as grpc from '@grpc/grpc-js';
import { ApiError } from '../../api/errors';
import { clientCredentials, type ClientTlsMaterial, managerChannelOptions, requireRole } from '../../ca/tls-credentials';
import type { ComponentLogger } from '../../runtime';
import type { MemoryStore } from '../../store';
import type { LeaderRouting } from '../controlapi/forwarder';
import type { LeaderDuty } from '../manager';
import { LogBroker } from './broker';
import { addLogBrokerService, addLogsService, type LogSubscribe, subscribeRemote } from './service';

export { LogBroker } from './broker';
export { subscribeRemote } from './service';

export interface LogServicesOptions {
  /** The manager's mutual-TLS server (nodes, and relays from followers). */
  server: grpc.Server;
  /** The local control socket's server (swarmctl, the desktop app). */
  socketServer: grpc.Server;
  store: MemoryStore;
  routing: LeaderRouting;
  /** This manager's TLS material, to relay subscriptions to the leader. */
  peerTls: ClientTlsMaterial;
  rootCaPem: string;
  clusterId: string;
  logger: ComponentLogger;
}

export function addLogServices(options: LogServicesOptions): LeaderDuty {
  const broker = new LogBroker({ store: options.store, logger: options.logger });
  addLogBrokerService(options.server, { broker, routing: options.routing, rootCaPem: options.rootCaPem, clusterId: options.clusterId });

  const onLeader: LogSubscribe = (request, sink) => broker.subscribe(request.selector, request.options, sink);
  addLogsService(options.server, {
    subscribe: (request, sink) => {
      if (!broker.isRunning) throw new ApiError('Unavailable', 'this manager is no longer the leader; retry');
      return onLeader(request, sink);
    },
    authorize: (call) => void requireRole(call, ['manager'], { rootCaPem: options.rootCaPem, clusterId: options.clusterId }),
  });

  // On the socket, a follower relays to the leader (one client per leader address).
  const relays = new Map<string, grpc.Client>();
  addLogsService(options.socketServer, {
    subscribe: (request, sink) => {
      if (broker.isRunning) return onLeader(request, sink);
      const address = options.routing.leaderAddress();
      if (address === undefined) throw new ApiError('Unavailable', 'no leader is elected: the managers may have lost quorum');
      let client = relays.get(address);
      if (client === undefined) {
        client = new grpc.Client(address, clientCredentials(options.peerTls), managerChannelOptions);
        relays.set(address, client);
      }
      return subscribeRemote(client, `the leader at ${address}`, request, sink);
    },
  });

  return {
    start: () => broker.start(),
    stop: () => {
      broker.stop();
      for (const client of relays.values()) client.close();
      relays.clear();
    },
  };
}
