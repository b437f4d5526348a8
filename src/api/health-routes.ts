/**
 * `GET /healthz`: the process answers. `GET /readyz`: Redis answers within a second and the circuit
 * breaker has not paused the queue. Both unauthenticated, for load balancers and orchestrators.
 */
import type { FastifyInstance } from 'fastify';
import type { RedisClient } from '../queue/redis-connection.js';
import { z } from 'zod';
import { readCircuitState } from '../queue/circuit-breaker.js';
import { ApiError } from './api-error.js';
import { withRedis } from './redis-guard.js';
import { addRoute, type RouteContract } from './route-contract.js';

/** How long /readyz waits for Redis: a probe must answer well within its own timeout. */
export const READY_TIMEOUT_MS = 1_000;

export const healthContracts = {
  live: {
    method: 'GET',
    url: '/healthz',
    operationId: 'getHealth',
    summary: 'Liveness: the process answers',
    tag: 'health',
    auth: false,
    responses: { 200: { description: 'Alive.', schema: z.object({ status: z.literal('ok') }) } },
  },
  ready: {
    method: 'GET',
    url: '/readyz',
    operationId: 'getReadiness',
    summary: 'Readiness: Redis answers and the queue is not paused by the circuit breaker',
    description: '503 REDIS_UNAVAILABLE or QUEUE_PAUSED otherwise (see `dcs-cleanup status`).',
    tag: 'health',
    auth: false,
    responses: { 200: { description: 'Ready.', schema: z.object({ status: z.literal('ready') }) } },
  },
} as const satisfies Record<string, RouteContract>;

export function registerHealthRoutes(
  app: FastifyInstance,
  deps: { connection: RedisClient; prefix: string },
): void {
  addRoute(app, healthContracts.live, () => Promise.resolve({ status: 'ok' as const }));

  addRoute(app, healthContracts.ready, async () => {
    const circuit = await withRedis(
      deps.connection,
      () => readCircuitState(deps.connection, deps.prefix),
      READY_TIMEOUT_MS,
    );
    if (circuit.open) {
      throw new ApiError(
        'QUEUE_PAUSED',
        `the circuit breaker paused the queue (${circuit.action ?? 'manual'}); see \`dcs-cleanup status\``,
      );
    }
    return { status: 'ready' as const };
  });
}
