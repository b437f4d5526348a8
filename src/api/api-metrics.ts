import { Counter, Histogram, type Registry } from 'prom-client';
import type { FastifyInstance } from 'fastify';

/** The metrics only the API process has, registered next to the shared ones (docs/metrics.md). */
export interface ApiMetrics {
  httpDuration: Histogram<'method' | 'route' | 'status_code'>;
  enqueued: Counter<'result'>;
}

export function createApiMetrics(registry: Registry): ApiMetrics {
  const registers = [registry];
  return {
    httpDuration: new Histogram({
      name: 'dcs_cleanup_api_request_duration_seconds',
      help: 'HTTP API request duration, by method, route pattern and status code.',
      labelNames: ['method', 'route', 'status_code'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
    enqueued: new Counter({
      name: 'dcs_cleanup_api_enqueued_total',
      help: 'Tasks received by POST /v1/deletions, by result (enqueued, duplicate).',
      labelNames: ['result'],
      registers,
    }),
  };
}

/** Observes every answered request; the route pattern (not the raw URL) keeps label values bounded. */
export function observeRequests(app: FastifyInstance, metrics: ApiMetrics): void {
  app.addHook('onResponse', async (request, reply) => {
    metrics.httpDuration.observe(
      {
        method: request.method,
        route: request.routeOptions.url ?? 'unmatched',
        status_code: String(reply.statusCode),
      },
      reply.elapsedTime / 1000,
    );
  });
}
