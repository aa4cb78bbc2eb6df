/** What the scheduler's NodeInfo gives constraints to read (the parser itself: test/api/constraint.test.ts). */
import { describe, expect, it } from 'vitest';
import { constraintsMatch, parseConstraints } from '../../agent/api/constraint';
import { NodeInfo } from '../../agent/manager/scheduler/node-info';
import { makeNode } from './fixtures';

const node = NodeInfo.of(
  makeNode({ id: 'n1abc', hostname: 'web-1', role: 'manager', labels: { zone: 'a' }, engineLabels: { disk: 'ssd' }, os: 'linux', arch: 'x86_64' }),
);

function matches(expr: string): boolean {
  const parsed = parseConstraints([expr]);
  if (!parsed.ok) throw new Error(parsed.error);
  return constraintsMatch(parsed.constraints, node);
}

describe('constraints on a NodeInfo', () => {
  it.each([
    ['node.id==n1abc', 'node.id==n2'],
    ['node.hostname==web-1', 'node.hostname==web-2'],
    ['node.role==manager', 'node.role==worker'],
    ['node.platform.os==linux', 'node.platform.os==windows'],
    ['node.platform.arch==x86_64', 'node.platform.arch==arm64'],
    ['node.labels.zone==a', 'node.labels.zone==b'],
    ['engine.labels.disk==ssd', 'engine.labels.disk==hdd'],
  ])('reads every attribute from the node: %s holds, %s does not', (holds, fails) => {
    expect(matches(holds)).toBe(true);
    expect(matches(fails)).toBe(false);
  });
});
