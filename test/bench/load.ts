/** A closed-loop load generator: `clients` callers, each issuing its next write when the last returns. */
export interface LoadResult {
  clients: number;
  operations: number;
  errors: number;
  seconds: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
}

export async function runLoad(options: {
  clients: number;
  operations: number;
  operation: (client: number, sequence: number) => Promise<void>;
}): Promise<LoadResult> {
  const latencies: number[] = [];
  let issued = 0;
  let errors = 0;
  const started = performance.now();
  async function client(id: number): Promise<void> {
    while (issued < options.operations) {
      const sequence = issued++;
      const begin = performance.now();
      try {
        await options.operation(id, sequence);
        latencies.push(performance.now() - begin);
      } catch {
        errors++;
      }
    }
  }
  await Promise.all(Array.from({ length: options.clients }, (_, id) => client(id)));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const percentile = (p: number) => (latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] : NaN);
  return {
    clients: options.clients,
    operations: latencies.length,
    errors,
    seconds,
    perSecond: latencies.length / seconds,
    p50Ms: percentile(0.5),
    p99Ms: percentile(0.99),
  };
}
