/**
 * One seeded run of a raft cluster under faults. Real runner, real core, real WAL (on MemoryFs, which
 * models what a crash loses), real store-level state machine; a virtual clock and network. Everything
 * random comes from the seed, so a failing seed replays exactly.
 */
import { ApiError } from '../../../agent/api/errors';
import { RaftError } from '../../../agent/raft/errors';
import { RaftRunner } from '../../../agent/raft/runner';
import { MemoryFs } from '../../../agent/raft/storage/fs';
import { DurableRaftStorage } from '../../../agent/raft/storage/raft-storage';
import { type NodeId, Role } from '../../../agent/raft/types';
import { checkKvHistory, type Operation } from '../../support/linearizability';
import { FencedFs } from './fenced-fs';
import { InvariantChecker, type ObservedMember, SimFailure } from './invariants';
import { Prng } from '../../support/prng';
import { SimNetwork } from './sim-network';
import type { MemoryRaftTransport } from '../../../agent/raft/transport/memory-transport';
import { SimKvStore } from './sim-kv-store';
import { VirtualScheduler } from './virtual-scheduler';

export interface SimOptions {
  seed: number;
  /** Virtual milliseconds of faults and load, before the recovery phase. */
  durationMs?: number;
  /** Keep a trace of what happened (printed for a failing seed). */
  trace?: boolean;
}

export interface SimResult {
  seed: number;
  ok: boolean;
  failure?: string;
  trace: string[];
  stats: {
    members: number;
    operations: number;
    completedWrites: number;
    committedEntries: number;
    crashes: number;
    partitions: number;
    membershipChanges: number;
    messagesDelivered: number;
    messagesDropped: number;
    virtualMs: number;
  };
}

const TICK_MS = 10;
const ELECTION_TICK = 10;
const DATA_DIR = '/raft';

class SimMember {
  readonly disk: MemoryFs;
  view: FencedFs | undefined;
  runner: RaftRunner | undefined;
  transport: MemoryRaftTransport | undefined;
  kv: SimKvStore | undefined;
  incarnation = 0;
  removed = false;
  /** Set while a (re)start is reading the disk, so two starts never race for one member. */
  starting: Promise<void> | undefined;
  /** A proposed member whose AddLearner may not have committed: it starts empty and waits. */
  constructor(
    readonly id: NodeId,
    random: Prng,
  ) {
    this.disk = new MemoryFs({ random: (n) => random.int(n) });
  }

  get up(): boolean {
    return this.runner !== undefined;
  }
}

export async function runSimulation(options: SimOptions): Promise<SimResult> {
  const sim = new Simulation(options);
  return sim.run();
}

class Simulation {
  private readonly scheduler = new VirtualScheduler();
  private readonly rng: Prng;
  private readonly faultRng: Prng;
  private readonly clientRng: Prng;
  private readonly network: SimNetwork;
  private readonly members = new Map<NodeId, SimMember>();
  private readonly checker = new InvariantChecker();
  private readonly operations: Operation[] = [];
  private readonly trace: string[] = [];
  private nextMemberId = 1;
  private nextClientId = 1;
  private events = 0;
  private stopClients = false;
  private readonly stats = { crashes: 0, partitions: 0, membershipChanges: 0, completedWrites: 0 };
  private readonly durationMs: number;

  constructor(private readonly options: SimOptions) {
    this.rng = new Prng(options.seed);
    this.faultRng = this.rng.fork();
    this.clientRng = this.rng.fork();
    this.network = new SimNetwork(this.scheduler, this.rng.fork(), { dropRate: 0, duplicateRate: 0, minDelayMs: 1, maxDelayMs: 5 });
    this.durationMs = options.durationMs ?? 3_000;
  }

  private log(line: string): void {
    if (this.options.trace) this.trace.push(`${String(this.scheduler.now()).padStart(6)}ms ${line}`);
  }

  async run(): Promise<SimResult> {
    let failure: string | undefined;
    try {
      await this.boot(this.rng.chance(0.5) ? 3 : 5);
      const clients = this.rng.between(2, 4);
      for (let c = 0; c < clients; c++) void this.client();
      this.scheduleFaults();
      await this.scheduler.runUntil(this.durationMs, () => this.afterEvent());
      await this.recover();
      this.checkLinearizable();
    } catch (error) {
      failure = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    } finally {
      this.stopClients = true;
      for (const m of this.members.values()) m.runner?.halt();
    }
    return {
      seed: this.options.seed,
      ok: failure === undefined,
      failure,
      trace: this.trace,
      stats: {
        members: this.members.size,
        operations: this.operations.length,
        completedWrites: this.stats.completedWrites,
        committedEntries: this.checker.committedCount,
        crashes: this.stats.crashes,
        partitions: this.stats.partitions,
        membershipChanges: this.stats.membershipChanges,
        messagesDelivered: this.network.delivered,
        messagesDropped: this.network.dropped,
        virtualMs: this.scheduler.now(),
      },
    };
  }

  // ---- members --------------------------------------------------------------------------------

  private async boot(size: number): Promise<void> {
    const ids = Array.from({ length: size }, () => this.nextMemberId++);
    for (const id of ids) this.members.set(id, new SimMember(id, this.rng.fork()));
    for (const id of ids) await this.start(this.members.get(id) as SimMember, { bootstrap: true, peers: ids.filter((p) => p !== id) });
    this.log(`booted members ${ids.join(',')}`);
  }

  private start(member: SimMember, how: { bootstrap?: boolean; peers?: NodeId[] } = {}): Promise<void> {
    member.starting ??= this.startOnce(member, how).finally(() => (member.starting = undefined));
    return member.starting;
  }

  private async startOnce(member: SimMember, how: { bootstrap?: boolean; peers?: NodeId[] }): Promise<void> {
    member.incarnation++;
    const diskRng = this.rng.fork();
    // fsyncs take virtual time, so a crash can strike while one is in flight; while the clock is not
    // running (boot, recovery) they complete at once.
    const view = new FencedFs(member.disk, () => (this.scheduler.running ? this.sleep(diskRng.between(0, 4)) : Promise.resolve()));
    const { storage, state } = await DurableRaftStorage.open(DATA_DIR, view, { wal: { segmentBytes: 16 * 1024 } });
    if (state.tornTail) this.log(`member ${member.id} truncated a torn WAL tail in ${state.tornTail.file} at ${state.tornTail.offset}`);
    const kv = new SimKvStore(() => this.scheduler.now());
    const transport = this.network.transport(member.id);
    const runner = await RaftRunner.start({
      id: member.id,
      address: `sim-${member.id}`,
      durable: storage,
      restored: state,
      transport,
      stateMachine: kv.stateMachine,
      bootstrap: how.bootstrap,
      peers: new Map((how.peers ?? []).map((p) => [p, `sim-${p}`])),
      tickMs: TICK_MS,
      electionTick: ELECTION_TICK,
      heartbeatTick: 2,
      snapshotEvery: 40,
      entriesKeptAfterSnapshot: 10,
      proposalTimeoutMs: 1_000,
      maxSizePerMsg: 4 * 1024,
      maxInflightMsgs: 8,
      random: (n) => this.rng.int(n),
      scheduler: this.scheduler,
      onEntryApplied: (entry) => this.checker.entryApplied(member.id, entry, member.runner?.raftState().term ?? entry.term),
    });
    kv.attach(runner);
    runner.onRemoved(() => {
      this.log(`member ${member.id} learns it was removed and halts`);
      member.removed = true;
      this.halt(member);
    });
    member.view = view;
    member.runner = runner;
    member.transport = transport;
    member.kv = kv;
  }

  private halt(member: SimMember): void {
    member.runner?.halt();
    member.view?.kill();
    void member.transport?.stop();
    member.runner = undefined;
    member.kv = undefined;
    member.transport = undefined;
  }

  private crash(member: SimMember): void {
    const tear = this.faultRng.pick(['none', 'prefix', 'garbage'] as const);
    this.log(`crash member ${member.id} (tear: ${tear})`);
    this.halt(member);
    member.disk.crash({ tear });
    this.stats.crashes++;
  }

  private liveMembers(): SimMember[] {
    return [...this.members.values()].filter((m) => m.up);
  }

  private leader(): SimMember | undefined {
    return this.liveMembers().find((m) => m.runner?.isLeader);
  }

  // ---- checks ---------------------------------------------------------------------------------

  private observed(): ObservedMember[] {
    const out: ObservedMember[] = [];
    for (const m of this.members.values()) {
      if (!m.runner) continue;
      const status = m.runner.raftState();
      out.push({ id: m.id, incarnation: m.incarnation, role: status.role, term: status.term, commit: status.commit, log: m.runner.logStorage() });
    }
    return out;
  }

  private afterEvent(): void {
    this.events++;
    const observed = this.observed();
    this.checker.check(observed);
    if (this.events % 64 === 0) this.checker.checkLogMatching(observed);
  }

  // ---- faults ---------------------------------------------------------------------------------

  private scheduleFaults(): void {
    const next = () => this.faultRng.between(100, 600);
    const loop = () => {
      if (this.scheduler.now() >= this.durationMs - 200) return;
      void this.injectFault().catch((error: unknown) => this.fail(error));
      this.scheduler.after(next(), loop);
    };
    this.scheduler.after(next(), loop);
  }

  private failure: unknown;

  private fail(error: unknown): void {
    this.failure ??= error;
  }

  private async injectFault(): Promise<void> {
    const roll = this.faultRng.int(100);
    const live = this.liveMembers();
    if (roll < 25 && live.length > 0) {
      const victim = this.faultRng.pick(live);
      this.crash(victim);
      this.scheduler.after(this.faultRng.between(50, 800), () => {
        if (!victim.removed && !victim.up && !victim.starting) {
          this.log(`restart member ${victim.id}`);
          void this.start(victim).catch((error: unknown) => this.fail(error));
        }
      });
    } else if (roll < 45) {
      const ids = [...this.members.keys()];
      const cut = this.faultRng.between(1, ids.length - 1);
      const shuffled = [...ids].sort(() => this.faultRng.next() - 0.5);
      const groups = [shuffled.slice(0, cut), shuffled.slice(cut)];
      this.network.partition(groups);
      this.stats.partitions++;
      this.log(`partition ${groups.map((g) => `{${g.join(',')}}`).join(' ')}`);
      this.scheduler.after(this.faultRng.between(100, 900), () => {
        this.network.heal();
        this.log('heal partition');
      });
    } else if (roll < 60) {
      this.network.faults = {
        dropRate: this.faultRng.pick([0, 0.01, 0.05, 0.2]),
        duplicateRate: this.faultRng.pick([0, 0.02, 0.1]),
        minDelayMs: 1,
        maxDelayMs: this.faultRng.pick([3, 10, 40]),
      };
      this.log(`network faults ${JSON.stringify(this.network.faults)}`);
    } else if (roll < 72) {
      await this.addMember();
    } else if (roll < 80) {
      await this.removeMember();
    } else if (roll < 88) {
      const leader = this.leader();
      const others = this.liveMembers().filter((m) => m !== leader);
      if (leader?.runner && others.length > 0) {
        const target = this.faultRng.pick(others);
        this.log(`transfer leadership ${leader.id} -> ${target.id}`);
        void leader.runner.transferLeadership(target.id, 500).catch(() => undefined);
      }
    }
  }

  private async addMember(): Promise<void> {
    const leader = this.leader();
    if (!leader?.runner) return;
    const id = this.nextMemberId++;
    const member = new SimMember(id, this.rng.fork());
    this.members.set(id, member);
    await this.start(member, { peers: [...this.members.keys()].filter((p) => p !== id) });
    this.log(`add learner ${id} via leader ${leader.id}`);
    this.stats.membershipChanges++;
    try {
      await leader.runner.addLearner(id, `sim-${id}`);
      this.log(`learner ${id} added; promoting`);
      await new Promise((resolve) => this.scheduler.after(200, () => resolve(undefined)));
      const current = this.leader();
      if (current?.runner) {
        await current.runner.promoteLearner(id);
        this.log(`learner ${id} promoted`);
      }
    } catch (error) {
      this.log(`membership change for ${id} did not complete: ${(error as Error).message}`);
    }
  }

  private async removeMember(): Promise<void> {
    const leader = this.leader();
    if (!leader?.runner) return;
    const voters = leader.runner.status().voters;
    // Keep at least three voters so the cluster can still survive a crash.
    if (voters.length <= 3) return;
    const victim = this.faultRng.pick(voters);
    this.log(`remove member ${victim} via leader ${leader.id}`);
    this.stats.membershipChanges++;
    try {
      await leader.runner.removeMember(victim);
      this.log(`member ${victim} removed`);
    } catch (error) {
      this.log(`removal of ${victim} did not complete: ${(error as Error).message}`);
    }
  }

  // ---- clients --------------------------------------------------------------------------------

  /**
   * Start a member for recovery, with the clock stopped (its fsyncs complete at once). A restart that
   * began while the clock still ran may be waiting on an fsync's virtual latency: then the clock runs
   * until that start is done, or it would wait forever.
   */
  private async finishStart(member: SimMember): Promise<void> {
    const pending = member.starting;
    if (pending === undefined) return this.start(member);
    let done = false;
    const settled = pending.then(
      () => void (done = true),
      () => void (done = true),
    );
    await new Promise((resolve) => setImmediate(resolve));
    if (!done) {
      this.log(`recovery: member ${member.id} is still starting; running the clock until it is up`);
      await this.scheduler.runUntil(this.scheduler.now() + 1_000, () => this.afterEvent(), () => done);
      await new Promise((resolve) => setImmediate(resolve));
      if (!done) throw new Error(`member ${member.id} did not finish starting within a virtual second`);
    }
    await settled;
    await pending;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.scheduler.after(ms, resolve));
  }

  private async client(): Promise<void> {
    let clientId = this.nextClientId++;
    let sequence = 0;
    while (!this.stopClients && this.scheduler.now() < this.durationMs) {
      await this.sleep(this.clientRng.between(0, 30));
      const live = this.liveMembers().filter((m) => m.kv);
      if (live.length === 0) continue;
      const member = this.clientRng.pick(live);
      const kv = member.kv as SimKvStore;
      const key = `k${this.clientRng.int(3)}`;
      const isWrite = this.clientRng.chance(0.5);
      const op: Operation = isWrite
        ? { clientId, call: this.scheduler.now(), input: { kind: 'put', key, value: `c${clientId}-${sequence++}` } }
        : { clientId, call: this.scheduler.now(), input: { kind: 'get', key } };
      this.operations.push(op);
      try {
        if (op.input.kind === 'put') {
          await kv.put(key, op.input.value);
          this.stats.completedWrites++;
          op.output = undefined;
        } else {
          op.output = { value: await kv.get(key) };
        }
        op.return = this.scheduler.now();
      } catch (error) {
        if (op.input.kind === 'get' || hadNoEffect(error)) {
          // It had no effect: leave it out of the history.
          this.operations.splice(this.operations.indexOf(op), 1);
        } else {
          // Unknown outcome: it stays pending (may have happened at any point after its call), and the
          // client carries on as a new process, as a real client would after a timeout.
          clientId = this.nextClientId++;
        }
      }
    }
  }

  // ---- the end ---------------------------------------------------------------------------------

  /** Heal everything, restart everyone, and require the cluster to make progress again. */
  private async recover(): Promise<void> {
    if (this.failure) throw this.failure;
    this.stopClients = true;
    this.network.heal();
    this.network.faults = { dropRate: 0, duplicateRate: 0, minDelayMs: 1, maxDelayMs: 5 };
    for (const m of this.members.values()) if (!m.up && !m.removed) await this.finishStart(m);
    this.log('recovery: network healed, every member up');
    const deadline = this.scheduler.now() + 10_000;
    let done = false;
    let lastError = '';
    const attempt = async () => {
      while (!done && this.scheduler.now() < deadline) {
        const leader = this.leader();
        if (leader?.kv) {
          try {
            await leader.kv.put('final', 'write');
            done = true;
            return;
          } catch (error) {
            lastError = (error as Error).message;
          }
        }
        await this.sleep(50);
      }
    };
    const finished = attempt();
    await this.scheduler.runUntil(
      deadline,
      () => {
        this.afterEvent();
        if (this.failure) throw this.failure;
      },
      () => done,
    );
    await finished;
    if (!done) throw new SimFailure(`liveness: no write committed within 10 s of healing everything (last error: ${lastError || 'no leader'})`);
    // Let every member catch up, then all must agree.
    await this.scheduler.runUntil(this.scheduler.now() + 2_000, () => this.afterEvent());
    this.checker.checkLogMatching(this.observed());
    // Members by the leader's account: a removed member that never heard of its removal is not one.
    const finalLeader = this.leader()?.runner?.status();
    if (!finalLeader) throw new SimFailure('liveness: no leader at the end of recovery');
    const belongs = new Set([...finalLeader.voters, ...finalLeader.learners]);
    const states = this.liveMembers()
      .filter((m) => belongs.has(m.id))
      .map((m) => ({ id: m.id, state: (m.kv as SimKvStore).dump() }));
    for (const s of states) {
      if (s.state !== states[0].state) {
        const detail = this.liveMembers()
          .map((m) => {
            const st = (m.runner as RaftRunner).status();
            return `${m.id}: ${st.role} term ${st.term} commit ${st.commit} applied ${st.applied} voters ${st.voters} learners ${st.learners}`;
          })
          .join('; ');
        throw new SimFailure(`convergence: member ${s.id} and member ${states[0].id} ended with different stores (${detail})`);
      }
    }
    if (this.failure) throw this.failure;
  }

  private checkLinearizable(): void {
    const result = checkKvHistory(this.operations, { timeoutMs: 20_000 });
    if (result.timedOut) throw new SimFailure('linearizability check timed out');
    if (!result.ok) throw new SimFailure(`linearizability: history is not linearizable for key ${result.key}: ${result.explanation ?? ''}`);
  }
}

/** A write that certainly changed nothing: refused before it entered the log, or rejected by apply. */
function hadNoEffect(error: unknown): boolean {
  if (error instanceof RaftError) return error.outcome === 'not-applied';
  if (error instanceof ApiError) {
    if (error.code === 'Conflict' || error.code === 'AlreadyExists' || error.code === 'NotFound') return true;
    return error.cause instanceof RaftError && error.cause.outcome === 'not-applied';
  }
  return false;
}

export function describeFailure(result: SimResult): string {
  return [`seed ${result.seed} failed: ${result.failure}`, `replay: npm run sim -- --seed ${result.seed} --trace`].join('\n');
}

export { Role };
