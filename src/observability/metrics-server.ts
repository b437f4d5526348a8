/**
 * The worker's own HTTP server: `GET /metrics` (Prometheus text) and `GET /healthz` (liveness from
 * in-process state, src/observability/worker-health.ts). Neither waits on Redis: a scrape waits for
 * the queue counts at most `sampleTimeoutMs`, then answers with the last samples.
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import type { HealthReport } from './worker-health.js';

/** A scrape waits at most this long for the queue counts (the API's /metrics waits as long). */
export const SAMPLE_TIMEOUT_MS = 1_000;

export interface MetricsServerOptions {
  /** Samples the queue gauges from Redis before a scrape. */
  beforeScrape?: () => Promise<void>;
  sampleTimeoutMs?: number;
  /** What `/healthz` reports; without it `/healthz` answers 200 while the process runs. */
  health?: () => HealthReport;
}

export interface MetricsServer {
  port: number;
  close(): Promise<void>;
}

/** Listens on `host:port` (port 0: any free port). */
export async function startMetricsServer(
  registry: Registry,
  port: number,
  host = '127.0.0.1',
  options: MetricsServerOptions = {},
): Promise<MetricsServer> {
  const scrape = createScrape(registry, options);
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (req.method === 'GET' && path === '/metrics') return void scrape(res);
    if (req.method === 'GET' && path === '/healthz') return answerHealth(res, options.health);
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
  });
  // A port in use must fail the start with a clear error, not crash the process from an 'error' event.
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) =>
      reject(new Error(`metrics server cannot listen on ${host}:${port}: ${err.message}`)),
    );
    server.listen(port, host, resolve);
  });
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function createScrape(registry: Registry, options: MetricsServerOptions) {
  const timeoutMs = options.sampleTimeoutMs ?? SAMPLE_TIMEOUT_MS;
  // One sample at a time: while Redis is away, scrapes share the pending one instead of piling up.
  let sampling: Promise<void> | undefined;
  const sample = (): Promise<void> =>
    (sampling ??= (options.beforeScrape ?? (() => Promise.resolve()))()
      .catch(() => undefined)
      .finally(() => {
        sampling = undefined;
      }));
  return async (res: ServerResponse): Promise<void> => {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([sample(), new Promise((r) => (timer = setTimeout(r, timeoutMs)))]);
    clearTimeout(timer);
    await registry.metrics().then(
      (body) => res.writeHead(200, { 'content-type': registry.contentType }).end(body),
      () => res.writeHead(500).end(),
    );
  };
}

function answerHealth(res: ServerResponse, health: (() => HealthReport) | undefined): void {
  const report = health?.() ?? { status: 'ok' };
  res
    .writeHead(report.status === 'ok' ? 200 : 503, { 'content-type': 'application/json' })
    .end(JSON.stringify(report));
}
