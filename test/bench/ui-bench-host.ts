/**
 * bench:ui's "main process": browser mode's server (startWebServer: the desktop app's main-process
 * services, the in-process manager, the renderer's WebSocket) alone in a process forked with an IPC
 * channel, so the event-loop delay measured here is the services' own, not the benchmark's (Playwright's
 * driver and the simulated workers live in other processes).
 *
 * Commands (UiHostCommand) -> reports (UiHostReport): start -> ready (the URL to open); cluster ->
 * cluster (join address and worker token); converge -> converged (creates or scales the service and
 * waits until every task of it is RUNNING, with the event-loop delay over that time); stop -> stopped.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import type { ServiceSpec } from '../../agent/api/objects';
import { startWebServer, type WebServer } from '../../electron/web/server';

export interface LoopDelay {
  /** Milliseconds. */
  p50: number;
  p99: number;
  max: number;
  mean: number;
  samples: number;
  /**
   * Each time the loop was held over BLOCK_MS: when it ended (process.hrtime in µs, the clock of a
   * --cpu-prof profile's timestamps, so a block can be matched with the samples inside it) and for how long.
   */
  blocks: { endUs: number; ms: number }[];
  /** Garbage-collection pauses (PerformanceObserver 'gc'): how many, their total and the longest, in ms. */
  gc: { count: number; totalMs: number; maxMs: number };
}

/** A loop held this long counts as a block. */
const BLOCK_MS = 50;

export type UiHostCommand =
  | { type: 'start'; rendererDir: string }
  | { type: 'cluster' }
  /** Create the service with `replicas` (or scale it to them) and wait for all of them RUNNING. */
  | { type: 'converge'; replicas: number }
  | { type: 'stop' };

export type UiHostReport =
  | { type: 'ready'; url: string }
  | { type: 'cluster'; joinAddr: string; workerToken: string }
  | { type: 'converged'; ms: number; running: number; loop: LoopDelay; rssMb: number }
  | { type: 'stopped' }
  | { type: 'error'; message: string };

export const BENCH_SERVICE = 'bench';

let web: WebServer | undefined;
let home = '';
let serviceId: string | undefined;

function send(report: UiHostReport): void {
  process.send?.(report);
}

function server(): WebServer {
  if (web === undefined) throw new Error('not started');
  return web;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

async function start(rendererDir: string): Promise<void> {
  home = await mkdtemp(join(tmpdir(), 'swarmdesk-ui-bench-'));
  web = await startWebServer({ home, port: 0, rendererDir, services: { hostname: 'bench-desk', logLevel: 'warn' } });
  send({ type: 'ready', url: web.url });
}

async function cluster(): Promise<void> {
  const host = server().services.host;
  const port = await freePort();
  await host.createCluster({ advertiseAddress: '127.0.0.1', port, runTasks: false });
  const control = host.control();
  const clusterId = host.snapshot().clusterId ?? '';
  const { cluster: found } = await control.getCluster({ clusterId });
  send({ type: 'cluster', joinAddr: `127.0.0.1:${port}`, workerToken: found.rootCa.joinTokens.worker });
}

function spec(replicas: number): ServiceSpec {
  return { name: BENCH_SERVICE, labels: {}, mode: { replicated: { replicas } }, task: { container: { image: 'swarmdesk-bench:1', command: ['sleep', 'infinity'] } } };
}

/** Records loop blocks (a 5 ms timer that fires over BLOCK_MS late) and GC pauses until stopped. */
function watchLoop(): () => Pick<LoopDelay, 'blocks' | 'gc'> {
  const blocks: LoopDelay['blocks'] = [];
  const gc = { count: 0, totalMs: 0, maxMs: 0 };
  const nowUs = () => Number(process.hrtime.bigint() / 1000n);
  let due = nowUs() + 5000;
  const timer = setInterval(() => {
    const now = nowUs();
    const lateMs = (now - due) / 1000;
    if (lateMs > BLOCK_MS) blocks.push({ endUs: now, ms: Math.round(lateMs) });
    due = now + 5000;
  }, 5);
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      gc.count++;
      gc.totalMs += entry.duration;
      gc.maxMs = Math.max(gc.maxMs, entry.duration);
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  return () => {
    clearInterval(timer);
    observer.disconnect();
    return { blocks, gc: { count: gc.count, totalMs: Math.round(gc.totalMs), maxMs: Math.round(gc.maxMs) } };
  };
}

async function converge(replicas: number): Promise<void> {
  const control = server().services.host.control();
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  const stopWatching = watchLoop();
  const started = performance.now();
  if (serviceId === undefined) {
    serviceId = (await control.createService({ spec: spec(replicas) })).service.id;
  } else {
    const { service } = await control.getService({ serviceId });
    await control.updateService({ serviceId, version: service.meta.version, spec: spec(replicas) });
  }
  let running = 0;
  for (;;) {
    running = (await control.getService({ serviceId })).service.replicas.running;
    if (running >= replicas) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const ms = performance.now() - started;
  histogram.disable();
  const watched = stopWatching();
  const toMs = (ns: number) => Math.round(ns / 1e4) / 100;
  send({
    type: 'converged',
    ms,
    running,
    loop: { p50: toMs(histogram.percentile(50)), p99: toMs(histogram.percentile(99)), max: toMs(histogram.max), mean: toMs(histogram.mean), samples: histogram.count, ...watched },
    rssMb: Math.round(process.memoryUsage().rss / 2 ** 20),
  });
}

async function stop(): Promise<void> {
  await web?.close();
  if (home !== '') await rm(home, { recursive: true, force: true });
  send({ type: 'stopped' });
  process.disconnect?.();
  setTimeout(() => process.exit(0), 100).unref();
}

process.on('message', (message: UiHostCommand) => {
  const fail = (err: unknown) => send({ type: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  switch (message.type) {
    case 'start':
      void start(message.rendererDir).catch(fail);
      break;
    case 'cluster':
      void cluster().catch(fail);
      break;
    case 'converge':
      void converge(message.replicas).catch(fail);
      break;
    case 'stop':
      void stop().catch(fail);
      break;
  }
});
process.on('disconnect', () => setTimeout(() => process.exit(0), 1000).unref());
