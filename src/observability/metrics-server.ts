import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';

/** A minimal HTTP server exposing `GET /metrics` (the worker's own port). */
export async function startMetricsServer(
  registry: Registry,
  port: number,
  host = '0.0.0.0',
  beforeScrape?: () => Promise<void>,
): Promise<{ port: number; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    (beforeScrape ?? (() => Promise.resolve()))()
      .catch(() => undefined)
      .then(() => registry.metrics())
      .then(
        (body) => res.writeHead(200, { 'content-type': registry.contentType }).end(body),
        () => res.writeHead(500).end(),
      );
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
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
