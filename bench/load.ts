import autocannon from 'autocannon';

// Two closed-loop load drivers with the same shape: `connections` callers, each sending its next
// request as soon as the previous one is answered, for `seconds`. Latencies are kept per request
// (autocannon's own histogram rounds to whole milliseconds, too coarse for sub-millisecond SQL).

export interface LatencySummary {
  /** Successful requests (2xx, or queries that did not throw) completed in the measured window. */
  requests: number;
  errors: number;
  seconds: number;
  requestsPerSecond: number;
  meanMs: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  /** A few error messages or status codes, to tell why. */
  errorSamples: string[];
}

export function summarise(latencies: number[], errors: number, seconds: number, errorSamples: string[]): LatencySummary {
  const sorted = Float64Array.from(latencies).sort();
  // Nearest-rank percentile: the smallest value with at least p% of the values at or below it.
  const percentile = (p: number) => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!);
  const mean = sorted.length === 0 ? NaN : sorted.reduce((sum, value) => sum + value, 0) / sorted.length;
  return {
    requests: sorted.length,
    errors,
    seconds: round(seconds, 2),
    requestsPerSecond: round(sorted.length / seconds, 1),
    meanMs: round(mean, 3),
    p50Ms: round(percentile(50), 3),
    p90Ms: round(percentile(90), 3),
    p99Ms: round(percentile(99), 3),
    maxMs: round(sorted.length === 0 ? NaN : sorted[sorted.length - 1]!, 3),
    errorSamples: errorSamples.slice(0, 5),
  };
}

export interface HttpLoad {
  baseUrl: string;
  token: string;
  connections: number;
  seconds: number;
  /** The path (and query) of the next request: a fresh random key every time. */
  nextPath: () => string;
}

/** Drives GET requests at the server with autocannon. */
export function httpLoad(load: HttpLoad): Promise<LatencySummary> {
  return new Promise((resolve, reject) => {
    const latencies: number[] = [];
    const errorSamples = new Set<string>();
    let errors = 0;
    const started = performance.now();
    const instance = autocannon({
      url: load.baseUrl,
      connections: load.connections,
      pipelining: 1,
      duration: load.seconds,
      timeout: 30,
      headers: { authorization: `Bearer ${load.token}`, accept: 'application/json' },
      requests: [{ method: 'GET', setupRequest: (request) => ({ ...request, path: load.nextPath() }) }],
    }, (error: unknown, result) => {
      if (error) {
        reject(error instanceof Error ? error : new Error(String(error)));
        return;
      }
      errors += result.errors + result.timeouts;
      if (result.errors > 0) errorSamples.add(`${result.errors} connection errors`);
      if (result.timeouts > 0) errorSamples.add(`${result.timeouts} timeouts`);
      resolve(summarise(latencies, errors, (performance.now() - started) / 1000, [...errorSamples]));
    });
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      if (statusCode >= 200 && statusCode < 300) latencies.push(responseTime);
      else {
        errors += 1;
        errorSamples.add(`HTTP ${statusCode}`);
      }
    });
  });
}

/** Runs `operation` from `connections` concurrent callers for `seconds`; the caller owns the pool. */
export async function queryLoad(connections: number, seconds: number, operation: () => Promise<unknown>): Promise<LatencySummary> {
  const latencies: number[] = [];
  const errorSamples = new Set<string>();
  let errors = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  const caller = async () => {
    while (performance.now() < deadline) {
      const begun = performance.now();
      try {
        await operation();
        latencies.push(performance.now() - begun);
      } catch (error) {
        errors += 1;
        errorSamples.add((error as Error).message);
      }
    }
  };
  await Promise.all(Array.from({ length: connections }, caller));
  return summarise(latencies, errors, (performance.now() - started) / 1000, [...errorSamples]);
}

const round = (value: number, digits: number) => (Number.isFinite(value) ? Math.round(value * 10 ** digits) / 10 ** digits : NaN);
