import { describe, expect, it } from 'vitest';
import { constraintsMatch, parseConstraint, parseConstraints } from '../../agent/manager/scheduler/constraint';
import { NodeInfo } from '../../agent/manager/scheduler/node-info';
import { makeNode } from './fixtures';

const node = NodeInfo.of(
  makeNode({ id: 'n1abc', hostname: 'web-1', role: 'manager', labels: { zone: 'a', Tier: 'Front' }, engineLabels: { disk: 'ssd' }, os: 'linux', arch: 'x86_64' }),
);

function matches(expr: string): boolean {
  const parsed = parseConstraints([expr]);
  if (!parsed.ok) throw new Error(parsed.error);
  return constraintsMatch(parsed.constraints, node);
}

describe('constraints', () => {
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
  });

  it('treats a missing label as empty: == fails, != holds', () => {
    expect(matches('node.labels.rack==r1')).toBe(false);
    expect(matches('node.labels.rack!=r1')).toBe(true);
  });

  it('allows spaces around the operator', () => {
    expect(matches('node.labels.zone == a')).toBe(true);
  });

  it('requires all constraints of a placement', () => {
    const parsed = parseConstraints(['node.role==manager', 'node.labels.zone==b']);
    expect(parsed.ok && constraintsMatch(parsed.constraints, node)).toBe(false);
  });

  it.each([
    ['node.labels.zone=a', 'expected exactly one operator, == or !='],
    ['node.labels.zone', 'expected exactly one operator, == or !='],
    ['node.role==manager!=worker', 'expected exactly one operator'],
    ['==a', 'missing attribute'],
    ['node.role==', 'missing value'],
    ['node.colour==red', 'unknown attribute "node.colour"'],
    ['node.labels.==a', 'unknown attribute'],
  ])('rejects %s with a message that says why', (expr, why) => {
    const parsed = parseConstraint(expr);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) {
      expect(parsed.error).toContain(`invalid constraint "${expr}"`);
      expect(parsed.error).toContain(why);
    }
  });
});
