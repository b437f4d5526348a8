/**
 * `GET /healthz`: the process answers. `GET /readyz`: Redis answers within a second and the circuit
 * breaker has not paused the queue. Both unauthenticated, for load balancers and orchestrators.
 * With several accounts (one queue and breaker each) the API is ready while one account's queue
 * runs, and the answer names each account's state: one bad key must not take the API away.
 */
import type { FastifyInstance } from 'fastify';
import type { RedisClient } from '../queue/redis-connection.js';
import { z } from 'zod';
import { readCircuitState } from '../queue/circuit-breaker.js';
import { ApiError } from './api-error.js';
import { withRedis } from './redis-guard.js';
import { addRoute, type RouteContract } from './route-contract.js';

/** An account and its queue (`dcs-cleanup` for the default account). */
export interface AccountQueue {
  name: string;
  queueName: string;
}

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
    responses: {
      200: {
        description: 'Ready.',
        schema: z.object({
          status: z.literal('ready'),
          accounts: z
            .record(z.string(), z.enum(['running', 'paused']))
            .optional()
            .meta({
              description:
                "Several accounts: each account's queue state (a paused one names its breaker's why in `dcs-cleanup status`).",
            }),
        }),
      },
    },
  },
} as const satisfies Record<string, RouteContract>;

export function registerHealthRoutes(
  app: FastifyInstance,
  deps: { connection: RedisClient; prefix: string; accounts?: readonly AccountQueue[] | undefined },
): void {
  addRoute(app, healthContracts.live, () => Promise.resolve({ status: 'ok' as const }));

  const accounts = deps.accounts ?? [{ name: 'default', queueName: 'dcs-cleanup' }];
  addRoute(app, healthContracts.ready, async () => {
    const circuits = await withRedis(
      deps.connection,
      () => Promise.all(accounts.map((a) => readCircuitState(deps.connection, deps.prefix, a.queueName))),
      READY_TIMEOUT_MS,
    );
    if (circuits.every((c) => c.open)) {
      const why = circuits.map(
        (c, i) => (accounts.length > 1 ? `${accounts[i]!.name}: ` : '') + (c.action ?? 'manual'),
      );
      throw new ApiError(
        'QUEUE_PAUSED',
        `the circuit breaker paused the queue (${why.join(', ')}); see \`dcs-cleanup status\``,
      );
    }
    if (accounts.length === 1) return { status: 'ready' as const };
    const states = accounts.map((a, i) => [a.name, circuits[i]!.open ? 'paused' : 'running'] as const);
    return { status: 'ready' as const, accounts: Object.fromEntries(states) };
  });
}
