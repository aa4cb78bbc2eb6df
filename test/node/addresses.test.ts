import { describe, expect, it } from 'vitest';
import { advertiseAddress, parseHostPort } from '../../agent/node/addresses';
import { hostOf } from '../../agent/manager/cluster-objects';

describe('listen and advertise addresses', () => {
  it('parses host:port forms and names the flag when wrong', () => {
    expect(parseHostPort('0.0.0.0:4242', '--x')).toEqual({ host: '0.0.0.0', port: 4242 });
    expect(parseHostPort(':4242', '--x')).toEqual({ host: '0.0.0.0', port: 4242 });
    expect(parseHostPort('[::1]:7', '--x')).toEqual({ host: '::1', port: 7 });
    expect(() => parseHostPort('localhost', '--listen-remote-api')).toThrow('--listen-remote-api must be host:port');
    expect(() => parseHostPort('a:70000', '--x')).toThrow('must be host:port');
  });

  it('advertises the flag, else a concrete listen address, never a wildcard', () => {
    expect(advertiseAddress({ host: '127.0.0.1', port: 4300 }, undefined)).toBe('127.0.0.1:4300');
    expect(advertiseAddress({ host: '0.0.0.0', port: 4242 }, '10.0.0.5')).toBe('10.0.0.5:4242');
    expect(advertiseAddress({ host: '0.0.0.0', port: 4242 }, '10.0.0.5:5000')).toBe('10.0.0.5:5000');
    expect(advertiseAddress({ host: '0.0.0.0', port: 4242 }, undefined)).not.toMatch(/^0\.0\.0\.0/);
  });

  it('takes the host part of an address for node status', () => {
    expect(hostOf('10.0.0.7:2377')).toBe('10.0.0.7');
    expect(hostOf('[fe80::1]:2377')).toBe('fe80::1');
    expect(hostOf('10.0.0.7')).toBe('10.0.0.7');
  });
});
