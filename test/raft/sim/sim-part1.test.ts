import { describe, expect, it } from 'vitest';
import { runSeedRange, seedsPerFile } from './seed-range';

// The seeds are split over two files so both CI cores share them.
const PART = 1;
const count = seedsPerFile(2);

describe(`raft simulator, seeds part ${PART}`, () => {
  it(`keeps every safety property and linearizability over ${count} seeds`, { timeout: 30 * 60_000 }, async () => {
    const summary = await runSeedRange(1 + (PART - 1) * count, count);
    expect(summary.failures, summary.failures.join('\n')).toEqual([]);
    // The faults really happened, and clients really wrote and read.
    expect(summary.crashes).toBeGreaterThan(count / 2);
    expect(summary.partitions).toBeGreaterThan(count / 2);
    expect(summary.membershipChanges).toBeGreaterThan(count / 4);
    expect(summary.operations).toBeGreaterThan(count * 50);
  });
});

describe('raft simulator replay', () => {
  it('replays a seed exactly: the same trace and the same numbers every time', async () => {
    const { runSimulation } = await import('./simulation');
    const first = await runSimulation({ seed: 4242, trace: true });
    const second = await runSimulation({ seed: 4242, trace: true });
    expect(first.trace.length).toBeGreaterThan(3);
    expect(second.trace).toEqual(first.trace);
    expect(second.stats).toEqual(first.stats);
    const other = await runSimulation({ seed: 4243, trace: true });
    expect(other.trace).not.toEqual(first.trace);
  });
});
