/**
 * `GET /metrics`: Prometheus text, unauthenticated like the worker's. The queue gauges are sampled
 * from Redis at scrape time; when Redis is away the scrape still answers, with the last samples.
 */
import type { FastifyInstance } from 'fastify';
import type { RedisClient } from '../queue/redis-connection.js';
import type { Queue } from 'bullmq';
import { z } from 'zod';
import type { DeadLetters } from '../queue/dead-letters.js';
import { getQueueStatus } from '../queue/status.js';
import { recordQueueStatus, type Metrics } from '../observability/metrics.js';
import { withRedis } from './redis-guard.js';
import { addRoute, type RouteContract } from './route-contract.js';

/** A scrape waits at most this long for the queue counts. */
const SAMPLE_TIMEOUT_MS = 1_000;

export const metricsContracts = {
  scrape: {
    method: 'GET',
    url: '/metrics',
    operationId: 'getMetrics',
    summary: 'Prometheus metrics (docs/metrics.md)',
    tag: 'metrics',
    auth: false,
    responses: {
      200: {
        description: 'Prometheus text exposition format.',
        contentType: 'text/plain',
        schema: z.string(),
      },
    },
  },
} as const satisfies Record<string, RouteContract>;

export interface MetricsRouteDeps {
  metrics: Metrics;
  connection: RedisClient;
  prefix: string;
  queue: Queue;
  deadLetters: DeadLetters;
}

export function registerMetricsRoutes(app: FastifyInstance, deps: MetricsRouteDeps): void {
  const { metrics, connection } = deps;
  addRoute(app, metricsContracts.scrape, async (_request, reply) => {
    try {
      const status = await withRedis(
        connection,
        () => getQueueStatus(deps.queue, deps.deadLetters, connection, deps.prefix),
        SAMPLE_TIMEOUT_MS,
      );
      recordQueueStatus(metrics, status);
    } catch {
      // Redis away: process and request metrics are still worth scraping.
    }
    return reply
      .status(200)
      .header('content-type', metrics.registry.contentType)
      .send(await metrics.registry.metrics());
  });
}
