import type { FastifyInstance } from 'fastify';
import { createApi, type ApiDeps } from '../../src/api/create-api.js';
import type { App } from '../../src/app.js';
import { createMetrics } from '../../src/observability/metrics.js';

type Extra = Pick<ApiDeps, 'logger' | 'auth'> & Partial<ApiDeps>;

/**
 * The API over `app`'s connection, producer and dead letters, with a metrics registry of its own (no
 * process metrics); `extra` adds to or overrides those.
 */
export function createAppApi(app: App, extra: Extra): FastifyInstance {
  return createApi({
    connection: app.connection,
    prefix: app.prefix,
    producer: app.producer(),
    deadLetters: app.deadLetters(),
    metrics: createMetrics({ processMetrics: false }),
    ...extra,
  });
}
