/**
 * The node's IP as this manager sees it, from grpc-js's getPeer(). grpc-js formats it as
 * `${remoteAddress}:${remotePort}` without brackets, so an IPv6 peer looks like "::1:50512"; IPv4
 * clients of a dual-stack listener appear as "::ffff:10.0.0.5". SwarmKit records the bare IP
 * (net.SplitHostPort of the remote address), so do we.
 */
import { isIP } from 'node:net';

const MAPPED_IPV4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i;

function unmap(ip: string): string {
  const mapped = MAPPED_IPV4.exec(ip);
  return mapped === null ? ip : mapped[1];
}

/** The IP part of a gRPC peer string; '' when it is not an IP (a Unix socket, "unknown"). */
export function peerIp(peer: string): string {
  let host = peer.trim();
  if (host.startsWith('ipv4:') || host.startsWith('ipv6:')) host = host.slice(5);
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(host);
  if (bracketed !== null) return isIP(bracketed[1]) !== 0 ? unmap(bracketed[1]) : '';
  if (isIP(host) === 4) return host;
  // host:port, where host may itself contain colons (IPv6): drop the last ":port" if what remains is an IP.
  const withoutPort = host.replace(/:\d+$/, '');
  if (withoutPort !== host && isIP(withoutPort) !== 0) return unmap(withoutPort);
  return isIP(host) !== 0 ? unmap(host) : '';
}
