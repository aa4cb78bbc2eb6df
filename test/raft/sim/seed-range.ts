/** Runs a range of simulator seeds for a test file and sums up what they exercised. */
import { describe, expect, it } from 'vitest';
import { describeFailure, runSimulation } from './simulation';

export interface RangeSummary {
  failures: string[];
  crashes: number;
  partitions: number;
  membershipChanges: number;
  operations: number;
  committedEntries: number;
}

/** CI runs 2,000 seeds in all; SIM_SEEDS scales that up or down locally. */
export function seedsPerFile(files: number): number {
  const total = Number(process.env.SIM_SEEDS ?? 2000);
  return Math.ceil(total / files);
}

export async function runSeedRange(from: number, count: number): Promise<RangeSummary> {
  const summary: RangeSummary = { failures: [], crashes: 0, partitions: 0, membershipChanges: 0, operations: 0, committedEntries: 0 };
  for (let seed = from; seed < from + count; seed++) {
    const result = await runSimulation({ seed });
    if (!result.ok) summary.failures.push(describeFailure(result));
    summary.crashes += result.stats.crashes;
    summary.partitions += result.stats.partitions;
    summary.membershipChanges += result.stats.membershipChanges;
    summary.operations += result.stats.operations;
    summary.committedEntries += result.stats.committedEntries;
  }
  return summary;
}

/** One test file's share of the seeds: the faults must really have happened, and nothing broke. */
export function describeSeedPart(part: number, parts: number): void {
  const count = seedsPerFile(parts);
  describe(`raft simulator, seeds part ${part} of ${parts}`, () => {
    it(`keeps every safety property and linearizability over ${count} seeds`, { timeout: 30 * 60_000 }, async () => {
      const summary = await runSeedRange(1 + (part - 1) * count, count);
      expect(summary.failures, summary.failures.join('\n')).toEqual([]);
      expect(summary.crashes).toBeGreaterThan(count / 2);
      expect(summary.partitions).toBeGreaterThan(count / 2);
      expect(summary.membershipChanges).toBeGreaterThan(count / 4);
      expect(summary.operations).toBeGreaterThan(count * 50);
    });
  });
}
