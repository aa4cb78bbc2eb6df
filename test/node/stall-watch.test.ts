import { describe, expect, it } from 'vitest';
import { watchEventLoopStalls } from '../../agent/node/stall-watch';
import type { LogFields } from '../../agent/runtime';

function recordingLogger() {
  const warnings: { message: string; fields?: LogFields }[] = [];
  return { warnings, logger: { debug: () => {}, info: () => {}, warn: (message: string, fields?: LogFields) => warnings.push({ message, fields }) } };
}

function blockFor(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // holding the event loop, as a long synchronous transaction would
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('the event-loop stall watch', () => {
  it('warns with the length of a stall longer than the threshold', async () => {
    const { warnings, logger } = recordingLogger();
    const stop = watchEventLoopStalls({ logger, thresholdMs: 150, everyMs: 20 });
    try {
      await sleep(60);
      blockFor(400);
      await sleep(60);
    } finally {
      stop();
    }
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.message).toBe('event loop blocked');
    expect(Number(warnings[0]?.fields?.ms)).toBeGreaterThanOrEqual(300);
  });

  it('says nothing about short pauses, nor after it is stopped', async () => {
    const { warnings, logger } = recordingLogger();
    // A threshold far above what a loaded machine delays a timer by, so only a real stall would count.
    const stop = watchEventLoopStalls({ logger, thresholdMs: 1000, everyMs: 20 });
    blockFor(50);
    await sleep(60);
    stop();
    blockFor(1300);
    await sleep(60);
    expect(warnings).toEqual([]);
  });
});
