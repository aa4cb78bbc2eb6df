/**
 * npm run sim -- --seeds N [--from S]   run N seeds (default 200) starting at S (default 1)
 * npm run sim -- --seed S [--trace]     replay one seed exactly, optionally printing its trace
 */
import { parseArgs } from 'node:util';
import { describeFailure, runSimulation } from './simulation';

const { values } = parseArgs({
  options: {
    seeds: { type: 'string' },
    from: { type: 'string' },
    seed: { type: 'string' },
    trace: { type: 'boolean', default: false },
    duration: { type: 'string' },
  },
});

function integer(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) {
    console.error(`--${name} must be a non-negative integer, got ${value}`);
    process.exit(2);
  }
  return n;
}

const durationMs = integer('duration', values.duration, 3_000);

async function main(): Promise<void> {
  if (values.seed !== undefined) {
    const result = await runSimulation({ seed: integer('seed', values.seed, 0), trace: values.trace, durationMs });
    if (values.trace) for (const line of result.trace) console.log(line);
    console.log(JSON.stringify(result.stats));
    if (!result.ok) {
      console.error(describeFailure(result));
      process.exit(1);
    }
    console.log(`seed ${result.seed} ok`);
    return;
  }
  const count = integer('seeds', values.seeds, 200);
  const from = integer('from', values.from, 1);
  const started = Date.now();
  let failed = 0;
  for (let seed = from; seed < from + count; seed++) {
    const result = await runSimulation({ seed, durationMs });
    if (!result.ok) {
      failed++;
      console.error(describeFailure(result));
    }
  }
  console.log(`${count - failed} passed, ${failed} failed`);
  console.error(`(${count} seeds in ${((Date.now() - started) / 1000).toFixed(1)} s)`);
  if (failed > 0) process.exit(1);
}

void main();
