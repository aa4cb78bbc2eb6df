/** The one constraint parser (agent/api/constraint.ts): what the spec validation, scheduler and orchestrators all read. */
import { describe, expect, it } from 'vitest';
import { type ConstraintSubject, constraintsMatch, parseConstraint, parseConstraints } from '../../agent/api/constraint';

const node: ConstraintSubject = {
  id: 'n1abc',
  hostname: 'web-1',
  role: 'manager',
  platform: { os: 'linux', arch: 'x86_64' },
  labels: { zone: 'a', Tier: 'Front' },
  engineLabels: { disk: 'ssd' },
};

function matches(expr: string): boolean {
  const parsed = parseConstraints([expr]);
  if (!parsed.ok) throw new Error(parsed.error);
  return constraintsMatch(parsed.constraints, node);
}

describe('matching', () => {
  it.each([
    ['node.id==n1abc', true],
    ['node.id!=n1abc', false],
    ['node.hostname==web-1', true],
    ['node.hostname!=web-1', false],
    ['node.hostname!=web-2', true],
    ['node.role==manager', true],
    ['node.role==worker', false],
    ['node.role!=worker', true],
    ['node.platform.os==linux', true],
    ['node.platform.os==windows', false],
    ['node.platform.arch==x86_64', true],
    ['node.platform.arch!=x86_64', false],
    ['node.labels.zone==a', true],
    ['node.labels.zone==b', false],
    ['node.labels.zone!=b', true],
    ['engine.labels.disk==ssd', true],
    ['engine.labels.disk!=ssd', false],
  ])('%s -> %s', (expr, expected) => {
    expect(matches(expr)).toBe(expected);
  });

  it('compares values ignoring case, label names exactly', () => {
    expect(matches('node.labels.Tier==front')).toBe(true);
    expect(matches('node.labels.tier==front')).toBe(false);
    expect(matches('NODE.ROLE==Manager')).toBe(true);
    expect(matches('Node.Labels.zone==A')).toBe(true);
  });

  it('treats a missing label as empty: == fails, != holds', () => {
    expect(matches('node.labels.rack==r1')).toBe(false);
    expect(matches('node.labels.rack!=r1')).toBe(true);
  });

  it('requires all constraints of a placement', () => {
    const parsed = parseConstraints(['node.role==manager', 'node.labels.zone==b']);
    expect(parsed.ok && constraintsMatch(parsed.constraints, node)).toBe(false);
    const none = parseConstraints(undefined);
    expect(none.ok && constraintsMatch(none.constraints, node)).toBe(true);
  });
});

describe('parsing', () => {
  it('gives key, operator and value as written, spaces around the operator allowed', () => {
    expect(parseConstraint('node.labels.zone == a')).toMatchObject({ ok: true, constraint: { key: 'node.labels.zone', operator: '==', value: 'a' } });
    expect(parseConstraint('node.hostname!=Work-02')).toMatchObject({ ok: true, constraint: { key: 'node.hostname', operator: '!=', value: 'Work-02' } });
  });

  it.each([
    ['node.labels.zone=a', 'expected exactly one operator, == or !='],
    ['node.labels.zone', 'expected exactly one operator, == or !='],
    ['node.role==manager!=worker', 'expected exactly one operator, == or !='],
    ['node.id==a==b', 'expected exactly one operator, == or !='],
    ['==a', 'missing key before the operator'],
    ['node.role==', 'missing value after the operator'],
    ['node.labels.my zone==a', 'key "node.labels.my zone" is not a valid name'],
    ['node.colour==red', 'unknown key "node.colour" (use node.id, node.hostname, node.role, node.platform.os, node.platform.arch, node.labels.<name> or engine.labels.<name>)'],
    ['node.labels.==a', 'key "node.labels." needs a label name'],
    ['engine.labels.==a', 'key "engine.labels." needs a label name'],
    ['node.labels.zone==a<b', 'value "a<b" may hold only letters, digits, spaces and - _ . : / * ( ) ? + [ ] \\ ^ $ |'],
    ['node.role==boss', 'node.role is "manager" or "worker"'],
  ])('refuses %s, saying why', (expr, why) => {
    expect(parseConstraint(expr)).toEqual({ ok: false, error: `invalid constraint "${expr}": ${why}` });
  });

  it('reports the first bad constraint of a placement', () => {
    expect(parseConstraints(['node.role==worker', 'node.zone==a', 'x'])).toEqual({
      ok: false,
      error: expect.stringMatching(/^invalid constraint "node\.zone==a": unknown key/) as unknown,
    });
  });
});
