import { describe, expect, it } from 'vitest';
import { nextRenewalTime, renewalDelayMs } from '../../agent/ca';

const notBefore = new Date('2030-01-01T00:00:00Z');
const notAfter = new Date(notBefore.getTime() + 90 * 24 * 60 * 60 * 1000);
const lifetime = notAfter.getTime() - notBefore.getTime();
const at = (fraction: number) => notBefore.getTime() + Math.floor(lifetime * fraction);

describe('renewal time', () => {
  it('is at 50% of the lifetime with random 0 and 80% with random 1', () => {
    expect(nextRenewalTime({ notBefore, notAfter }, () => 0).getTime()).toBe(at(0.5));
    expect(nextRenewalTime({ notBefore, notAfter }, () => 1).getTime()).toBe(at(0.8));
    expect(nextRenewalTime({ notBefore, notAfter }, () => 0.5).getTime()).toBe(at(0.65));
  });

  it('stays in the window for any random value, even out-of-range ones', () => {
    for (const r of [-1, 0, 0.1, 0.999, 1, 2, Math.random()]) {
      const t = nextRenewalTime({ notBefore, notAfter }, () => r).getTime();
      expect(t).toBeGreaterThanOrEqual(at(0.5));
      expect(t).toBeLessThanOrEqual(at(0.8));
    }
    for (let i = 0; i < 1000; i++) {
      const t = nextRenewalTime({ notBefore, notAfter }).getTime();
      expect(t).toBeGreaterThanOrEqual(at(0.5));
      expect(t).toBeLessThanOrEqual(at(0.8));
    }
  });

  it('gives a delay from now, zero once the point has passed', () => {
    expect(renewalDelayMs({ notBefore, notAfter }, notBefore, () => 0)).toBe(at(0.5) - notBefore.getTime());
    expect(renewalDelayMs({ notBefore, notAfter }, notAfter, () => 1)).toBe(0);
  });
});
