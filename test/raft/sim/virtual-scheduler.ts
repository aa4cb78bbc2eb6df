/**
 * Virtual time for the simulator. Events run in (time, insertion) order; between two events every
 * pending promise continuation runs, so async code (the WAL on MemoryFs, the runner's loop) finishes
 * what it can at the same virtual instant, as it would on a fast machine.
 */
import type { Scheduler, TimerHandle } from '../../../agent/raft/scheduler';

interface Event {
  time: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

export class VirtualScheduler implements Scheduler {
  private time = 0;
  private seq = 0;
  private heap: Event[] = [];

  now(): number {
    return this.time;
  }

  after(ms: number, fn: () => void): TimerHandle {
    const event = this.push(this.time + Math.max(0, ms), fn);
    return { cancel: () => (event.cancelled = true) };
  }

  every(ms: number, fn: () => void): TimerHandle {
    let current: Event;
    const handle = { cancelled: false };
    const arm = () => {
      current = this.push(this.time + ms, () => {
        if (handle.cancelled) return;
        arm();
        fn();
      });
    };
    arm();
    return {
      cancel: () => {
        handle.cancelled = true;
        current.cancelled = true;
      },
    };
  }

  defer(fn: () => void): void {
    this.push(this.time, fn);
  }

  /**
   * Runs events until virtual time passes `until`, no event is left, or `stop()` says so; `afterEach`
   * runs after each event.
   */
  async runUntil(until: number, afterEach?: () => void, stop?: () => boolean): Promise<void> {
    this.running = true;
    try {
      await this.runEvents(until, afterEach, stop);
    } finally {
      this.running = false;
    }
  }

  /** True while runUntil is turning the clock; outside it nothing waits on virtual time. */
  running = false;

  private async runEvents(until: number, afterEach?: () => void, stop?: () => boolean): Promise<void> {
    while (this.heap.length > 0 && this.heap[0].time <= until) {
      if (stop?.()) return;
      const event = this.pop();
      if (event.cancelled) continue;
      this.time = event.time;
      event.fn();
      // Before virtual time moves on, let every pending continuation run (a full turn of the event
      // loop); between events of the same instant a microtask turn is enough and far cheaper.
      if (this.heap.length === 0 || this.heap[0].time > this.time) await settle();
      else await Promise.resolve();
      afterEach?.();
    }
    this.time = Math.max(this.time, until);
  }

  private push(time: number, fn: () => void): Event {
    const event: Event = { time, seq: this.seq++, fn, cancelled: false };
    const heap = this.heap;
    heap.push(event);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i], heap[parent])) break;
      [heap[i], heap[parent]] = [heap[parent], heap[i]];
      i = parent;
    }
    return event;
  }

  private pop(): Event {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop() as Event;
    if (heap.length > 0) {
      heap[0] = last;
      let i = 0;
      while (true) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && before(heap[l], heap[m])) m = l;
        if (r < heap.length && before(heap[r], heap[m])) m = r;
        if (m === i) break;
        [heap[i], heap[m]] = [heap[m], heap[i]];
        i = m;
      }
    }
    return top;
  }
}

function before(a: Event, b: Event): boolean {
  return a.time < b.time || (a.time === b.time && a.seq < b.seq);
}

/** Lets every queued promise continuation run (setImmediate fires only once microtasks are drained). */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
