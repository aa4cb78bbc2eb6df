/**
 * Loaded into each manager process by bench:converge (`--import`), before swarmd itself: answers
 * "usage" over the IPC channel with the process's memory and CPU time, so the benchmark can report
 * the leader's heap (after a full GC when the process runs with --expose-gc) and its idle CPU use.
 */
export interface UsageRequest {
  type: 'usage';
  /** Collect garbage first, so heapUsed is what is retained. */
  gc: boolean;
}

export interface UsageReport {
  type: 'usage';
  rssBytes: number;
  heapUsedBytes: number;
  heapTotalBytes: number;
  externalBytes: number;
  /** CPU time since the process started, user + system, in microseconds. */
  cpuMicros: number;
  /** Seconds since the process started: where a moment falls in its CPU profile (--from/--to). */
  uptimeSeconds: number;
}

function isUsageRequest(message: unknown): message is UsageRequest {
  return typeof message === 'object' && message !== null && (message as { type?: unknown }).type === 'usage';
}

if (process.send !== undefined) {
  process.on('message', (message: unknown) => {
    if (!isUsageRequest(message)) return;
    const collect = (globalThis as { gc?: () => void }).gc;
    if (message.gc && collect !== undefined) collect();
    const memory = process.memoryUsage();
    const cpu = process.cpuUsage();
    const report: UsageReport = {
      type: 'usage',
      rssBytes: memory.rss,
      heapUsedBytes: memory.heapUsed,
      heapTotalBytes: memory.heapTotal,
      externalBytes: memory.external,
      cpuMicros: cpu.user + cpu.system,
      uptimeSeconds: process.uptime(),
    };
    process.send?.(report);
  });
  // The IPC channel must not keep a stopping swarmd alive.
  process.channel?.unref();
}
