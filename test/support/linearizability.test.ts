import { describe, expect, it } from 'vitest';
import { checkKvHistory, HistoryRecorder, type CheckResult, type Operation } from './linearizability';

// ---------------------------------------------------------------------------
// History-building helpers. `ret === undefined` means the op is pending.
// ---------------------------------------------------------------------------

function put(clientId: number, value: string, call: number, ret: number | undefined, key = 'x'): Operation {
  return withReturn({ clientId, call, input: { kind: 'put', key, value } }, ret, undefined);
}

function get(clientId: number, value: string | undefined, call: number, ret: number | undefined, key = 'x'): Operation {
  return withReturn({ clientId, call, input: { kind: 'get', key } }, ret, { value });
}

function cas(clientId: number, expected: string | undefined, value: string, ok: boolean, call: number, ret: number | undefined, key = 'x'): Operation {
  return withReturn({ clientId, call, input: { kind: 'cas', key, expected, value } }, ret, { ok });
}

function withReturn(op: Operation, ret: number | undefined, output: Operation['output']): Operation {
  return ret === undefined ? op : { ...op, return: ret, output };
}

function expectLinearizable(history: Operation[]): void {
  const result = checkKvHistory(history);
  expect(result, result.explanation).toEqual({ ok: true });
}

function expectViolation(history: Operation[], key = 'x'): CheckResult {
  const result = checkKvHistory(history);
  expect(result.ok).toBe(false);
  expect(result.timedOut).toBeFalsy();
  expect(result.key).toBe(key);
  expect(result.explanation).toMatch(/\S/);
  return result;
}

// ---------------------------------------------------------------------------
// Hand-written histories
// ---------------------------------------------------------------------------

describe('checkKvHistory: linearizable histories', () => {
  it('accepts the empty history', () => {
    expectLinearizable([]);
  });

  it('accepts a sequential history, including reads of an absent key', () => {
    expectLinearizable([get(1, undefined, 0, 1), put(1, 'a', 2, 3), get(2, 'a', 4, 5), put(2, 'b', 6, 7), get(1, 'b', 8, 9)]);
  });

  it.each([
    ['the old value', 'a'],
    ['the new value', 'b'],
  ])('accepts a get overlapping a put that sees %s', (_label, seen) => {
    expectLinearizable([put(1, 'a', 0, 1), put(1, 'b', 10, 20), get(2, seen, 12, 15)]);
  });

  it('accepts concurrent puts followed by reads that agree on either order', () => {
    const puts = [put(1, 'a', 0, 10), put(2, 'b', 0, 10)];
    expectLinearizable([...puts, get(3, 'a', 20, 21), get(3, 'a', 22, 23)]);
    expectLinearizable([...puts, get(3, 'b', 20, 21), get(3, 'b', 22, 23)]);
  });

  it('accepts a pending put that is later observed', () => {
    expectLinearizable([put(1, 'a', 0, 1), put(2, 'b', 5, undefined), get(3, 'b', 100, 101)]);
  });

  it('accepts a pending put that is never observed (it may not have happened)', () => {
    expectLinearizable([put(1, 'a', 0, 1), put(2, 'b', 5, undefined), get(3, 'a', 100, 101)]);
  });

  it('accepts a pending put that took effect long after its call, between two reads', () => {
    expectLinearizable([put(1, 'a', 0, 1), put(2, 'b', 5, undefined), get(3, 'a', 50, 51), get(3, 'b', 100, 101)]);
  });

  it('ignores the (meaningless) output of a pending get', () => {
    expectLinearizable([put(1, 'a', 0, 1), { clientId: 2, call: 2, input: { kind: 'get', key: 'x' }, output: { value: 'junk' } }]);
  });

  it('accepts cas successes and failures consistent with the register', () => {
    expectLinearizable([
      cas(1, undefined, 'a', true, 0, 1),
      cas(1, undefined, 'b', false, 2, 3),
      cas(2, 'a', 'b', true, 4, 5),
      get(3, 'b', 6, 7),
    ]);
  });

  it('accepts two concurrent cas on the same expected value when exactly one wins', () => {
    expectLinearizable([put(1, 'a', 0, 1), cas(2, 'a', 'b', false, 2, 10), cas(3, 'a', 'c', true, 3, 9), get(1, 'c', 11, 12)]);
  });

  it('accepts a pending cas that explains an otherwise impossible read', () => {
    expectLinearizable([put(1, 'a', 0, 1), cas(2, 'a', 'b', true, 2, undefined), get(3, 'b', 10, 11)]);
  });

  it('accepts a failed cas explained only by a pending put having taken effect', () => {
    // Nobody reads "b", but the cas can only have failed if put("b") happened first.
    expectLinearizable([put(1, 'a', 0, 1), put(2, 'b', 2, undefined), cas(3, 'a', 'c', false, 10, 11)]);
  });

  it('keeps exploring configurations whose pending sets are incomparable', () => {
    // Found by the brute-force oracle below: a memo that treated "different
    // pending ops placed" as "covered" rejected it. One linearization: pending
    // cas(absent → a), cas(a → c), cas(c → b), pending put(a), get → a.
    expectLinearizable([
      cas(0, 'c', 'b', true, 2, 5),
      put(1, 'a', 3, undefined),
      cas(2, 'a', 'c', true, 3, 4),
      cas(3, 'a', 'a', false, 7, undefined),
      cas(4, undefined, 'a', false, 3, undefined),
      get(5, 'a', 5, 7),
    ]);
  });

  it('treats operations that touch at one timestamp as concurrent', () => {
    // The put returns at t=5 and the get is called at t=5: either order is allowed.
    expectLinearizable([put(1, 'a', 0, 1), put(1, 'b', 2, 5), get(2, 'a', 5, 6)]);
  });

  it('accepts porcupine\'s register example (adapted to an initially absent key)', () => {
    // porcupine TestRegisterModel: put(100) over [0,100], get→100 over [25,75], get→0 over [30,60].
    expectLinearizable([put(0, '100', 0, 100), get(1, '100', 25, 75), get(2, undefined, 30, 60)]);
  });

  it('accepts Herlihy & Wing\'s linearizable queue history H1, adapted to a register', () => {
    // As in H&W Fig. 1(a), two overlapping writes and a reader that fixes their order;
    // the later read is consistent with that same order.
    expectLinearizable([put(1, 'x', 0, 10), put(2, 'y', 5, 15), get(2, 'x', 20, 25), get(1, 'x', 30, 35)]);
  });
});

describe('checkKvHistory: non-linearizable histories', () => {
  it('rejects a stale read after a completed write', () => {
    const result = expectViolation([put(1, 'a', 0, 1), put(1, 'b', 2, 3), get(2, 'a', 4, 5)]);
    expect(result.explanation).toContain('client 2 get() → "a" [4, 5]');
  });

  it('rejects reading absent after a completed write', () => {
    expectViolation([put(1, 'a', 0, 1), get(2, undefined, 2, 3)]);
  });

  it('rejects a new/old inversion (regular but not atomic, Lamport 1986)', () => {
    // Two non-overlapping reads both overlap a write: the first sees the new value,
    // the later one the older value.
    expectViolation([put(1, 'old', 0, 1), put(1, 'new', 10, 100), get(2, 'new', 20, 30), get(3, 'old', 40, 50)]);
  });

  it('rejects a read of a value that was never written', () => {
    const result = expectViolation([put(1, 'a', 0, 1), get(2, 'zzz', 2, 3)]);
    expect(result.explanation).toContain('"zzz"');
    expect(result.explanation).toContain('ever wrote');
  });

  it('rejects readers that disagree on the order of two concurrent puts', () => {
    expectViolation([
      put(1, 'a', 0, 100),
      put(2, 'b', 0, 100),
      get(3, 'a', 10, 20),
      get(3, 'b', 30, 40),
      get(4, 'b', 10, 20),
      get(4, 'a', 30, 40),
    ]);
  });

  it('rejects Herlihy & Wing\'s non-linearizable history H2, adapted to a register', () => {
    // As H&W Fig. 1(b): same writes, but two later, sequential reads contradict each
    // other although nothing is written between them.
    expectViolation([put(1, 'x', 0, 10), put(2, 'y', 5, 15), get(2, 'x', 20, 25), get(1, 'y', 30, 35)]);
  });

  it('rejects a read that precedes the write it observes', () => {
    expectViolation([get(1, 'a', 0, 1), put(2, 'a', 2, 3)]);
  });

  it('rejects a pending put observed before it was called', () => {
    expectViolation([get(1, 'b', 0, 1), put(2, 'b', 5, undefined)]);
  });

  it('rejects a pending put that is seen and then unseen', () => {
    expectViolation([put(1, 'a', 0, 1), put(2, 'b', 5, undefined), get(3, 'b', 10, 11), get(3, 'a', 20, 21)]);
  });

  describe('cas violations', () => {
    it('rejects a cas that succeeded although the expected value was not current', () => {
      expectViolation([put(1, 'a', 0, 1), cas(2, 'b', 'c', true, 2, 3)]);
    });

    it('rejects a cas that failed although the expected value was current', () => {
      expectViolation([put(1, 'a', 0, 1), cas(2, 'a', 'c', false, 2, 3)]);
    });

    it('rejects two concurrent cas from the same expected value that both succeed', () => {
      expectViolation([put(1, 'a', 0, 1), cas(2, 'a', 'b', true, 2, 10), cas(3, 'a', 'c', true, 3, 9)]);
    });

    it('rejects a read that misses a completed cas', () => {
      expectViolation([put(1, 'a', 0, 1), cas(2, 'a', 'b', true, 2, 3), get(3, 'a', 4, 5)]);
    });

    it('rejects a cas on an absent key that fails without any write', () => {
      expectViolation([cas(1, undefined, 'a', false, 0, 1)]);
    });
  });
});

describe('checkKvHistory: per-key partitioning', () => {
  it('checks keys independently and reports the violating key', () => {
    const history = [
      put(1, 'a1', 0, 1, 'a'),
      put(2, 'b1', 0, 1, 'b'),
      put(1, 'a2', 2, 3, 'a'),
      put(2, 'b2', 2, 3, 'b'),
      get(3, 'a2', 4, 5, 'a'),
      get(3, 'b1', 4, 5, 'b'), // stale: b2 completed before this read started
    ];
    expectViolation(history, 'b');
    // Without the stale read the same interleaving is fine.
    expectLinearizable(history.slice(0, 5));
  });

  it('does not let a write on one key explain a read on another', () => {
    expectViolation([put(1, 'v', 0, 1, 'y'), get(2, 'v', 2, 3, 'x')], 'x');
  });
});

describe('checkKvHistory: input validation and timeouts', () => {
  it('throws when an operation returns before it was called', () => {
    expect(() => checkKvHistory([put(1, 'a', 5, 4)])).toThrow(RangeError);
  });

  it('throws when a completed get has no output', () => {
    const op: Operation = { clientId: 1, call: 0, return: 1, input: { kind: 'get', key: 'x' } };
    expect(() => checkKvHistory([op])).toThrow(/completed get/);
  });

  it('throws when a completed cas has no boolean output', () => {
    const op: Operation = { clientId: 1, call: 0, return: 1, input: { kind: 'cas', key: 'x', expected: undefined, value: 'a' }, output: { value: 'a' } };
    expect(() => checkKvHistory([op])).toThrow(/completed cas/);
  });

  it('reports a timeout (not a verdict) when the search exceeds its budget', () => {
    // 24 fully concurrent writes, then two later reads that cannot both be right.
    // Proving that needs all ~24 * 2^23 (subset, last writer) configurations.
    const writes = Array.from({ length: 24 }, (_, i) => put(i, `v${i}`, 0, 100));
    const history = [...writes, get(100, 'v0', 200, 210), get(100, 'v1', 220, 230)];
    const result = checkKvHistory(history, { timeoutMs: 50 });
    expect(result).toMatchObject({ ok: false, timedOut: true, key: 'x' });
  });

  it('refutes a history with many concurrent writes exhaustively thanks to memoization', () => {
    // Same shape as above with 12 writes: 12! orderings without memoization, but
    // only ~12 * 2^11 distinct (linearized set, register value) configurations.
    const writes = Array.from({ length: 12 }, (_, i) => put(i, `v${i}`, 0, 100));
    const history = [...writes, get(100, 'v0', 200, 210), get(100, 'v1', 220, 230)];
    const result = checkKvHistory(history, { timeoutMs: 5000 });
    expect(result).toMatchObject({ ok: false, key: 'x' });
    expect(result.timedOut).toBeFalsy();
  });

  it('prefers a definite violation on another key over a timeout', () => {
    const writes = Array.from({ length: 24 }, (_, i) => put(i, `v${i}`, 0, 100, 'slow'));
    const history = [...writes, get(100, 'v0', 200, 210, 'slow'), get(100, 'v1', 220, 230, 'slow'), put(1, 'a', 0, 1), get(2, undefined, 2, 3)];
    const result = checkKvHistory(history, { timeoutMs: 50 });
    expect(result).toMatchObject({ ok: false, key: 'x' });
    expect(result.timedOut).toBeFalsy();
  });
});

describe('HistoryRecorder', () => {
  it('records completed and pending operations', () => {
    const recorder = new HistoryRecorder();
    const p = recorder.invoke(1, { kind: 'put', key: 'k', value: 'a' }, 0);
    const g = recorder.invoke(2, { kind: 'get', key: 'k' }, 1);
    const lost = recorder.invoke(3, { kind: 'put', key: 'k', value: 'b' }, 2);
    recorder.complete(p, undefined, 3);
    recorder.complete(g, { value: 'a' }, 4);

    const history = recorder.history();
    expect(history).toEqual([
      { clientId: 1, call: 0, return: 3, input: { kind: 'put', key: 'k', value: 'a' }, output: undefined },
      { clientId: 2, call: 1, return: 4, input: { kind: 'get', key: 'k' }, output: { value: 'a' } },
      { clientId: 3, call: 2, input: { kind: 'put', key: 'k', value: 'b' } },
    ]);
    expect(history[lost].return).toBeUndefined();
    expect(checkKvHistory(history).ok).toBe(true);
  });

  it('rejects completing an unknown or already completed operation, or completing before the call', () => {
    const recorder = new HistoryRecorder();
    const id = recorder.invoke(1, { kind: 'get', key: 'k' }, 10);
    expect(() => recorder.complete(id + 1, { value: 'a' }, 11)).toThrow(/unknown/);
    expect(() => recorder.complete(id, { value: undefined }, 9)).toThrow(/before its call/);
    recorder.complete(id, { value: undefined }, 11);
    expect(() => recorder.complete(id, { value: undefined }, 12)).toThrow(/already completed/);
  });

  it('returns snapshots that later recording does not change', () => {
    const recorder = new HistoryRecorder();
    const id = recorder.invoke(1, { kind: 'get', key: 'k' }, 0);
    const before = recorder.history();
    recorder.complete(id, { value: undefined }, 1);
    expect(before[0].return).toBeUndefined();
    expect(recorder.history()[0].return).toBe(1);
    // Nor can a caller editing a snapshot rewrite what was recorded.
    before[0].input.key = 'edited';
    expect(recorder.history()[0].input.key).toBe('k');
  });
});

// ---------------------------------------------------------------------------
// Randomized histories from a real sequential register
// ---------------------------------------------------------------------------

/** mulberry32: small, seeded, reproducible. */
function makeRng(seed: number): () => number {
  let s = seed | 0;
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface GenOptions {
  clients: number;
  keys: number;
  opsPerClient: number;
  pendingRate: number;
  casRate: number;
}

interface Planned {
  op: Operation;
  /** Where the op really took effect; undefined for a pending op that never did. */
  point: number | undefined;
}

/**
 * Each client issues operations back to back with random gaps and durations.
 * Every op gets a true linearization point strictly inside its interval; the
 * outputs come from applying the ops to a real map in linearization-point order,
 * so the resulting history is linearizable by construction. A pending op either
 * took effect (at its point) or not at all, and its client then "crashes" and
 * continues under a new client id, as a real client process would.
 * Written values are globally unique, which makes some mutations provably wrong.
 */
function generateHistory(rng: () => number, options: GenOptions): Operation[] {
  const planned: Planned[] = [];
  let nextClientId = options.clients;
  for (let client = 0; client < options.clients; client++) {
    let clientId = client;
    let time = rng() * 10;
    for (let i = 0; i < options.opsPerClient; i++) {
      const call = time + rng() * 5;
      const ret = call + 0.5 + rng() * 20;
      const point = call + (0.05 + 0.9 * rng()) * (ret - call);
      const key = `k${Math.floor(rng() * options.keys)}`;
      const pending = rng() < options.pendingRate;
      const op: Operation = { clientId, call, input: { kind: 'get', key } };
      if (!pending) op.return = ret;
      planned.push({ op, point: pending && rng() < 0.5 ? undefined : point });
      if (pending) clientId = nextClientId++;
      time = ret;
    }
  }
  applyInLinearizationOrder(rng, planned, options.casRate);
  return planned.map((p) => p.op).sort((a, b) => a.call - b.call);
}

function applyInLinearizationOrder(rng: () => number, planned: Planned[], casRate: number): void {
  const register = new Map<string, string>();
  let counter = 0;
  const effective = planned.filter((p) => p.point !== undefined).sort((a, b) => (a.point ?? 0) - (b.point ?? 0));
  const ineffective = planned.filter((p) => p.point === undefined);
  // Ops that never took effect still need an input; their outputs are dropped below.
  for (const { op, point } of [...effective, ...ineffective]) {
    const key = op.input.key;
    const current = register.get(key);
    const roll = rng();
    const took = point !== undefined;
    if (roll < casRate) {
      // Half of the cas ops expect the current value (and so succeed when they take effect).
      const expected = rng() < 0.5 ? current : rng() < 0.5 ? undefined : `v${Math.floor(rng() * (counter + 1))}`;
      const value = `v${++counter}`;
      const ok = expected === current;
      op.input = { kind: 'cas', key, expected, value };
      op.output = { ok };
      if (took && ok) register.set(key, value);
    } else if (roll < casRate + 0.45) {
      const value = `v${++counter}`;
      op.input = { kind: 'put', key, value };
      if (took) register.set(key, value);
    } else {
      op.output = { value: current };
    }
    if (op.return === undefined) delete op.output;
  }
}

/** Indices of the completed gets. */
function completedGets(history: Operation[]): number[] {
  return history.flatMap((op, i) => (op.input.kind === 'get' && op.return !== undefined ? [i] : []));
}

/** Writes that certainly happened: completed puts and successful cas, with their value. */
function certainWrites(history: Operation[], key: string): { value: string; call: number; ret: number }[] {
  return history.flatMap((op) => {
    if (op.input.key !== key || op.return === undefined) return [];
    if (op.input.kind === 'put') return [{ value: op.input.value, call: op.call, ret: op.return }];
    if (op.input.kind === 'cas' && op.output !== undefined && 'ok' in op.output && op.output.ok) return [{ value: op.input.value, call: op.call, ret: op.return }];
    return [];
  });
}

function withOutput(history: Operation[], index: number, value: string | undefined): Operation[] {
  return history.map((op, i) => (i === index ? { ...op, output: { value } } : op));
}

const SMALL: GenOptions = { clients: 4, keys: 3, opsPerClient: 12, pendingRate: 0.05, casRate: 0.15 };

describe('checkKvHistory: randomized histories', () => {
  const seeds = Array.from({ length: 200 }, (_, i) => i + 1);

  it('accepts every history generated from a real sequential register', () => {
    for (const seed of seeds) {
      const history = generateHistory(makeRng(seed), SMALL);
      const result = checkKvHistory(history);
      expect(result.ok, `seed ${seed}: ${result.explanation}`).toBe(true);
    }
  });

  it('accepts histories full of pending (crashed) operations', () => {
    // Many optional ops stress the memo's subsumption pruning: pruning too much
    // shows up here as a false violation.
    const crashy: GenOptions = { clients: 4, keys: 2, opsPerClient: 15, pendingRate: 0.35, casRate: 0.3 };
    for (const seed of seeds) {
      const history = generateHistory(makeRng(seed), crashy);
      const result = checkKvHistory(history);
      expect(result.ok, `seed ${seed}: ${result.explanation}`).toBe(true);
    }
  });

  it('rejects a read mutated to a value that was never written', () => {
    for (const seed of seeds) {
      const rng = makeRng(seed);
      const history = generateHistory(rng, SMALL);
      const gets = completedGets(history);
      if (gets.length === 0) continue;
      const target = gets[Math.floor(rng() * gets.length)];
      const result = checkKvHistory(withOutput(history, target, 'never-written'));
      expect(result, `seed ${seed}`).toMatchObject({ ok: false, key: history[target].input.key });
    }
  });

  it('rejects a read mutated to "absent" after a write to its key had completed', () => {
    let mutated = 0;
    for (const seed of seeds) {
      const history = generateHistory(makeRng(seed), SMALL);
      const target = completedGets(history).find((i) => certainWrites(history, history[i].input.key).some((w) => w.ret < history[i].call));
      if (target === undefined) continue;
      mutated++;
      const result = checkKvHistory(withOutput(history, target, undefined));
      expect(result, `seed ${seed}`).toMatchObject({ ok: false, key: history[target].input.key });
    }
    expect(mutated).toBeGreaterThan(100);
  });

  it('rejects a read mutated to a value that was provably overwritten before the read began', () => {
    // With unique values, if write A (value a) returned before write B started and
    // B returned before the read started, the read can never see a again.
    let mutated = 0;
    for (const seed of seeds) {
      const history = generateHistory(makeRng(seed), SMALL);
      for (const i of completedGets(history)) {
        const writes = certainWrites(history, history[i].input.key).filter((w) => w.ret < history[i].call);
        const stale = writes.find((a) => writes.some((b) => a.ret < b.call));
        if (stale === undefined) continue;
        mutated++;
        const result = checkKvHistory(withOutput(history, i, stale.value));
        expect(result, `seed ${seed}, read ${i} mutated to ${stale.value}`).toMatchObject({ ok: false, key: history[i].input.key });
        break;
      }
    }
    expect(mutated).toBeGreaterThan(50);
  });

  // Speed is the search's pruning at work: without it these time out (the budget makes a timeout fail
  // the test, since the result is then { ok: false, timedOut: true }).
  it('checks thousands of operations over tens of keys within its time budget', () => {
    const history = generateHistory(makeRng(42), { clients: 5, keys: 20, opsPerClient: 1000, pendingRate: 0.01, casRate: 0.1 });
    expect(history.length).toBe(5000);
    const result = checkKvHistory(history, { timeoutMs: 5000 });
    expect(result, result.explanation).toEqual({ ok: true });
  });

  it('checks a single hot key with thousands of operations within its time budget', () => {
    const history = generateHistory(makeRng(7), { clients: 5, keys: 1, opsPerClient: 600, pendingRate: 0.005, casRate: 0.1 });
    const result = checkKvHistory(history, { timeoutMs: 5000 });
    expect(result, result.explanation).toEqual({ ok: true });
  });
});

// ---------------------------------------------------------------------------
// Differential test against a brute-force oracle on tiny random histories
// ---------------------------------------------------------------------------

/**
 * Linearizability straight from the definition: try every order of the ops
 * that respects real time (an op may go next unless a remaining completed op
 * returned strictly before it was called), with pending ops optional. No
 * pruning at all, so it is only usable for a handful of ops.
 */
function bruteForceLinearizable(history: Operation[]): boolean {
  const ops = history.filter((op) => op.return !== undefined || op.input.kind !== 'get');
  const place = (remaining: Operation[], register: ReadonlyMap<string, string>): boolean => {
    if (remaining.every((op) => op.return === undefined)) return true;
    return remaining.some((op, i) => {
      const blocked = remaining.some((other) => other.return !== undefined && other.return < op.call);
      if (blocked) return false;
      const after = applySequentially(op, register);
      return after !== undefined && place([...remaining.slice(0, i), ...remaining.slice(i + 1)], after);
    });
  };
  return place(ops, new Map());
}

/** The register after `op`, or undefined if its recorded output is impossible. */
function applySequentially(op: Operation, register: ReadonlyMap<string, string>): ReadonlyMap<string, string> | undefined {
  const input = op.input;
  const current = register.get(input.key);
  const output = op.output;
  const pending = op.return === undefined;
  switch (input.kind) {
    case 'put':
      return new Map(register).set(input.key, input.value);
    case 'get':
      return output !== undefined && !('ok' in output) && output.value === current ? register : undefined;
    case 'cas': {
      const matches = current === input.expected;
      const ok = pending ? matches : output !== undefined && 'ok' in output && output.ok;
      if (ok !== matches) return undefined;
      return ok ? new Map(register).set(input.key, input.value) : register;
    }
  }
}

function randomTinyHistory(rng: () => number): Operation[] {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rng() * items.length)];
  const values = ['a', 'b', 'c'] as const;
  const count = 3 + Math.floor(rng() * 6);
  return Array.from({ length: count }, (_, i): Operation => {
    const call = Math.floor(rng() * 8);
    // Many pending ops: they are what the memo's subsumption pruning is about.
    const ret = rng() < 0.35 ? undefined : call + Math.floor(rng() * 5);
    const key = rng() < 0.85 ? 'x' : 'y';
    const roll = rng();
    if (roll < 0.35) return put(i, pick(values), call, ret, key);
    if (roll < 0.75) return get(i, pick([undefined, ...values]), call, ret, key);
    return cas(i, pick([undefined, ...values]), pick(values), rng() < 0.5, call, ret, key);
  });
}

describe('checkKvHistory: agreement with a brute-force oracle', () => {
  it('gives the same verdict as the definition on thousands of tiny random histories', () => {
    const rng = makeRng(2024);
    const verdicts = { linearizable: 0, violation: 0 };
    for (let trial = 0; trial < 5000; trial++) {
      const history = randomTinyHistory(rng);
      const expected = bruteForceLinearizable(history);
      expect(checkKvHistory(history).ok, JSON.stringify(history)).toBe(expected);
      verdicts[expected ? 'linearizable' : 'violation']++;
    }
    // Both verdicts must be well represented for the comparison to mean anything.
    expect(verdicts.linearizable).toBeGreaterThan(300);
    expect(verdicts.violation).toBeGreaterThan(300);
  });
});
