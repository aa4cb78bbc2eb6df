/** Runs a range of simulator seeds for a test file and sums up what they exercised. */
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
