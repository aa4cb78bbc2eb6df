/**
 * npm run bench:converge — how fast a cluster turns a new replicated service into RUNNING tasks.
 *
 * Three managers (real swarmd processes: raft, mutual TLS, orchestrators, scheduler, dispatcher) on
 * loopback, drained so they run nothing, and simulated workers: real nodes that join with the worker
 * token and keep real dispatcher sessions (heartbeats, assignments, batched status reports) through
 * the real TaskAgent, with an executor that "starts" a task at once (converge-workers.ts). A service
 * is created through the leader's control socket; the clock stops when the leader's store has every
 * task RUNNING (the control API's running-replica count, then checked task by task).
 *
 * Two scenarios: "small" (100 workers, one 1,000-replica service, several runs on one cluster;
 * SwarmKit reports under 2.5 s) and "large" (1,000 workers, 30,000 replicas as 30 services of 1,000
 * created one after another; `--services 1` makes it one 30,000-replica service, which the
 * orchestrators now write 500 tasks a transaction). Each also reports the leader's memory and its CPU
 * use while idle (heartbeats only) after convergence.
 *
 *   options: --scenario small|large|all (default all)  --runs N (small, default 5)
 *            --large-runs N (default 1)  --workers N --tasks N --services N (override the scenario's size)
 *            --all-at-once (create the services concurrently rather than one after another)
 *            --worker-procs N (processes hosting the workers; default 1 per 250 workers)
 *            --idle-seconds N (default 10)  --cpu-prof DIR (V8 CPU profiles of the managers)
 *            --log-level LEVEL (managers' log level, default info)  --log-dir DIR (keep their logs)
 */
import { execFileSync } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { cpus, loadavg, totalmem } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { ControlClient } from '../../agent/api/control-client';
import { ApiError } from '../../agent/api/errors';
import { type ServiceSpec, type Task, TaskState } from '../../agent/api/objects';
import { until } from '../cluster/harness';
import { type ManagerCluster, type ManagerProcess, startManagers } from './converge-cluster';
import type { UsageReport } from './converge-probe';
import { WorkerFleet } from './converge-worker-hosts';

const { values } = parseArgs({
  options: {
    scenario: { type: 'string', default: 'all' },
    runs: { type: 'string', default: '5' },
    'large-runs': { type: 'string', default: '1' },
    workers: { type: 'string' },
    tasks: { type: 'string' },
    services: { type: 'string' },
    'all-at-once': { type: 'boolean', default: false },
    'worker-procs': { type: 'string' },
    'idle-seconds': { type: 'string', default: '10' },
    'cpu-prof': { type: 'string' },
    'log-level': { type: 'string', default: 'info' },
    'log-dir': { type: 'string' },
  },
});

interface Scenario {
  name: string;
  workers: number;
  tasks: number;
  /** The tasks are split evenly over this many services, created at once. */
  services: number;
  runs: number;
}

interface RunResult {
  /** createService call to every task RUNNING in the leader's store. */
  convergeMs: number;
  /** createService's own round trip (the service committed through raft). */
  createMs: number;
  /** Until every simulated container ran on the workers (the rest is reporting back). */
  workersRunningMs: number | undefined;
  /** Leader CPU time during convergence, in ms. */
  leaderCpuMs: number;
  /** Tasks per worker: fewest and most. */
  spread: [number, number];
  load: number;
  /** The leader's uptime at the start and end, to find the run in its CPU profile. */
  leaderWindow: [number, number];
}

const MANAGERS = 3;
const JOIN_CONCURRENCY = 8;
const CONVERGE_TIMEOUT_MS = 15 * 60_000;

/** Control calls that failed because no leader was elected at that moment (an election in progress). */
let callsDuringElections = 0;

/**
 * Runs a control call, retrying while no leader is elected: the bench reports an election (it counts
 * them, and notes a leader change), it does not die of one. Other errors still end the run.
 */
async function throughElections<T>(call: () => Promise<T>, deadline = performance.now() + 120_000): Promise<T> {
  for (;;) {
    try {
      return await call();
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 'Unavailable') || performance.now() > deadline) throw err;
      callsDuringElections++;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

/**
 * Creates a service through elections: a create whose answer was lost may have been committed, so a
 * retry that finds the name taken looks the service up instead.
 */
async function createThroughElections(client: ControlClient, spec: ServiceSpec): Promise<{ service: { id: string } }> {
  let attempted = false;
  return throughElections(async () => {
    try {
      const created = await client.createService({ spec });
      return created;
    } catch (err) {
      if (attempted && err instanceof ApiError && err.code === 'AlreadyExists') {
        const { services } = await client.listServices({});
        const found = services.find((s) => s.spec.name === spec.name);
        if (found !== undefined) return { service: found };
      }
      throw err;
    } finally {
      attempted = true;
    }
  });
}

function ms(value: number): string {
  return value >= 10_000 ? `${(value / 1000).toFixed(1)} s` : value >= 1000 ? `${(value / 1000).toFixed(2)} s` : `${value.toFixed(0)} ms`;
}

function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(0)} MiB`;
}

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? NaN) : ((sorted[mid - 1] ?? NaN) + (sorted[mid] ?? NaN)) / 2;
}

function load1(): number {
  return loadavg()[0] ?? 0;
}

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

function benchSpec(name: string, replicas: number): ServiceSpec {
  return {
    name,
    labels: {},
    mode: { replicated: { replicas } },
    task: { container: { image: 'swarmdesk-bench:1', command: ['/bin/true'] } },
  };
}

/** Tasks per node among `nodeIds`: fewest and most. */
function spreadOf(tasks: readonly Task[], nodeIds: readonly string[]): [number, number] {
  const perNode = new Map<string, number>(nodeIds.map((id) => [id, 0]));
  for (const t of tasks) if (t.nodeId !== undefined) perNode.set(t.nodeId, (perNode.get(t.nodeId) ?? 0) + 1);
  const counts = [...perNode.values()];
  return [Math.min(...counts), Math.max(...counts)];
}

async function converge(client: ControlClient, leader: ManagerProcess, fleet: WorkerFleet, nodeIds: string[], name: string, tasks: number, services: number): Promise<{ result: RunResult; serviceIds: string[] }> {
  // Each poll counts every service's replicas on the leader (a walk over all its tasks): at 30,000
  // tasks polling every 100 ms was a sixth of the leader's CPU in the large profile, so poll each
  // second there (a 1 s resolution on a run of minutes).
  const pollMs = tasks > 5000 ? 1000 : 20;
  const cpuBefore = await leader.usage(false);
  const loadBefore = load1();
  const started = performance.now();
  const replicas = Array.from({ length: services }, (_, i) => Math.floor(tasks / services) + (i < tasks % services ? 1 : 0));
  const create = (n: number, i: number) => createThroughElections(client, benchSpec(services === 1 ? name : `${name}-${i + 1}`, n));
  // Created one after another unless --all-at-once (before the orchestrators wrote in bounded pieces,
  // 30 services at once were one synchronous pass of 30,000 tasks and leadership flapped; BENCHMARKS.md).
  const created: Awaited<ReturnType<typeof create>>[] = [];
  if (values['all-at-once'] === true) created.push(...(await Promise.all(replicas.map(create))));
  else for (const [i, n] of replicas.entries()) created.push(await create(n, i));
  const serviceIds = created.map((c) => c.service.id);
  const ours = new Set(serviceIds);
  const createMs = performance.now() - started;
  let workersRunningMs: number | undefined;
  const deadline = started + CONVERGE_TIMEOUT_MS;
  let convergeMs: number | undefined;
  while (convergeMs === undefined) {
    // One call for one service; listServices counts every service's replicas in one call otherwise.
    const counting = throughElections(() =>
      services === 1 ? client.getService({ serviceId: serviceIds[0] ?? '' }).then((r) => [r.service]) : client.listServices({}).then((r) => r.services),
    );
    const [views, stats] = await Promise.all([counting, workersRunningMs === undefined ? fleet.stats() : undefined]);
    const running = views.filter((v) => ours.has(v.id)).reduce((n, v) => n + v.replicas.running, 0);
    const now = performance.now() - started;
    if (stats !== undefined && stats.running >= tasks) workersRunningMs = now;
    if (running >= tasks) convergeMs = now;
    else if (performance.now() > deadline) throw new Error(`${name}: ${running} of ${tasks} running after ${ms(CONVERGE_TIMEOUT_MS)}`);
    else await new Promise((r) => setTimeout(r, pollMs));
  }
  const cpuAfter = await leader.usage(false);
  // The running count is the control API's; check the store's tasks one by one as well.
  // One service's tasks at a time: 30 listTasks answers at once (30,000 tasks of JSON to encode, and
  // to decode and re-encode on a forwarding follower) held the leader's loop for over a second and
  // moved leadership in the large case.
  const listed: Task[] = [];
  for (const serviceId of serviceIds) listed.push(...(await throughElections(() => client.listTasks({ serviceId }))).tasks);
  const running = listed.filter((t) => t.status.state === TaskState.RUNNING && t.desiredState === TaskState.RUNNING);
  if (running.length !== tasks || listed.length !== tasks) throw new Error(`${name}: ${running.length} running of ${listed.length} tasks, expected ${tasks}`);
  return {
    serviceIds,
    result: {
      convergeMs,
      createMs,
      workersRunningMs,
      leaderCpuMs: (cpuAfter.cpuMicros - cpuBefore.cpuMicros) / 1000,
      spread: spreadOf(running, nodeIds),
      load: (loadBefore + load1()) / 2,
      leaderWindow: [cpuBefore.uptimeSeconds, cpuAfter.uptimeSeconds],
    },
  };
}

async function removeAndSettle(client: ControlClient, fleet: WorkerFleet, serviceIds: readonly string[]): Promise<void> {
  // NotFound: a retried removal whose first answer was lost.
  const gone = (err: unknown) => {
    if (err instanceof ApiError && err.code === 'NotFound') return undefined;
    throw err;
  };
  for (const serviceId of serviceIds) await throughElections(() => client.removeService({ serviceId }).catch(gone));
  // The workers' count first (cheap, local to the fleet), then the leader's, one service at a time.
  await until('the services\' tasks to be gone', async () => {
    if ((await fleet.stats()).running > 0) return undefined;
    for (const serviceId of serviceIds) {
      if ((await throughElections(() => client.listTasks({ serviceId }))).tasks.length > 0) return undefined;
    }
    return true;
  }, CONVERGE_TIMEOUT_MS, serviceIds.length > 1 ? 2000 : 500);
}

interface IdleResult {
  seconds: number;
  /** Leader CPU over the idle window, as a share of one core. */
  leaderCpuShare: number;
  leaderBefore: UsageReport;
  leaderAfterGc: UsageReport;
  followersRss: number[];
  load: number;
  window: [number, number];
}

async function measureIdle(cluster: ManagerCluster, leader: ManagerProcess, seconds: number): Promise<IdleResult> {
  // Let the last status batches and watch events drain before counting.
  await new Promise((r) => setTimeout(r, 3000));
  const before = await leader.usage(false);
  const wallStart = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const after = await leader.usage(false);
  const wall = performance.now() - wallStart;
  const afterGc = await leader.usage(true);
  const followers = cluster.managers.filter((m) => m !== leader);
  const followersRss = await Promise.all(followers.map(async (m) => (await m.usage(false)).rssBytes));
  return { seconds, leaderCpuShare: (after.cpuMicros - before.cpuMicros) / 1000 / wall, leaderBefore: after, leaderAfterGc: afterGc, followersRss, load: load1(), window: [before.uptimeSeconds, after.uptimeSeconds] };
}

async function runScenario(scenario: Scenario): Promise<void> {
  log(`\n== ${scenario.name}: ${MANAGERS} managers, ${scenario.workers} simulated workers, ${scenario.tasks} replicas in ${scenario.services} service(s), ${scenario.runs} run(s)`);
  const cpuProfDir = values['cpu-prof'] === undefined ? undefined : resolve(values['cpu-prof'], scenario.name);
  if (cpuProfDir !== undefined) await mkdir(cpuProfDir, { recursive: true });
  const setupStarted = performance.now();
  const logDir = values['log-dir'] === undefined ? undefined : resolve(values['log-dir'], scenario.name);
  if (logDir !== undefined) await mkdir(logDir, { recursive: true });
  const cluster = await startManagers(MANAGERS, { cpuProfDir, logDir, logLevel: values['log-level'] ?? 'info' });
  let fleet: WorkerFleet | undefined;
  try {
    const leader = await cluster.leader();
    const client = cluster.client(leader);
    log(`managers up in ${ms(performance.now() - setupStarted)}; leader ${leader.name} (pid ${leader.pid})`);
    const managers = [leader, ...cluster.managers.filter((m) => m !== leader)].map((m) => m.address);
    const processes = values['worker-procs'] !== undefined ? Number(values['worker-procs']) : Math.ceil(scenario.workers / 250);
    let lastProgress = 0;
    const started = await WorkerFleet.start({
      count: scenario.workers,
      processes,
      joinAddr: leader.address,
      workerToken: cluster.workerToken,
      managers,
      joinConcurrency: JOIN_CONCURRENCY,
      onProgress: (joined) => {
        if (joined - lastProgress >= 200) {
          lastProgress = joined;
          log(`  ${joined} workers joined`);
        }
      },
    });
    fleet = started.fleet;
    const { nodeIds } = started.ready;
    await until(`${scenario.workers} READY workers`, async () => {
      const { nodes } = await client.listNodes({});
      return nodes.filter((n) => n.role === 'worker' && n.status.state === 'ready').length === scenario.workers ? true : undefined;
    }, 120_000, 250);
    log(`${scenario.workers} workers in ${processes} process(es): joined in ${ms(started.ready.joinMs)}, sessions in ${ms(started.ready.sessionMs)}`);
    const baseline = await leader.usage(true);
    log(`leader before the service: RSS ${mib(baseline.rssBytes)}, heap ${mib(baseline.heapUsedBytes)} (after GC)`);

    const results: RunResult[] = [];
    let idle: IdleResult | undefined;
    for (let run = 1; run <= scenario.runs; run++) {
      const { result, serviceIds } = await converge(client, leader, fleet, nodeIds, `bench-${run}`, scenario.tasks, scenario.services);
      results.push(result);
      const leaderNow = await cluster.leader().catch(() => undefined);
      if (leaderNow !== leader) log(`note: leadership moved from ${leader.name} to ${leaderNow?.name ?? 'nobody'} during run ${run}`);
      log(`run ${run}: converged in ${ms(result.convergeMs)} (create ${ms(result.createMs)}, all started on workers ${result.workersRunningMs === undefined ? '?' : ms(result.workersRunningMs)}), leader CPU ${ms(result.leaderCpuMs)}, tasks per worker ${result.spread[0]}..${result.spread[1]}, load ${result.load.toFixed(1)}${cpuProfDir === undefined ? '' : `, leader profile --from ${result.leaderWindow[0].toFixed(1)} --to ${result.leaderWindow[1].toFixed(1)}`}`);
      if (run === scenario.runs) {
        idle = await measureIdle(cluster, leader, Number(values['idle-seconds']));
        log(`idle ${idle.seconds} s after convergence (heartbeats only): leader CPU ${(idle.leaderCpuShare * 100).toFixed(1)} % of a core${cpuProfDir === undefined ? '' : ` (profile --from ${idle.window[0].toFixed(1)} --to ${idle.window[1].toFixed(1)})`}`);
        log(`leader memory with ${scenario.tasks} tasks: RSS ${mib(idle.leaderBefore.rssBytes)}, heap ${mib(idle.leaderBefore.heapUsedBytes)} (${mib(idle.leaderAfterGc.heapUsedBytes)} after GC, RSS then ${mib(idle.leaderAfterGc.rssBytes)}); followers RSS ${idle.followersRss.map(mib).join(', ')}; load ${idle.load.toFixed(1)}`);
      }
      await removeAndSettle(client, fleet, serviceIds);
    }
    const stats = await fleet.stats();
    if (callsDuringElections > 0) log(`note: ${callsDuringElections} control call(s) found no leader elected and were retried`);
    if (stats.establishedTotal > scenario.workers) log(`note: ${stats.establishedTotal - scenario.workers} session(s) were re-established during the runs`);
    const converged = results.map((r) => r.convergeMs);
    log(`${scenario.name} median: ${ms(median(converged))} to converge (runs: ${converged.map(ms).join(', ')}); leader CPU median ${ms(median(results.map((r) => r.leaderCpuMs)))}; load average ${median(results.map((r) => r.load)).toFixed(1)}`);
  } finally {
    await fleet?.stop();
    await cluster.stop();
    if (cpuProfDir !== undefined) log(`CPU profiles in ${cpuProfDir}`);
  }
}

function describeMachine(): string {
  const model = cpus()[0]?.model ?? 'unknown CPU';
  let commit = 'unknown commit';
  try {
    commit = execFileSync('git', ['log', '-1', '--format=%h %s'], { encoding: 'utf8' }).trim();
  } catch {
    // Not a git checkout: leave it unknown.
  }
  return `${cpus().length} × ${model}, ${mib(totalmem())}, Node.js ${process.version}, at ${commit}, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`;
}

async function main(): Promise<void> {
  log(`bench:converge on ${describeMachine()}`);
  const chosen = values.scenario ?? 'all';
  const scenarios: Scenario[] = [];
  if (chosen === 'small' || chosen === 'all') scenarios.push({ name: 'small', workers: 100, tasks: 1000, services: 1, runs: Number(values.runs) });
  if (chosen === 'large' || chosen === 'all') scenarios.push({ name: 'large', workers: 1000, tasks: 30_000, services: 30, runs: Number(values['large-runs']) });
  if (scenarios.length === 0) throw new Error(`--scenario must be small, large or all, not ${chosen}`);
  for (const scenario of scenarios) {
    if (values.workers !== undefined) scenario.workers = Number(values.workers);
    if (values.tasks !== undefined) scenario.tasks = Number(values.tasks);
    if (values.services !== undefined) scenario.services = Number(values.services);
    await runScenario(scenario);
  }
}

try {
  await main();
} catch (err) {
  process.stderr.write(`bench:converge failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
}
// gRPC channels keep the event loop alive after the clients close.
process.exit();
