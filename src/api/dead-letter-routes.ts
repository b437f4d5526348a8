/** `GET /v1/dead-letters`, `GET /v1/dead-letters/{id}`, `POST /v1/dead-letters/{id}/replay`. */
import type { FastifyInstance } from 'fastify';
import type { RedisClient } from '../queue/redis-connection.js';
import { z } from 'zod';
import { DEAD_LETTER_REASONS, type DeadLetterEntry, type DeadLetters } from '../queue/dead-letters.js';
import type { Producer } from '../queue/producer.js';
import { DEAD_LETTER_ID_PATTERN } from '../queue/job-contract.js';
import { ApiError } from './api-error.js';
import { withRedis } from './redis-guard.js';
import { addRoute, type RouteContract } from './route-contract.js';

export const DEFAULT_DEAD_LETTER_PAGE = 100;
export const MAX_DEAD_LETTER_PAGE = 1_000;

// Only dead letter ids: any other name could be one of BullMQ's own keys (`meta`, `events`, `id`).
const deadLetterIdSchema = z
  .string()
  .regex(DEAD_LETTER_ID_PATTERN, 'must be a dead letter id such as dl-...');

const attemptSchema = z.object({
  at: z.string(),
  action: z.string(),
  http_status: z.number().int().nullable(),
  error_code: z.string().nullable(),
  request_id: z.string().nullable(),
  duration_ms: z.number(),
  network_error: z.string().optional(),
});

const deadLetterSchema = z.object({
  id: z.string(),
  job_id: z.string(),
  job_data: z.unknown().meta({ description: 'The original job payload.' }),
  reason: z.enum(DEAD_LETTER_REASONS),
  http_status: z.number().int().nullable(),
  error_code: z.string().nullable(),
  error_msg: z.string().nullable(),
  request_id: z
    .string()
    .nullable()
    .meta({ description: 'X-Request-Id of the last DCS answer: what Huawei support asks for.' }),
  attempts: z.number().int(),
  history: z.array(attemptSchema),
  first_attempt_at: z.string().nullable(),
  last_attempt_at: z.string().nullable(),
  worker_host: z.string(),
  dead_lettered_at: z.string(),
}) satisfies z.ZodType<DeadLetterEntry>;

const listQuerySchema = z
  .object({
    reason: z.enum(DEAD_LETTER_REASONS).optional(),
    error_code: z.string().max(64).optional(),
    limit: z.coerce.number().int().min(1).max(MAX_DEAD_LETTER_PAGE).default(DEFAULT_DEAD_LETTER_PAGE),
    cursor: z.coerce
      .number()
      .int()
      .min(0)
      .optional()
      .meta({ description: 'The `next` of the previous page: continues the listing where it stopped.' }),
  })
  .strict();

const replayResponseSchema = z.object({
  id: z.string().meta({ description: 'The dead letter replayed (now removed).' }),
  job_id: z.string(),
  duplicate: z.boolean(),
});

export const deadLetterContracts = {
  list: {
    method: 'GET',
    url: '/v1/dead-letters',
    operationId: 'listDeadLetters',
    summary: 'List dead letters, oldest first',
    tag: 'dead-letters',
    auth: true,
    scope: 'read',
    query: listQuerySchema,
    responses: {
      200: {
        description:
          'Up to `limit` matching records; `total` counts every record, whatever the filter. A filtered page reads its index and at most 5000 records: when `next` is present, more may match, ask again with `cursor=next`.',
        schema: z.object({
          dead_letters: z.array(deadLetterSchema),
          total: z.number().int(),
          next: z.number().int().optional(),
        }),
      },
    },
    errors: [400],
  },
  get: {
    method: 'GET',
    url: '/v1/dead-letters/:id',
    operationId: 'getDeadLetter',
    summary: 'One dead letter with its attempt history',
    tag: 'dead-letters',
    auth: true,
    scope: 'read',
    params: z.object({ id: deadLetterIdSchema }),
    responses: { 200: { description: 'The record.', schema: deadLetterSchema } },
    errors: [400, 404],
  },
  replay: {
    method: 'POST',
    url: '/v1/dead-letters/:id/replay',
    operationId: 'replayDeadLetter',
    summary: 'Enqueue a dead letter again as a fresh job',
    description:
      'The record is removed once its new job is in Redis. A record whose payload is not a valid task answers 422.',
    tag: 'dead-letters',
    auth: true,
    scope: 'admin',
    params: z.object({ id: deadLetterIdSchema }),
    responses: { 202: { description: 'The job is queued.', schema: replayResponseSchema } },
    errors: [400, 404, 422],
  },
} as const satisfies Record<string, RouteContract>;

export interface DeadLetterRouteDeps {
  connection: RedisClient;
  producer: Producer;
  deadLetters: DeadLetters;
}

export function registerDeadLetterRoutes(app: FastifyInstance, deps: DeadLetterRouteDeps): void {
  const { connection, deadLetters, producer } = deps;

  addRoute(app, deadLetterContracts.list, async ({ query }) => {
    const filter = {
      ...(query.reason === undefined ? {} : { reason: query.reason }),
      ...(query.error_code === undefined ? {} : { errorCode: query.error_code }),
    };
    const [page, total] = await withRedis(connection, () =>
      Promise.all([deadLetters.page(filter, query.limit, query.cursor), deadLetters.count()]),
    );
    return { dead_letters: page.entries, total, ...(page.next === undefined ? {} : { next: page.next }) };
  });

  addRoute(app, deadLetterContracts.get, async ({ params }) => {
    const entry = await withRedis(connection, () => deadLetters.get(params.id));
    if (!entry) throw new ApiError('NOT_FOUND', `no dead letter ${params.id}`);
    return entry;
  });

  addRoute(app, deadLetterContracts.replay, async ({ params }) => {
    const exists = await withRedis(connection, () => deadLetters.get(params.id));
    if (!exists) throw new ApiError('NOT_FOUND', `no dead letter ${params.id}`);
    const result = await withRedis(connection, () => deadLetters.replay([params.id], producer));
    const replayed = result.replayed[0];
    if (replayed) return replayed;
    // replay() reports per-record failures instead of throwing; a lost connection is one of them.
    if (connection.status !== 'ready')
      throw new ApiError('REDIS_UNAVAILABLE', 'Redis is unavailable (connection lost)');
    throw new ApiError(
      'INVALID_JOB',
      `dead letter ${params.id} cannot be replayed: ${result.skipped[0]?.error ?? 'unknown'}`,
    );
  });
}
