/**
 * When to renew a node certificate: a random point between 50% and 80% of its lifetime, as SwarmKit
 * does. The spread keeps a cluster whose certificates were issued together (at bootstrap) from renewing
 * all at once, and 80% leaves a fifth of the lifetime to retry when the CA is unreachable.
 */
export const RENEWAL_WINDOW_START = 0.5;
export const RENEWAL_WINDOW_END = 0.8;

export interface CertificateLifetime {
  readonly notBefore: Date;
  readonly notAfter: Date;
}

/** `random` returns a number in [0, 1] (injected by tests; Math.random by default). */
export function nextRenewalTime(cert: CertificateLifetime, random: () => number = Math.random): Date {
  const start = cert.notBefore.getTime();
  const lifetime = cert.notAfter.getTime() - start;
  if (!(lifetime > 0)) return new Date(start);
  const r = Math.min(1, Math.max(0, random()));
  const fraction = RENEWAL_WINDOW_START + (RENEWAL_WINDOW_END - RENEWAL_WINDOW_START) * r;
  return new Date(start + Math.floor(lifetime * fraction));
}

/** Milliseconds from `now` until renewal; 0 when the point has passed (renew at once). */
export function renewalDelayMs(cert: CertificateLifetime, now: Date = new Date(), random: () => number = Math.random): number {
  return Math.max(0, nextRenewalTime(cert, random).getTime() - now.getTime());
}
