/**
 * Linearizability checker for key-value client histories recorded by the Raft
 * simulator.
 *
 * Algorithm: Wing & Gong's backtracking search with Lowe's improvements
 * ("WGL", as used by Knossos and porcupine):
 *   - the history is a doubly linked list of call/return events sorted by time;
 *   - linearizing an operation "lifts" its call and return out of the list, and
 *     backtracking "unlifts" them again in O(1);
 *   - every configuration reached (set of linearized operations + model state)
 *     is memoized, so a configuration that was already explored (and, since the
 *     search did not stop there, failed) is never explored twice.
 *
 * Pending operations (no return) are optional and may take effect at any time
 * after their call. Because they stay concurrent with everything after them,
 * they are the main source of search cost; two additions keep it in check:
 * pending ops that provably cannot matter are dropped up front (isDroppable),
 * and the memo also skips configurations subsumed by one with fewer optional
 * ops placed (VisitedSet).
 *
 * Keys are independent registers, so by P-compositionality (Herlihy & Wing's
 * locality) the history is linearizable iff every per-key sub-history is. We
 * check keys one at a time, which keeps each search small.
 *
 * Time convention: intervals are closed, and events at equal timestamps are
 * ordered calls-before-returns, i.e. an operation that starts at the very tick
 * another one returns counts as concurrent with it. That can only make the
 * checker more lenient, never report a false violation for a simulator whose
 * clock has coarse ticks.
 */

export type KvInput =
  | { kind: 'put'; key: string; value: string }
  | { kind: 'get'; key: string }
  | { kind: 'cas'; key: string; expected: string | undefined; value: string };

export type KvOutput = { value?: string } | { ok: boolean } | undefined;

export interface Operation {
  clientId: number;
  call: number;
  /** Missing = pending: the outcome is unknown (e.g. the client timed out or crashed). */
  return?: number;
  input: KvInput;
  output?: KvOutput;
}

export interface CheckResult {
  ok: boolean;
  /** for a failure: the key whose history is not linearizable and a short human explanation */
  key?: string;
  explanation?: string;
  timedOut?: boolean;
}

export interface CheckOptions {
  /** Budget for the whole check; when exceeded the result is `{ ok: false, timedOut: true }`. */
  timeoutMs?: number;
}

/**
 * Checks that `history` is linearizable with respect to a map of independent
 * registers (initially absent) supporting put / get / cas.
 *
 * `ok` is true only when every key is proven linearizable. A proven violation is
 * reported in preference to a timeout, because it is a definite answer.
 *
 * Throws on malformed input (return before call, completed get/cas without a
 * matching output): those are recorder bugs, not consistency violations.
 */
export function checkKvHistory(history: Operation[], options: CheckOptions = {}): CheckResult {
  history.forEach(validateOperation);
  const deadline = new Deadline(options.timeoutMs);
  let timedOutKey: string | undefined;

  for (const [key, ops] of partitionByKey(history)) {
    const outcome = checkKey(ops, deadline);
    if (outcome.kind === 'violation') {
      return { ok: false, key, explanation: outcome.explanation };
    }
    if (outcome.kind === 'timeout') {
      // Keep going: a later key may still yield a definite violation cheaply.
      timedOutKey ??= key;
    }
  }

  if (timedOutKey !== undefined) {
    return {
      ok: false,
      timedOut: true,
      key: timedOutKey,
      explanation: `gave up after ${options.timeoutMs ?? 0} ms while searching key "${timedOutKey}"; the history may or may not be linearizable`,
    };
  }
  return { ok: true };
}

/**
 * Records a history as a simulator runs. Operations that are never completed
 * stay pending, which is exactly how an unknown outcome should be reported.
 */
export class HistoryRecorder {
  private readonly ops: Operation[] = [];

  invoke(clientId: number, input: KvInput, time: number): number {
    this.ops.push({ clientId, call: time, input: { ...input } });
    return this.ops.length - 1;
  }

  complete(opId: number, output: KvOutput, time: number): void {
    const op = this.ops[opId];
    if (op === undefined) throw new RangeError(`unknown operation id ${opId}`);
    if (op.return !== undefined) throw new Error(`operation ${opId} was already completed`);
    if (time < op.call) throw new RangeError(`operation ${opId} cannot return (${time}) before its call (${op.call})`);
    op.return = time;
    op.output = output === undefined ? undefined : { ...output };
  }

  /** A snapshot: later invocations/completions do not affect the returned array. */
  history(): Operation[] {
    return this.ops.map((op) => {
      const copy: Operation = { ...op, input: { ...op.input } };
      if (op.output !== undefined) copy.output = { ...op.output };
      return copy;
    });
  }
}

// ---------------------------------------------------------------------------
// Input validation and partitioning
// ---------------------------------------------------------------------------

function validateOperation(op: Operation, index: number): void {
  if (!Number.isFinite(op.call)) throw new RangeError(`operation ${index}: call time must be finite`);
  if (op.return === undefined) return; // pending ops may carry any (ignored) output
  if (!Number.isFinite(op.return) || op.return < op.call) {
    throw new RangeError(`operation ${index}: return time ${op.return} is before call time ${op.call}`);
  }
  if (op.input.kind === 'get' && !isValueOutput(op.output)) {
    throw new TypeError(`operation ${index}: a completed get needs an output of the form { value?: string }`);
  }
  if (op.input.kind === 'cas' && !isCasOutput(op.output)) {
    throw new TypeError(`operation ${index}: a completed cas needs an output of the form { ok: boolean }`);
  }
}

function isValueOutput(output: KvOutput): output is { value?: string } {
  return output !== undefined && !('ok' in output);
}

function isCasOutput(output: KvOutput): output is { ok: boolean } {
  return output !== undefined && 'ok' in output && typeof output.ok === 'boolean';
}

/** The value a (validated, completed) get returned; undefined means "absent". */
function readValue(op: Operation): string | undefined {
  return isValueOutput(op.output) ? op.output.value : undefined;
}

/** Whether a (validated, completed) cas reported success. */
function casSucceeded(op: Operation): boolean {
  return isCasOutput(op.output) && op.output.ok;
}

function partitionByKey(history: Operation[]): Map<string, Operation[]> {
  const byKey = new Map<string, Operation[]>();
  for (const op of history) {
    const ops = byKey.get(op.input.key);
    if (ops === undefined) byKey.set(op.input.key, [op]);
    else ops.push(op);
  }
  return byKey;
}

// ---------------------------------------------------------------------------
// Per-key register model
// ---------------------------------------------------------------------------

/** Register values are interned to small integers so states compare (and hash) cheaply. */
const ABSENT = 0;
/** Returned by a step function when the operation cannot happen in that state. */
const ILLEGAL = -1;
/** Marks a memo entry made redundant by a covering one (never equal to a real state). */
const RETIRED = -2;

class ValueTable {
  private readonly ids = new Map<string, number>();
  private readonly values: (string | undefined)[] = [undefined];

  intern(value: string | undefined): number {
    if (value === undefined) return ABSENT;
    let id = this.ids.get(value);
    if (id === undefined) {
      id = this.values.length;
      this.ids.set(value, id);
      this.values.push(value);
    }
    return id;
  }

  describe(id: number): string {
    const value = this.values[id];
    return value === undefined ? 'absent' : JSON.stringify(value);
  }
}

/** One operation of a single key's sub-history, ready for the search. */
interface CompiledOp {
  /** Position in the key's sub-history; breaks ties between simultaneous events. */
  readonly index: number;
  /** Bit position in the placement bitset of its class (completed or pending). */
  readonly bit: number;
  readonly source: Operation;
  readonly call: number;
  /** +Infinity for a pending operation: it may take effect at any time after its call. */
  readonly ret: number;
  readonly pending: boolean;
  /** Next register state, or ILLEGAL if the recorded output is impossible in `state`. */
  readonly step: (state: number) => number;
}

function compileStep(op: Operation, values: ValueTable): (state: number) => number {
  const input = op.input;
  const pending = op.return === undefined;
  switch (input.kind) {
    case 'put': {
      const written = values.intern(input.value);
      return () => written;
    }
    case 'get': {
      const seen = values.intern(readValue(op));
      return (state) => (state === seen ? state : ILLEGAL);
    }
    case 'cas': {
      const expected = values.intern(input.expected);
      const written = values.intern(input.value);
      // A pending cas, if it took effect at all, behaved as the register dictates;
      // "it did not take effect" is covered by leaving it out of the linearization.
      if (pending) return (state) => (state === expected ? written : state);
      if (casSucceeded(op)) return (state) => (state === expected ? written : ILLEGAL);
      return (state) => (state !== expected ? state : ILLEGAL);
    }
  }
}

/**
 * What the register must (or must not) hold for the completed ops of one key
 * to be legal; used to drop pending puts that cannot matter.
 */
interface Dependencies {
  /** Values some completed get returned, or some cas expected. */
  readonly reliedOn: ReadonlySet<string | undefined>;
  /** A failed cas is legal only if the register did NOT hold its expected value. */
  readonly hasFailedCas: boolean;
}

function collectDependencies(ops: Operation[]): Dependencies {
  const reliedOn = new Set<string | undefined>();
  let hasFailedCas = false;
  for (const op of ops) {
    if (op.input.kind === 'get' && op.return !== undefined) reliedOn.add(readValue(op));
    if (op.input.kind === 'cas') {
      reliedOn.add(op.input.expected);
      if (op.return !== undefined && !casSucceeded(op)) hasFailedCas = true;
    }
  }
  return { reliedOn, hasFailedCas };
}

/**
 * Every pending op is concurrent with the entire rest of the history, so each
 * one can double the search space; drop those that provably cannot matter.
 *
 * A pending get has no effect and nothing to verify. A pending put(v) can be
 * dropped when nothing relies on v and no cas failed: in any linearization that
 * includes it, the ops between it and the next write see v, so they can only be
 * pending cas no-ops (a get or successful cas there would rely on v, and there
 * are no failed cas); removing the put and those no-ops leaves a linearization.
 */
function isDroppable(op: Operation, deps: Dependencies): boolean {
  if (op.return !== undefined) return false;
  if (op.input.kind === 'get') return true;
  return op.input.kind === 'put' && !deps.hasFailedCas && !deps.reliedOn.has(op.input.value);
}

function compileKey(ops: Operation[]): { compiled: CompiledOp[]; values: ValueTable } {
  const deps = collectDependencies(ops);
  const values = new ValueTable();
  const bits = { completed: 0, pending: 0 };
  // Numbering ops in call order keeps the set of placed ops compact (see VisitedSet).
  const compiled = ops
    .filter((op) => !isDroppable(op, deps))
    .sort((a, b) => a.call - b.call)
    .map((op, index): CompiledOp => {
      const pending = op.return === undefined;
      return {
        index,
        bit: pending ? bits.pending++ : bits.completed++,
        source: op,
        call: op.call,
        ret: op.return ?? Number.POSITIVE_INFINITY,
        pending,
        step: compileStep(op, values),
      };
    });
  return { compiled, values };
}

// ---------------------------------------------------------------------------
// Checking one key
// ---------------------------------------------------------------------------

type KeyOutcome = { kind: 'ok' } | { kind: 'timeout' } | { kind: 'violation'; explanation: string };

function checkKey(ops: Operation[], deadline: Deadline): KeyOutcome {
  const unwritten = findReadOfUnwrittenValue(ops);
  if (unwritten !== undefined) {
    return { kind: 'violation', explanation: `${describeOp(unwritten)} read a value that no operation ever wrote to this key` };
  }
  const { compiled, values } = compileKey(ops);
  const result = searchLinearization(compiled, deadline);
  if (result.kind !== 'stuck') return result;
  return { kind: 'violation', explanation: explainStuck(compiled, result, values) };
}

/**
 * Cheap pre-check for the most common bug shape. The search would find it too,
 * but only after exhausting the key's state space, and with a vaguer message.
 */
function findReadOfUnwrittenValue(ops: Operation[]): Operation | undefined {
  const written = new Set<string>();
  for (const op of ops) {
    if (op.input.kind === 'put' || op.input.kind === 'cas') written.add(op.input.value);
  }
  return ops.find((op) => {
    if (op.input.kind !== 'get' || op.return === undefined) return false;
    const value = readValue(op);
    return value !== undefined && !written.has(value);
  });
}

// ---------------------------------------------------------------------------
// WGL search
// ---------------------------------------------------------------------------

/** List node shared by the sentinel head and real events. */
interface ListNode {
  next: Entry | null;
}

interface CallEntry extends ListNode {
  readonly kind: 'call';
  readonly op: CompiledOp;
  readonly ret: ReturnEntry;
  prev: ListNode;
}

interface ReturnEntry extends ListNode {
  readonly kind: 'return';
  readonly op: CompiledOp;
  prev: ListNode;
}

type Entry = CallEntry | ReturnEntry;

function buildEventList(ops: CompiledOp[]): ListNode {
  const head: ListNode = { next: null };
  const entries: Entry[] = [];
  for (const op of ops) {
    const ret: ReturnEntry = { kind: 'return', op, prev: head, next: null };
    entries.push({ kind: 'call', op, ret, prev: head, next: null }, ret);
  }
  entries.sort(compareEvents);
  let prev: ListNode = head;
  for (const entry of entries) {
    entry.prev = prev;
    prev.next = entry;
    prev = entry;
  }
  return head;
}

function eventTime(entry: Entry): number {
  return entry.kind === 'call' ? entry.op.call : entry.op.ret;
}

/**
 * By time; at equal times calls sort before returns so that touching intervals
 * count as concurrent (see the file header). Two pending returns (both +Infinity)
 * subtract to NaN, which is falsy and falls through to the tie-breakers.
 */
function compareEvents(a: Entry, b: Entry): number {
  const callFirst = Number(b.kind === 'call') - Number(a.kind === 'call');
  return eventTime(a) - eventTime(b) || callFirst || a.op.index - b.op.index;
}

/** Removes an operation's call and return events from the list (Lowe's "lift"). */
function lift(call: CallEntry): void {
  unlink(call);
  unlink(call.ret);
}

/** Exact inverse of `lift`; must be applied in LIFO order. */
function unlift(call: CallEntry): void {
  relink(call.ret);
  relink(call);
}

function unlink(entry: Entry): void {
  entry.prev.next = entry.next;
  if (entry.next !== null) entry.next.prev = entry.prev;
}

function relink(entry: Entry): void {
  entry.prev.next = entry;
  if (entry.next !== null) entry.next.prev = entry;
}

type SearchResult =
  | { kind: 'ok' }
  | { kind: 'timeout' }
  /** No linearization exists; `prefix` is the longest legal partial linearization seen (a debugging hint). */
  | { kind: 'stuck'; prefix: CompiledOp[]; stateAfterPrefix: number };

interface Frame {
  readonly call: CallEntry;
  readonly stateBefore: number;
}

/**
 * The WGL search. Invariant: `entry` only ever walks over the leading run of
 * call events (the ops that may come next), so reaching a return event means
 * none of them can: that op had to be linearized by now, so the current prefix
 * is a dead end and we backtrack.
 */
function searchLinearization(ops: CompiledOp[], deadline: Deadline): SearchResult {
  const head = buildEventList(ops);
  const completedCount = ops.filter((op) => !op.pending).length;
  const placement = new Placement(completedCount, ops.length - completedCount);
  const visited = new VisitedSet();
  const stack: Frame[] = [];
  const longest = new LongestPrefix();

  // Pending ops may be left out entirely, so we are done as soon as every
  // completed op is placed.
  let unplacedCompleted = completedCount;
  let state = ABSENT;
  let entry = head.next;

  while (unplacedCompleted > 0) {
    if (deadline.expired()) return { kind: 'timeout' };

    if (entry !== null && entry.kind === 'call') {
      const op = entry.op;
      const next = op.step(state);
      if (next !== ILLEGAL) {
        placement.toggle(op);
        if (visited.add(placement, next)) {
          stack.push({ call: entry, stateBefore: state });
          longest.onPush(stack, next);
          lift(entry);
          if (!op.pending) unplacedCompleted--;
          state = next;
          entry = head.next;
          continue;
        }
        placement.toggle(op); // configuration already covered: skip this candidate
      }
      entry = entry.next;
      continue;
    }

    // A return event (or, defensively, the end of the list): backtrack.
    const top = stack.pop();
    if (top === undefined) return { kind: 'stuck', prefix: longest.ops(), stateAfterPrefix: longest.state };
    longest.onPop(stack.length);
    unlift(top.call);
    if (!top.call.op.pending) unplacedCompleted++;
    placement.toggle(top.call.op);
    state = top.stateBefore;
    entry = top.call.next;
  }
  return { kind: 'ok' };
}

/**
 * Remembers the deepest stack reached, for the failure explanation. Copying
 * the whole stack at every new maximum would be quadratic; instead we track
 * how much of the saved copy still agrees with the live stack and copy only
 * the part that changed.
 */
class LongestPrefix {
  private saved: CompiledOp[] = [];
  private agreeing = 0;
  state = ABSENT;

  onPush(stack: readonly Frame[], stateAfter: number): void {
    if (stack.length <= this.saved.length) return;
    this.saved.length = this.agreeing;
    for (let i = this.agreeing; i < stack.length; i++) this.saved.push(stack[i].call.op);
    this.agreeing = stack.length;
    this.state = stateAfter;
  }

  onPop(depth: number): void {
    this.agreeing = Math.min(this.agreeing, depth);
  }

  ops(): CompiledOp[] {
    return [...this.saved];
  }
}

// ---------------------------------------------------------------------------
// Memoization: placed ops + register state
// ---------------------------------------------------------------------------

class Bitset {
  readonly words: Uint32Array;

  constructor(bits: number) {
    this.words = new Uint32Array(Math.ceil(bits / 32));
  }

  toggle(bit: number): void {
    this.words[bit >>> 5] ^= 1 << (bit & 31);
  }
}

/**
 * The operations linearized so far, kept as two sets: completed ops (all of
 * which must be placed eventually) and pending ops (optional). Keeping them
 * apart lets VisitedSet use subsumption on the pending part.
 */
class Placement {
  readonly completed: Bitset;
  readonly pending: Bitset;
  /** Zobrist hash (XOR of a random word per op) of `completed`, maintained in O(1) per toggle. */
  hash = 0;
  private readonly zobrist: Int32Array;

  constructor(completedCount: number, pendingCount: number) {
    this.completed = new Bitset(completedCount);
    this.pending = new Bitset(pendingCount);
    this.zobrist = zobristKeys(completedCount);
  }

  /** Adds the op if absent, removes it if present: the same call places and un-places. */
  toggle(op: CompiledOp): void {
    if (op.pending) {
      this.pending.toggle(op.bit);
    } else {
      this.completed.toggle(op.bit);
      this.hash ^= this.zobrist[op.bit];
    }
  }
}

/**
 * The configurations (placed ops + register state) the search has entered.
 *
 * Beyond WGL's exact-match memo, a configuration (C, Q, s) — completed ops C,
 * pending ops Q, state s — is skipped when some (C, Q', s) with Q' ⊆ Q was
 * entered: every continuation of the former is legal from the latter, which
 * merely has more optional ops left. (By induction on the distance to a full
 * linearization, once the search has entered a configuration from which one
 * exists, it finds one.) Without this, each pending op — concurrent with the
 * entire rest of the history — would double the configurations to refute.
 *
 * Storage: completed ops are numbered in call order, so C is nearly always
 * "every op before some frontier, plus a few just after it". An entry stores
 * only the window of C's words between the first not-all-ones word and the
 * last non-zero one, followed by Q's words, in one growable arena; buckets are
 * chained through `nextInBucket`. Storing whole bitsets made memory grow by
 * ~n/8 bytes per configuration (hundreds of MB on long refutations), and a
 * typed array per entry was slower still (off-heap allocations).
 */
class VisitedSet {
  private arena = new Uint32Array(4096);
  private used = 0;
  private entries = 0;
  private offset = new Int32Array(1024);
  private windowStart = new Int32Array(1024);
  private windowLength = new Int32Array(1024);
  private states = new Int32Array(1024);
  private nextInBucket = new Int32Array(1024);
  private readonly bucketHeads = new Map<number, number>();

  /** Records the configuration; returns false if it is already covered. */
  add(placement: Placement, state: number): boolean {
    const key = (placement.hash ^ Math.imul(state + 1, 0x9e3779b1)) | 0;
    const head = this.bucketHeads.get(key) ?? -1;
    const window = completedWindow(placement.completed.words);
    for (let entry = head; entry !== -1; entry = this.nextInBucket[entry]) {
      if (this.states[entry] !== state || !this.sameCompleted(entry, placement, window)) continue;
      const relation = this.pendingRelation(entry, placement);
      if (relation === 'subset') return false; // covered by an entered configuration
      // The new configuration covers this entry, which therefore can never be needed again.
      if (relation === 'superset') this.states[entry] = RETIRED;
    }
    this.append(placement, state, window, head, key);
    return true;
  }

  private sameCompleted(entry: number, placement: Placement, window: Window): boolean {
    if (this.windowStart[entry] !== window.start || this.windowLength[entry] !== window.length) return false;
    const words = placement.completed.words;
    const base = this.offset[entry] - window.start;
    for (let i = window.start; i < window.start + window.length; i++) if (this.arena[base + i] !== words[i]) return false;
    return true;
  }

  /** How the entry's pending set relates to the placement's: 'subset' (incl. equal), 'superset' or 'neither'. */
  private pendingRelation(entry: number, placement: Placement): 'subset' | 'superset' | 'neither' {
    const words = placement.pending.words;
    const base = this.offset[entry] + this.windowLength[entry];
    let subset = true;
    let superset = true;
    for (let i = 0; i < words.length; i++) {
      const seen = this.arena[base + i];
      if ((seen & ~words[i]) !== 0) subset = false;
      if ((words[i] & ~seen) !== 0) superset = false;
    }
    return subset ? 'subset' : superset ? 'superset' : 'neither';
  }

  private append(placement: Placement, state: number, window: Window, head: number, key: number): void {
    const pending = placement.pending.words;
    const size = window.length + pending.length;
    if (this.entries === this.states.length) this.growEntries();
    while (this.used + size > this.arena.length) this.arena = grown(this.arena, new Uint32Array(this.arena.length * 2));
    const entry = this.entries++;
    this.offset[entry] = this.used;
    this.windowStart[entry] = window.start;
    this.windowLength[entry] = window.length;
    this.arena.set(placement.completed.words.subarray(window.start, window.start + window.length), this.used);
    this.arena.set(pending, this.used + window.length);
    this.used += size;
    this.states[entry] = state;
    this.nextInBucket[entry] = head;
    this.bucketHeads.set(key, entry);
  }

  private growEntries(): void {
    const size = this.states.length * 2;
    this.offset = grown(this.offset, new Int32Array(size));
    this.windowStart = grown(this.windowStart, new Int32Array(size));
    this.windowLength = grown(this.windowLength, new Int32Array(size));
    this.states = grown(this.states, new Int32Array(size));
    this.nextInBucket = grown(this.nextInBucket, new Int32Array(size));
  }
}

function grown<T extends Int32Array | Uint32Array>(from: T, to: T): T {
  to.set(from);
  return to;
}

/** Words [start, start + length) of a bitset; words before are all ones, words after all zeros. */
interface Window {
  readonly start: number;
  readonly length: number;
}

function completedWindow(words: Uint32Array): Window {
  let start = 0;
  while (start < words.length && words[start] === 0xffffffff) start++;
  let end = words.length;
  while (end > start && words[end - 1] === 0) end--;
  return { start, length: end - start };
}

/** Deterministic (seeded) so that runs are reproducible; quality needs are modest. */
function zobristKeys(count: number): Int32Array {
  const keys = new Int32Array(count);
  let seed = 0x2545f491;
  for (let i = 0; i < count; i++) {
    // mulberry32
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), seed | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    keys[i] = t ^ (t >>> 14);
  }
  return keys;
}

// ---------------------------------------------------------------------------
// Deadline
// ---------------------------------------------------------------------------

class Deadline {
  private readonly at: number;
  private ticks = 0;

  constructor(timeoutMs: number | undefined) {
    this.at = timeoutMs === undefined ? Number.POSITIVE_INFINITY : performance.now() + timeoutMs;
  }

  /** Reading the clock every iteration would dominate the search; sample it. */
  expired(): boolean {
    if ((++this.ticks & 1023) !== 0) return false;
    return performance.now() > this.at;
  }
}

// ---------------------------------------------------------------------------
// Explanations
// ---------------------------------------------------------------------------

function describeOp(op: Operation): string {
  const when = `[${op.call}, ${op.return ?? 'pending'}]`;
  return `client ${op.clientId} ${describeCall(op)} ${when}`;
}

function describeCall(op: Operation): string {
  const input = op.input;
  const show = (value: string | undefined): string => (value === undefined ? 'absent' : JSON.stringify(value));
  const pending = op.return === undefined;
  switch (input.kind) {
    case 'put':
      return `put(${show(input.value)})`;
    case 'get':
      return pending ? 'get()' : `get() → ${show(readValue(op))}`;
    case 'cas': {
      const call = `cas(${show(input.expected)} → ${show(input.value)})`;
      if (pending) return call;
      return `${call} → ${casSucceeded(op) ? 'ok' : 'failed'}`;
    }
  }
}

const PREFIX_TAIL = 4;

function explainStuck(ops: CompiledOp[], stuck: { prefix: CompiledOp[]; stateAfterPrefix: number }, values: ValueTable): string {
  const completed = ops.filter((op) => !op.pending);
  const header = `no linearization of the ${completed.length} completed operation(s) exists`;
  const state = values.describe(stuck.stateAfterPrefix);
  const where =
    stuck.prefix.length === 0
      ? 'it fails from the very start (register absent)'
      : `the longest legal prefix found places ${stuck.prefix.length} op(s) (${describePrefixTail(stuck.prefix)}), leaving ${state}, and cannot be extended to one`;
  // Name the op that was due next, but only claim it is impossible when its
  // own step says so (a legal op may still lead nowhere).
  const placed = new Set(stuck.prefix);
  const due = completed.filter((op) => !placed.has(op)).sort((a, b) => a.ret - b.ret)[0];
  if (due === undefined || due.step(stuck.stateAfterPrefix) !== ILLEGAL) return `${header}: ${where}`;
  return `${header}: ${where}; ${describeOp(due.source)}, the next op due, is impossible when the register holds ${state}`;
}

function describePrefixTail(prefix: CompiledOp[]): string {
  const tail = prefix.slice(-PREFIX_TAIL).map((op) => describeOp(op.source));
  return (prefix.length > PREFIX_TAIL ? '…; ' : '') + tail.join('; ');
}
