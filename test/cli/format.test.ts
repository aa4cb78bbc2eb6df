import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from '../../agent/cli/duration';
import { formatClusterInspect, formatClusterList } from '../../agent/cli/format/cluster';
import { formatBytes, formatNodeInspect, formatNodeList } from '../../agent/cli/format/node';
import { formatTable } from '../../agent/cli/format/table';
import { makeCluster, makeNode } from './fixtures';

const LEADER = makeNode({ id: 'ea0b6125sx3ejdx7w1ne1mruk', hostname: 'mgmt-01', manager: { leader: true, reachability: 'reachable' } });
const WORKER = makeNode({ id: 'lnxa1hn4q0dzg6bh1vlyf1k0q', hostname: 'work-01' });
const DRAINED = makeNode({ id: 'bhk2f1rcaaap2ny61yqyiw01i', hostname: 'work-02', name: 'db', state: 'down', availability: 'drain' });
const FOLLOWER = makeNode({ id: '0c4dswgfm9ykb3ls5qbvrxc6m', hostname: 'mgmt-02', manager: { leader: false, reachability: 'unreachable' } });

describe('node ls', () => {
  it('prints SwarmKit columns: full IDs, name or hostname, states uppercased, leader starred, workers blank', () => {
    expect(formatNodeList([LEADER, WORKER, DRAINED, FOLLOWER])).toBe(
      [
        'ID                         Name     Membership  Status  Availability  Manager Status',
        '--                         ----     ----------  ------  ------------  --------------',
        'ea0b6125sx3ejdx7w1ne1mruk  mgmt-01  ACCEPTED    READY   ACTIVE        REACHABLE *',
        'lnxa1hn4q0dzg6bh1vlyf1k0q  work-01  ACCEPTED    READY   ACTIVE',
        'bhk2f1rcaaap2ny61yqyiw01i  db       ACCEPTED    DOWN    DRAIN',
        '0c4dswgfm9ykb3ls5qbvrxc6m  mgmt-02  ACCEPTED    READY   ACTIVE        UNREACHABLE',
        '',
      ].join('\n'),
    );
  });

  it('prints only the header and its rule when there are no nodes', () => {
    expect(formatNodeList([])).toBe(
      'ID  Name  Membership  Status  Availability  Manager Status\n--  ----  ----------  ------  ------------  --------------\n',
    );
  });

  it('shows UNKNOWN for a node being promoted that has no raft status yet', () => {
    const promoting = makeNode({ id: 'lnxa1hn4q0dzg6bh1vlyf1k0q', hostname: 'work-01' });
    promoting.spec.role = 'manager';
    expect(formatNodeList([promoting]).split('\n')[2]).toBe('lnxa1hn4q0dzg6bh1vlyf1k0q  work-01  ACCEPTED    READY   ACTIVE        UNKNOWN');
  });
});

describe('tables', () => {
  it('pads every column but the last, two spaces apart, and never leaves trailing spaces', () => {
    expect(formatTable(['A', 'Long header'], [['wide value', ''], ['x', 'y']])).toBe(
      'A           Long header\n-           -----------\nwide value\nx           y\n',
    );
  });
});

describe('node inspect', () => {
  it('aligns the labels and shows status, manager status, platform and resources', () => {
    const node = { ...LEADER, spec: { ...LEADER.spec, labels: { zone: 'a', ssd: 'true' } } };
    expect(formatNodeInspect(node)).toBe(
      [
        'ID                 : ea0b6125sx3ejdx7w1ne1mruk',
        'Hostname           : mgmt-01',
        'Role               : MANAGER',
        'Node Labels        : ssd=true zone=a',
        'Status:',
        '  State            : READY',
        '  Availability     : ACTIVE',
        '  Address          : 172.31.27.16',
        'Manager status:',
        '  Address          : 172.31.27.16:4242',
        '  Raft status      : REACHABLE',
        '  Leader           : yes',
        'Platform:',
        '  Operating System : linux',
        '  Architecture     : x86_64',
        'Resources:',
        '  CPUs             : 4',
        '  Memory           : 8.0 GiB',
        '',
      ].join('\n'),
    );
  });

  it('prints memory as go-humanize IBytes does', () => {
    expect([5, 1023, 1024, 1536, 8 * 2 ** 30, 16 * 2 ** 30, 7.8 * 2 ** 30].map(formatBytes)).toEqual([
      '5 B',
      '1023 B',
      '1.0 KiB',
      '1.5 KiB',
      '8.0 GiB',
      '16 GiB',
      '7.8 GiB',
    ]);
  });
});

describe('cluster views', () => {
  it('cluster inspect is laid out exactly as SwarmKit prints it', () => {
    expect(formatClusterInspect(makeCluster('fe9vsdtfjco9vxjipwor1nj8x'))).toBe(
      [
        'ID         : fe9vsdtfjco9vxjipwor1nj8x',
        'Name       : default',
        'Orchestration settings:',
        '  Task history entries: 5',
        'Dispatcher settings:',
        '  Dispatcher heartbeat period: 5s',
        'Certificate Authority settings:',
        '  Certificate Validity Duration: 2160h0m0s',
        '  Join Tokens:',
        '    Worker: SWMTKN-1-3vi7ajem0jed12ib3pb9ixsofe7bnwvkwnjgdbmdv6sgvj7wnn-29kxz34bcz8gvzdwjpimutxvp',
        '    Manager: SWMTKN-1-3vi7ajem0jed12ib3pb9ixsofe7bnwvkwnjgdbmdv6sgvj7wnn-34npzkvzoxss2s6tx7q1ss11s',
        '',
      ].join('\n'),
    );
  });

  it('cluster ls lists ID and Name', () => {
    expect(formatClusterList([makeCluster('fe9vsdtfjco9vxjipwor1nj8x')])).toBe(
      'ID                         Name\n--                         ----\nfe9vsdtfjco9vxjipwor1nj8x  default\n',
    );
  });
});

describe('durations', () => {
  it.each([
    ['0s', 0],
    ['1ms', 1],
    ['250ms', 250],
    ['1s', 1000],
    ['1.5s', 1500],
    ['5s', 5000],
    ['1m0s', 60_000],
    ['1m30.25s', 90_250],
    ['1h30m0s', 5_400_000],
    ['24h0m0s', 86_400_000],
    ['2160h0m0s', 7_776_000_000],
  ])('%s is %d ms and prints back the same', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
    expect(formatDuration(ms)).toBe(text);
  });

  it.each([
    ['90m', 5_400_000, '1h30m0s'],
    ['1h30m', 5_400_000, '1h30m0s'],
    ['1.5h', 5_400_000, '1h30m0s'],
    ['0.1h', 360_000, '6m0s'],
    ['2000us', 2, '2ms'],
    ['3000000ns', 3, '3ms'],
    ['.5s', 500, '500ms'],
    ['-5s', -5000, '-5s'],
    ['0', 0, '0s'],
    ['2160h', 7_776_000_000, '2160h0m0s'],
  ])('parses Go forms: %s', (text, ms, printed) => {
    expect(parseDuration(text)).toBe(ms);
    expect(formatDuration(ms)).toBe(printed);
  });

  it.each(['', '5', 's', '5q', '5 s', '1500us', '1ns', '.s', 'h5', '-'])('refuses %j', (text) => {
    expect(() => parseDuration(text)).toThrow(RangeError);
  });

  it('round-trips every whole-millisecond duration it prints', () => {
    for (const ms of [1, 999, 1001, 59_999, 3_599_999, 3_600_001, 123_456_789, 2 ** 40]) {
      expect(parseDuration(formatDuration(ms))).toBe(ms);
    }
  });
});
