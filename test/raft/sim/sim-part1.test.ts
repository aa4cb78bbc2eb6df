import { describe, expect, it } from 'vitest';
import { describeSeedPart } from './seed-range';
import { runSimulation } from './simulation';

// The seeds are split over two files so both CI cores share them.
describeSeedPart(1, 2);

describe('raft simulator replay', () => {
  it('replays a seed exactly: the same trace and the same numbers every time', async () => {
    const first = await runSimulation({ seed: 4242, trace: true });
    const second = await runSimulation({ seed: 4242, trace: true });
    expect(first.trace.length).toBeGreaterThan(3);
    expect(second.trace).toEqual(first.trace);
    expect(second.stats).toEqual(first.stats);
    const other = await runSimulation({ seed: 4243, trace: true });
    expect(other.trace).not.toEqual(first.trace);
  });
});
