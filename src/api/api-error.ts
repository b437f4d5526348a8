/**
 * Every error the HTTP API answers has one shape, `{ error: { code, message, fields? } }`, and
 * never a stack trace or a file path: unexpected errors are logged in full and answered as INTERNAL.
 */
import { z } from 'zod';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { isCleanupError, type ErrorCode } from '../errors.js';
import type { Logger } from '../observability/logger.js';

/** The codes an API error body can carry, with their HTTP status; docs/api.md lists the same set. */
export const API_ERROR_STATUS = {
  INVALID_INPUT: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  MISSING_SCOPE: 403,
  NOT_FOUND: 404,
  PURGE_GUARD: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  INVALID_JOB: 422,
  IDEMPOTENCY_KEY_REUSED: 422,
  IDEMPOTENCY_KEY_IN_USE: 409,
  PURGE_BUSY: 429,
  INTERNAL: 500,
  NOT_IMPLEMENTED: 501,
  DCS_ERROR: 502,
  REDIS_UNAVAILABLE: 503,
  QUEUE_PAUSED: 503,
  PURGE_TIMEOUT: 504,
  REDIS_TIMEOUT: 504,
} as const;
export type ApiErrorCode = keyof typeof API_ERROR_STATUS;

/** One bad field of a request: `tasks[3].task_id`, `reason`, `job_id`. */
export interface FieldError {
  field: string;
  message: string;
}

export const errorBodySchema = z
  .object({
    error: z.object({
      code: z.enum(Object.keys(API_ERROR_STATUS) as [ApiErrorCode, ...ApiErrorCode[]]),
      message: z.string(),
      fields: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
    }),
  })
  .meta({
    description: 'Every error answer: a stable code, a message for people, and the bad fields of a 400.',
  });
export type ErrorBody = z.infer<typeof errorBodySchema>;

/** An error the API answers as is: the status comes from the code. */
export class ApiError extends Error {
  readonly code: ApiErrorCode;
  readonly statusCode: number;
  readonly fields: FieldError[] | undefined;

  constructor(code: ApiErrorCode, message: string, fields?: FieldError[]) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.statusCode = API_ERROR_STATUS[code];
    this.fields = fields;
  }

  toBody(): ErrorBody {
    return {
      error: { code: this.code, message: this.message, ...(this.fields ? { fields: this.fields } : {}) },
    };
  }
}

/** Fastify's own 4xx errors (body parsing, limits), by their code. */
const FASTIFY_CODES: Record<string, ApiErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'INVALID_INPUT',
  FST_ERR_CTP_INVALID_JSON_BODY: 'INVALID_INPUT',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'INVALID_INPUT',
  FST_ERR_BAD_URL: 'INVALID_INPUT',
  FST_ERR_MAX_PARAM_LENGTH: 'INVALID_INPUT',
};

/** Our CleanupError codes that a route can let through, as API codes. */
function fromCleanupCode(code: ErrorCode): ApiErrorCode {
  if (
    code === 'NOT_FOUND' ||
    code === 'REDIS_UNAVAILABLE' ||
    code === 'QUEUE_PAUSED' ||
    code === 'PURGE_GUARD'
  ) {
    return code;
  }
  if (code === 'INVALID_JOB') return 'INVALID_JOB';
  if (code.startsWith('INVALID_')) return 'INVALID_INPUT';
  if (code.startsWith('DCS_') || code === 'CREDENTIALS_UNAVAILABLE') return 'DCS_ERROR';
  return 'INTERNAL';
}

/** Turns anything a route or Fastify threw into an ApiError; INTERNAL for what is not known to be safe. */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (isCleanupError(err)) {
    const code = fromCleanupCode(err.code);
    return new ApiError(code, code === 'INTERNAL' ? 'internal error' : err.message);
  }
  const fastifyError = err as Partial<FastifyError> | undefined;
  const mapped = fastifyError?.code === undefined ? undefined : FASTIFY_CODES[fastifyError.code];
  if (mapped) return new ApiError(mapped, fastifyError!.message ?? mapped);
  return new ApiError('INTERNAL', 'internal error');
}

/** The Fastify error handler: one body shape, full detail only in our log. */
export function buildErrorHandler(
  logger: Logger,
): (err: unknown, request: FastifyRequest, reply: FastifyReply) => FastifyReply {
  return (err, request, reply) => {
    const apiError = toApiError(err);
    if (apiError.statusCode >= 500) {
      const cause = err instanceof Error ? err : new Error(String(err));
      logger.error(
        { err: cause, method: request.method, route: request.routeOptions.url, code: apiError.code },
        'request failed',
      );
    }
    return reply.status(apiError.statusCode).send(apiError.toBody());
  };
}

/** Answers unknown routes with the same body shape as every other error. */
export function notFoundHandler(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const body = new ApiError(
    'NOT_FOUND',
    `no route ${request.method} ${request.url.split('?')[0]!.slice(0, 200)}`,
  ).toBody();
  return reply.status(404).send(body);
}

/** Fastify's `frameworkErrors` (a malformed URL, a path parameter over the router's limit): same shape. */
export function frameworkErrorHandler(
  err: FastifyError,
  _request: FastifyRequest,
  reply: FastifyReply,
): void {
  const apiError = toApiError(err);
  void reply.status(apiError.statusCode).send(apiError.toBody());
}
