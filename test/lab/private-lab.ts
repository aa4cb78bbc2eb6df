// A lab of one's own for a test file: its directory, name prefix and subnet all derive from one number
// (100..249) claimed atomically by creating the directory, so labs of test files running in parallel
// (or of two checkouts on one machine) never share a bridge, namespace or route. A claim whose owner died
// is taken over after tearing its lab down, so a crashed run's leftovers are cleaned by the next one.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { LabOptions } from './config';
import { labDown } from './lab';
import { pidAlive } from './processes';

const FIRST = 100;
const COUNT = 150;

export function privateLabOptions(n: number): Required<LabOptions> {
  return { dir: `/var/tmp/swarmdesk-lab-test-${n}`, prefix: `lt${n}`, subnet: `10.77.${n}` };
}

function ownerOf(dir: string): number | undefined {
  try {
    const pid = Number(readFileSync(`${dir}/owner.pid`, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Tears down the labs of claimers that died (a killed test run): their dockerds would run on forever. */
async function sweepDeadClaims(): Promise<void> {
  for (const entry of readdirSync('/var/tmp')) {
    const m = /^swarmdesk-lab-test-(\d+)$/.exec(entry);
    const n = Number(m?.[1]);
    if (!m || n < FIRST || n >= FIRST + COUNT) continue;
    const opts = privateLabOptions(n);
    const owner = ownerOf(opts.dir);
    if (owner !== undefined && !pidAlive(owner)) await labDown(opts);
  }
}

/** Claims a free private lab for this process; give the options to labUp, and to labDown when done. */
export async function claimPrivateLab(): Promise<Required<LabOptions>> {
  await sweepDeadClaims();
  const start = process.pid % COUNT;
  for (let i = 0; i < COUNT; i++) {
    const n = FIRST + ((start + i) % COUNT);
    const opts = privateLabOptions(n);
    try {
      mkdirSync(opts.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = ownerOf(opts.dir);
      // No owner file yet may be a claim in progress: leave it to its claimer.
      if (owner === undefined || pidAlive(owner)) continue;
      await labDown(opts);
      try {
        mkdirSync(opts.dir);
      } catch {
        continue; // someone else took it over first
      }
    }
    writeFileSync(`${opts.dir}/owner.pid`, `${process.pid}\n`);
    return opts;
  }
  throw new Error(`no free private lab among 10.77.${FIRST}-${FIRST + COUNT - 1}.0/24 (see /var/tmp/swarmdesk-lab-test-*)`);
}
