/**
 * Every way provisioning fails, as a code the UI and the scripting command can branch on and a sentence
 * a person can act on. Messages never contain a password, passphrase or join token.
 */
import type { HostKey } from './known-hosts';

export type ProvisionErrorCode =
  /** The server refused the password, key or agent identities offered. */
  | 'auth-failed'
  /** The private key is encrypted and no passphrase was given. */
  | 'key-encrypted'
  /** The private key could not be read or decrypted (wrong passphrase, damaged or unsupported key). */
  | 'key-invalid'
  /** ssh-agent was chosen but no agent answers. */
  | 'agent-unavailable'
  /** No route to the host or the name does not resolve. */
  | 'unreachable'
  /** Something answered, but nothing listens on the SSH port. */
  | 'refused'
  /** No SSH handshake within the time allowed (a firewall dropping packets, a host that is down). */
  | 'timeout'
  /** First contact: the user must trust this fingerprint (in `hostKey`) before going on. */
  | 'host-key-unknown'
  /** The host presents a different key than the one trusted: possible interception. */
  | 'host-key-mismatch'
  /** The connection dropped in the middle of the work. */
  | 'connection-lost'
  /** The user cancelled. */
  | 'cancelled'
  /** Not root and sudo refused (no sudo, not allowed, or the wrong password). */
  | 'sudo-failed'
  /** A remote command failed or took too long. */
  | 'command-failed'
  /** A preflight check found the machine unsuitable (OS, architecture, disk, clock, Docker, network). */
  | 'preflight-failed'
  /** Docker is missing and may be installed only with the user's consent. */
  | 'consent-required'
  /** Installing or starting the agent failed. */
  | 'install-failed'
  /** The cluster refused the join, or the node did not become READY in time. */
  | 'join-failed'
  /** Bad input (host, port, role, ...). */
  | 'invalid-argument';

export class ProvisionError extends Error {
  override readonly name = 'ProvisionError';

  constructor(
    readonly code: ProvisionErrorCode,
    message: string,
    /** For `host-key-unknown` and `host-key-mismatch`: the key the host presented. */
    readonly hostKey?: HostKey,
  ) {
    super(message);
  }
}

export function isProvisionError(err: unknown, code?: ProvisionErrorCode): err is ProvisionError {
  return err instanceof ProvisionError && (code === undefined || err.code === code);
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
