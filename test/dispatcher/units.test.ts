/** Small pure pieces of the dispatcher: peer addresses, status updates, session content. */
import { describe, expect, it } from 'vitest';
import { applyStatusUpdate, peerIp } from '../../agent/manager/dispatcher';
import { heartbeatPeriodOf, managerPeerOf } from '../../agent/manager/dispatcher/session-content';
import type { Node } from '../../agent/api/objects';
import { parseSessionRequest } from '../../agent/api/dispatcher';
import { cluster, node } from '../store/fixtures';
import { description } from './fixtures';

const meta = { version: 3, createdAt: '2025-01-01T00:00:00.000Z', updatedAt: '2025-01-01T00:00:00.000Z' };

describe('peerIp', () => {
  it.each([
    ['127.0.0.1:50512', '127.0.0.1'],
    ['10.1.2.3:4242', '10.1.2.3'],
    ['::1:50512', '::1'],
    ['[::1]:50512', '::1'],
    ['::ffff:192.168.1.7:4000', '192.168.1.7'],
    ['fe80::1:2:4000', 'fe80::1:2'],
    ['ipv4:10.0.0.1:80', '10.0.0.1'],
    ['unknown', ''],
    ['/tmp/swarmd.sock', ''],
  ])('%s -> %s', (peer, ip) => expect(peerIp(peer)).toBe(ip));
});

describe('applyStatusUpdate', () => {
  const base: Node = { ...node('n1', 'h1'), meta };

  it('returns undefined when nothing changes', () => {
    expect(applyStatusUpdate(base, { state: 'ready', message: '', addr: '10.0.0.1' })).toBeUndefined();
    expect(applyStatusUpdate(base, { state: 'ready', message: '', description: base.description })).toBeUndefined();
  });

  it('keeps the address and description when the update has none', () => {
    const next = applyStatusUpdate(base, { state: 'down', message: 'heartbeat failure' });
    expect(next?.status).toEqual({ state: 'down', message: 'heartbeat failure', addr: '10.0.0.1' });
    expect(next?.description).toBe(base.description);
  });

  it('replaces the description', () => {
    const next = applyStatusUpdate(base, { state: 'ready', message: '', description: description('h2') });
    expect(next?.description?.hostname).toBe('h2');
  });
});

describe('session content', () => {
  it('takes the heartbeat period from the cluster, with the default for a missing or bad one', () => {
    const c = { ...cluster('c1'), meta };
    expect(heartbeatPeriodOf(c)).toBe(5000);
    expect(heartbeatPeriodOf({ ...c, spec: { ...c.spec, dispatcher: { heartbeatPeriodMs: 1234 } } })).toBe(1234);
    expect(heartbeatPeriodOf({ ...c, spec: { ...c.spec, dispatcher: { heartbeatPeriodMs: 0 } } })).toBe(5000);
    expect(heartbeatPeriodOf(undefined)).toBe(5000);
  });

  it('offers managers with a known address only', () => {
    const m: Node = { ...node('m1', 'h'), meta, role: 'manager' };
    expect(managerPeerOf(m)).toBeUndefined();
    const withAddr = { ...m, managerStatus: { raftId: 1, addr: '10.0.0.1:4242', leader: true, reachability: 'reachable' as const } };
    expect(managerPeerOf(withAddr)).toEqual({ nodeId: 'm1', addr: '10.0.0.1:4242' });
    expect(managerPeerOf({ ...withAddr, role: 'worker' })).toBeUndefined();
  });
});

describe('session request validation', () => {
  it('drops unknown fields and keeps no undefined members', () => {
    const { engine: _engine, ...noEngine } = description('x');
    const parsed = parseSessionRequest({ description: { ...noEngine, extra: 1 }, more: true });
    expect(parsed).toEqual({ description: noEngine });
    expect(Object.keys(parsed.description)).not.toContain('engine');
  });

  it('names the bad field', () => {
    expect(() => parseSessionRequest({ description: { ...description('x'), hostname: '' } })).toThrow(/description\.hostname/);
    expect(() => parseSessionRequest('nope')).toThrow(/not a JSON object/);
  });
});
