/**
 * npm run bench:wake — what a hand-off between two threads costs on this machine, the quantity behind
 * bench:raft's sequential latency (every write crosses client → leader → follower → its WAL thread →
 * follower → leader → client, and each arrow wakes a sleeping thread).
 *   1. futex ping-pong between the main thread and a worker (Atomics.notify / Atomics.wait): back to
 *      back, and after the worker has slept for 1 ms (its CPU has gone idle by then).
 *   2. one 300-byte O_DSYNC write, as the WAL does it (fs/promises: libuv's thread pool and back) and
 *      synchronously on the calling thread (what Go's runtime does for etcd's WAL), back to back and
 *      after 1 ms of other work: the difference is the thread pool's round trip.
 * Prints medians and 90th percentiles; no threshold, this measures the machine, not our code.
 */
import { closeSync, constants, openSync, writeSync } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';

const ROUNDS = 2000;

/** The worker: answers every ping, sleeping in between (plain JavaScript, so no loader is needed). */
const ANSWERER = `
const { parentPort, workerData } = require('node:worker_threads');
const flags = new Int32Array(workerData);
parentPort.postMessage('ready');
for (;;) {
  Atomics.wait(flags, 0, 0);
  Atomics.store(flags, 0, 0);
  Atomics.store(flags, 1, 1);
  Atomics.notify(flags, 1);
}`;

function summary(samples: number[]): string {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p: number) => (sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] * 1000).toFixed(0);
  return `p50 ${at(0.5)} µs, p90 ${at(0.9)} µs`;
}

function spin(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

/** Round trips main → worker → main; `pauseMs` of the main thread's own work before each one. */
function pingPong(flags: Int32Array, pauseMs: number): number[] {
  const samples: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    if (pauseMs > 0) spin(pauseMs);
    const started = performance.now();
    Atomics.store(flags, 0, 1);
    Atomics.notify(flags, 0);
    if (Atomics.wait(flags, 1, 0, 5000) === 'timed-out') throw new Error('the worker did not answer within 5 s');
    Atomics.store(flags, 1, 0);
    samples.push(performance.now() - started);
  }
  return samples;
}

async function writes(dir: string, pauseMs: number): Promise<{ pooled: number[]; direct: number[] }> {
  const path = join(dir, 'wal');
  const record = Buffer.alloc(300, 1);
  const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_DSYNC;
  const pooled: number[] = [];
  const direct: number[] = [];
  const handle = await open(path, flags);
  const fd = openSync(path, flags);
  try {
    // Alternate the two, so both see the same disk and the same neighbours.
    for (let i = 0; i < ROUNDS; i++) {
      const position = (i % 256) * 4096;
      if (pauseMs > 0) spin(pauseMs);
      let started = performance.now();
      await handle.write(record, 0, record.length, position);
      pooled.push(performance.now() - started);
      if (pauseMs > 0) spin(pauseMs);
      started = performance.now();
      writeSync(fd, record, 0, record.length, position);
      direct.push(performance.now() - started);
    }
  } finally {
    closeSync(fd);
    await handle.close();
  }
  return { pooled, direct };
}

async function main(): Promise<void> {
  const flags = new Int32Array(new SharedArrayBuffer(8));
  const worker = new Worker(ANSWERER, { eval: true, workerData: flags.buffer });
  await new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  console.log(`futex ping-pong (two wake-ups), back to back:        ${summary(pingPong(flags, 0))}`);
  console.log(`futex ping-pong (two wake-ups), after 1 ms of work: ${summary(pingPong(flags, 1))}`);
  await worker.terminate();
  const dir = await mkdtemp(join(tmpdir(), 'swarmdesk-wake-bench-'));
  try {
    for (const pauseMs of [0, 1]) {
      const { pooled, direct } = await writes(dir, pauseMs);
      const when = pauseMs === 0 ? 'back to back' : 'after 1 ms of work';
      console.log(`300-byte O_DSYNC write through the thread pool, ${when}: ${summary(pooled)}`);
      console.log(`300-byte O_DSYNC write on the calling thread, ${when}:   ${summary(direct)}`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
