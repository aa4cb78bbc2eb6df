/**
 * Where a sequential write's time goes, step by step, for swarmdesk and etcd alike: runs bench:raft's
 * sequential phase for each system under the kernel's tracer and cuts every write (one leader WAL
 * write to the next) into the hops between processes, from system calls alone, so the same cut fits
 * both (no probes in either's code). Needs root and tracefs (/sys/kernel/tracing); a quiet machine.
 *   tsx test/bench/raft-steps.ts [--systems swarmdesk,etcd] [--seconds 3] [--keep DIR] [--from DIR]
 * --keep writes each system's trace to DIR/<system>.trace; --from reads them back instead of running.
 *
 * Each member's WAL write is its pwrite64 (ours: O_DSYNC) or fdatasync (etcd) system call; a socket
 * write is a write/writev that is not to stdout/stderr or an 8-byte eventfd kick; a socket read is a
 * read returning more than 8 bytes. The leader is the member whose WAL write starts each write.
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    systems: { type: 'string', default: 'swarmdesk,etcd' },
    seconds: { type: 'string', default: '3' },
    keep: { type: 'string' },
    from: { type: 'string' },
  },
});

const TRACING = '/sys/kernel/tracing';
const EVENTS = [
  'syscalls:sys_enter_pwrite64',
  'syscalls:sys_exit_pwrite64',
  'syscalls:sys_enter_fdatasync',
  'syscalls:sys_exit_fdatasync',
  'syscalls:sys_enter_write',
  'syscalls:sys_enter_writev',
  'syscalls:sys_exit_read',
];

type Kind = 'disk-start' | 'disk-end' | 'write' | 'read';
interface TraceEvent {
  us: number;
  tgid: number;
  kind: Kind;
}

function tracefs(file: string, value: string): void {
  writeFileSync(join(TRACING, file), value);
}

function parseTrace(text: string): TraceEvent[] {
  const events: TraceEvent[] = [];
  const line = /\(\s*(\d+)\)\s+\[\d+\]\s+\S+\s+([\d.]+): sys_(\w+)(\(| -> )(.*)$/;
  for (const raw of text.split('\n')) {
    const m = line.exec(raw);
    if (!m) continue;
    const [, tgid, seconds, call, how, rest] = m;
    const entering = how === '(';
    let kind: Kind | undefined;
    if (call === 'pwrite64' || call === 'fdatasync') kind = entering ? 'disk-start' : 'disk-end';
    else if ((call === 'write' || call === 'writev') && entering) {
      if (/^fd: 0x[12],/.test(rest) || rest.endsWith('count: 8)')) continue;
      kind = 'write';
    } else if (call === 'read' && !entering) {
      const bytes = Number.parseInt(rest, 16);
      if (!(bytes > 8 && bytes < 2 ** 31)) continue;
      kind = 'read';
    }
    if (kind) events.push({ us: Number(seconds) * 1e6, tgid: Number(tgid), kind });
  }
  return events.sort((a, b) => a.us - b.us);
}

interface DiskWrite {
  start: number;
  end: number;
  tgid: number;
}

const STEPS = [
  ['leader WAL write starts → first follower WAL write starts', 'followerStart'],
  ['follower WAL write (system call)', 'followerDisk'],
  ['leader WAL write (system call)', 'leaderDisk'],
  ['follower WAL write done → its answer written', 'followerAnswer'],
  ['follower answer written → leader reads it', 'toLeader'],
  ['leader reads answer → client answer written', 'leaderAnswer'],
  ['client answer written → client reads it', 'toClient'],
  ['client reads answer → next request written', 'client'],
  ['request written → leader reads it', 'toLeaderRequest'],
  ['leader reads request → its WAL write starts', 'leaderRequest'],
  ['whole write (leader WAL write to the next)', 'cycle'],
] as const;
type Step = (typeof STEPS)[number][1];

/** Median of each step over every write cut cleanly out of the trace. */
function analyse(events: TraceEvent[]): { writes: number; medians: Record<Step, number> } {
  const open = new Map<number, number[]>();
  const disk: DiskWrite[] = [];
  for (const e of events) {
    if (e.kind === 'disk-start') {
      const starts = open.get(e.tgid) ?? [];
      starts.push(e.us);
      open.set(e.tgid, starts);
    } else if (e.kind === 'disk-end') {
      const start = open.get(e.tgid)?.shift();
      if (start !== undefined) disk.push({ start, end: e.us, tgid: e.tgid });
    }
  }
  disk.sort((a, b) => a.start - b.start);
  const members = new Set(disk.map((d) => d.tgid));
  const leader = writeStarter(disk);
  const client = mostCommon(events.filter((e) => e.kind === 'write' && !members.has(e.tgid)).map((e) => e.tgid));
  const next = (after: number, tgid: number, kind: Kind): number | undefined => {
    for (let i = firstAfter(events, after); i < events.length; i++) if (events[i].tgid === tgid && events[i].kind === kind) return events[i].us;
    return undefined;
  };
  const samples = new Map<Step, number[]>(STEPS.map(([, key]) => [key, []]));
  const leaderWrites = disk.filter((d) => d.tgid === leader);
  let writes = 0;
  for (let i = 0; i + 1 < leaderWrites.length; i++) {
    const own = leaderWrites[i];
    const following = leaderWrites[i + 1];
    const followers = disk.filter((d) => d.tgid !== leader && d.start >= own.start && d.start < following.start);
    if (followers.length !== 2) continue;
    const first = followers.reduce((a, b) => (b.end < a.end ? b : a));
    const answer = next(first.end, first.tgid, 'write');
    const leaderRead = answer && next(answer, leader, 'read');
    const clientRead = leaderRead && next(leaderRead, client, 'read');
    const clientAnswer = clientRead && events.slice(firstAfter(events, leaderRead), firstAfter(events, clientRead)).filter((e) => e.tgid === leader && e.kind === 'write').at(-1)?.us;
    const request = clientRead && next(clientRead, client, 'write');
    const requestRead = request && next(request, leader, 'read');
    if (!answer || !leaderRead || !clientRead || !clientAnswer || !request || !requestRead || requestRead > following.start) continue;
    writes++;
    const add = (step: Step, us: number) => samples.get(step)?.push(us);
    add('followerStart', Math.min(...followers.map((f) => f.start)) - own.start);
    add('followerDisk', first.end - first.start);
    add('leaderDisk', own.end - own.start);
    add('followerAnswer', answer - first.end);
    add('toLeader', leaderRead - answer);
    add('leaderAnswer', clientAnswer - leaderRead);
    add('toClient', clientRead - clientAnswer);
    add('client', request - clientRead);
    add('toLeaderRequest', requestRead - request);
    add('leaderRequest', following.start - requestRead);
    add('cycle', following.start - own.start);
  }
  const medians = Object.fromEntries(STEPS.map(([, key]) => [key, median(samples.get(key) ?? [])])) as Record<Step, number>;
  return { writes, medians };
}

/**
 * The leader: the member whose WAL write most often starts after a quiet spell (300 µs after the
 * writes before it ended), i.e. the one that starts each replicated write.
 */
function writeStarter(disk: DiskWrite[]): number {
  const afterQuiet = disk.filter((d, i) => i > 0 && d.start - Math.max(...disk.slice(Math.max(0, i - 3), i).map((p) => p.end)) > 300);
  return mostCommon(afterQuiet.map((d) => d.tgid));
}

/** Index of the first event later than `us` (events are sorted by time). */
function firstAfter(events: TraceEvent[], us: number): number {
  let lo = 0;
  let hi = events.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (events[mid].us <= us) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function mostCommon(values: number[]): number {
  const counts = new Map<number, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1])[0]?.[0] ?? -1;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? Number.NaN : sorted[Math.floor(sorted.length / 2)];
}

/** Runs bench:raft's sequential phase for one system and traces `seconds` of it. */
async function traceSystem(system: string, seconds: number): Promise<{ trace: string; benchLine: string }> {
  tracefs('tracing_on', '0');
  tracefs('trace', '');
  const bench = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'raft-bench.ts'), '--systems', system, '--sequential', '8000', '--concurrent', '0'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  bench.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => bench.on('exit', resolve));
  // Members start (~3 s) and the 2,000-write warm-up runs (~7 s) before the sequential phase.
  await new Promise((resolve) => setTimeout(resolve, 15_000));
  tracefs('tracing_on', '1');
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  tracefs('tracing_on', '0');
  const trace = readFileSync(join(TRACING, 'trace'), 'utf8');
  const code = await exited;
  if (code !== 0) throw new Error(`bench:raft for ${system} exited with ${code}`);
  const benchLine = output.split('\n').find((l) => l.includes('| sequential | 1 |')) ?? '';
  return { trace, benchLine };
}

async function main(): Promise<void> {
  const systems = (values.systems ?? '').split(',').filter(Boolean);
  if (values.from !== undefined) {
    const from = values.from;
    printTable(systems.map((system) => ({ system, rate: '?', ...analyse(parseTrace(readFileSync(join(from, `${system}.trace`), 'utf8'))) })));
    return;
  }
  const seconds = Number(values.seconds);
  tracefs('options/record-tgid', '1');
  tracefs('buffer_size_kb', '20000');
  tracefs('set_event', `${EVENTS.join('\n')}\n`);
  const results: SystemSteps[] = [];
  try {
    for (const system of systems) {
      const { trace, benchLine } = await traceSystem(system, seconds);
      if (values.keep) {
        await mkdir(values.keep, { recursive: true });
        writeFileSync(join(values.keep, `${system}.trace`), trace);
      }
      const { writes, medians } = analyse(parseTrace(trace));
      results.push({ system, writes, rate: benchLine.split('|')[5]?.trim() ?? '?', medians });
    }
  } finally {
    tracefs('tracing_on', '0');
    tracefs('set_event', '');
    tracefs('buffer_size_kb', '1410');
    tracefs('options/record-tgid', '0');
  }
  printTable(results);
}

interface SystemSteps {
  system: string;
  rate: string;
  writes: number;
  medians: Record<Step, number>;
}

function printTable(results: SystemSteps[]): void {
  console.log(`| step (p50, µs) | ${results.map((r) => `${r.system} (${r.rate}/s, ${r.writes} writes)`).join(' | ')} |`);
  console.log(`|---|${results.map(() => '---').join('|')}|`);
  for (const [label, key] of STEPS) console.log(`| ${label} | ${results.map((r) => Math.round(r.medians[key])).join(' | ')} |`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
