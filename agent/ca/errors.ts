/**
 * Errors of the certificate authority. Each carries a `reason` callers branch on (join flow, renewal,
 * UI messages); messages name what is wrong and never include key material or token secrets.
 */

export type JoinTokenErrorReason =
  | 'not-a-token'
  | 'unsupported-version'
  | 'malformed-digest'
  | 'malformed-secret'
  /** The token's CA digest is not ours: it was issued by another cluster. */
  | 'other-cluster'
  /** The digest is ours but the secret matches neither current token (rotated or mistyped). */
  | 'wrong-secret';

export class JoinTokenError extends Error {
  override readonly name = 'JoinTokenError';
  constructor(
    readonly reason: JoinTokenErrorReason,
    message: string,
  ) {
    super(message);
  }
}

export type CertificateErrorReason =
  | 'malformed-csr'
  | 'unsupported-key'
  | 'bad-signature'
  | 'malformed-certificate'
  | 'not-a-node-certificate'
  | 'untrusted'
  | 'not-yet-valid'
  | 'expired';

export class CertificateError extends Error {
  override readonly name = 'CertificateError';
  constructor(
    readonly reason: CertificateErrorReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
