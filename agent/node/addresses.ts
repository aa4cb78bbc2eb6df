/** Parsing and choosing the addresses a node listens on and advertises. */
import { networkInterfaces } from 'node:os';

export interface HostPort {
  host: string;
  port: number;
}

export const DEFAULT_REMOTE_API_PORT = 4242;

/** Parses `host:port`, `[v6]:port` or `:port`; throws a message naming the flag. */
export function parseHostPort(value: string, flag: string): HostPort {
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(value);
  const port = match ? Number(match[3]) : NaN;
  if (!match || port > 65535) throw new Error(`${flag} must be host:port (for example 0.0.0.0:4242), not "${value}"`);
  return { host: match[1] ?? (match[2] === '' || match[2] === undefined ? '0.0.0.0' : match[2]), port };
}

export function formatHostPort({ host, port }: HostPort): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '';
}

/** The first non-internal IPv4 address of this machine, or loopback when there is none. */
export function primaryAddress(): string {
  for (const addresses of Object.values(networkInterfaces())) {
    for (const address of addresses ?? []) if (address.family === 'IPv4' && !address.internal) return address.address;
  }
  return '127.0.0.1';
}

/** What peers should dial: the flag, else the listen address unless it is a wildcard, else our IP. */
export function advertiseAddress(listen: HostPort, advertise: string | undefined): string {
  if (advertise !== undefined) {
    // `--advertise-remote-api 10.0.0.5` without a port means the listening port.
    return advertise.includes(':') && !/^[0-9a-f:]+$/i.test(advertise) ? formatHostPort(parseHostPort(advertise, '--advertise-remote-api')) : formatHostPort({ host: advertise, port: listen.port });
  }
  return formatHostPort({ host: isWildcard(listen.host) ? primaryAddress() : listen.host, port: listen.port });
}
