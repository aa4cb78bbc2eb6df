/**
 * Summarises a V8 .cpuprofile (from `node --cpu-prof`, as bench:converge --cpu-prof writes them):
 * self time by function and by source file, and inclusive time of the functions under a name filter.
 *   tsx test/bench/cpuprofile-summary.ts FILE [--top N] [--from S --to S] [--inclusive NAME]
 * --from/--to keep the samples between those seconds after the profile's start.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    top: { type: 'string', default: '30' },
    from: { type: 'string' },
    to: { type: 'string' },
    inclusive: { type: 'string', multiple: true },
  },
});

const file = positionals[0];
if (file === undefined) throw new Error('usage: cpuprofile-summary.ts FILE [--top N] [--from S --to S] [--inclusive NAME]');
const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
const top = Number(values.top);
const fromUs = values.from === undefined ? 0 : Number(values.from) * 1e6;
const toUs = values.to === undefined ? Infinity : Number(values.to) * 1e6;

const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

function shortUrl(url: string): string {
  const repo = url.indexOf('/agent/');
  if (repo >= 0) return url.slice(repo + 1);
  const modules = url.lastIndexOf('node_modules/');
  if (modules >= 0) return url.slice(modules + 'node_modules/'.length);
  return url === '' ? '(native)' : url.replace(/^node:/, 'node:');
}

function label(n: ProfileNode): string {
  const name = n.callFrame.functionName === '' ? '(anonymous)' : n.callFrame.functionName;
  return `${name} ${shortUrl(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;
}

const selfByFunction = new Map<string, number>();
const selfByFile = new Map<string, number>();
const inclusive = new Map<string, number>();
const filters = values.inclusive ?? [];
let total = 0;
let idle = 0;
let t = 0;
profile.samples.forEach((id, i) => {
  const delta = profile.timeDeltas[i] ?? 0;
  t += delta;
  if (t < fromUs || t > toUs) return;
  const node = byId.get(id);
  if (node === undefined) return;
  total += delta;
  if (node.callFrame.functionName === '(idle)') {
    idle += delta;
    return;
  }
  selfByFunction.set(label(node), (selfByFunction.get(label(node)) ?? 0) + delta);
  const fileKey = shortUrl(node.callFrame.url);
  selfByFile.set(fileKey, (selfByFile.get(fileKey) ?? 0) + delta);
  if (filters.length > 0) {
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const frame = byId.get(cur);
      if (frame === undefined) break;
      for (const f of filters) {
        const key = `${f}: ${label(frame)}`;
        if (label(frame).includes(f) && !seen.has(key)) {
          seen.add(key);
          inclusive.set(key, (inclusive.get(key) ?? 0) + delta);
        }
      }
    }
  }
});

const busy = total - idle;
const pct = (us: number) => `${((us / busy) * 100).toFixed(1).padStart(5)} %  ${(us / 1000).toFixed(0).padStart(6)} ms`;
function print(title: string, map: Map<string, number>): void {
  process.stdout.write(`\n${title}\n`);
  for (const [key, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) process.stdout.write(`${pct(us)}  ${key}\n`);
}
process.stdout.write(`${file}: ${(total / 1e6).toFixed(1)} s sampled, ${(busy / 1e6).toFixed(2)} s busy (percentages are of busy time)\n`);
print('self time by file', selfByFile);
print('self time by function', selfByFunction);
if (filters.length > 0) print('inclusive time', inclusive);
