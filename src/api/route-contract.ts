/**
 * A route's contract: method, path, auth and zod schemas, kept apart from its handler so the OpenAPI
 * document can be built without a server, Redis or configuration. Validation uses the same schemas.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { refuseWithoutScope } from './api-auth.js';
import type { TokenScope } from './token-file.js';
import { runIdempotent, type IdempotencyDeps } from './idempotency.js';

export interface ResponseContract {
  description: string;
  schema?: z.ZodType;
  /** Media type when not JSON (e.g. Prometheus text). */
  contentType?: string;
}

export interface RouteContract {
  method: 'GET' | 'POST';
  /** Fastify syntax: `/v1/deletions/:job_id`. */
  url: string;
  operationId: string;
  summary: string;
  description?: string;
  tag: string;
  /** True when the route needs `Authorization: Bearer <token>`. */
  auth: boolean;
  /**
   * The token scope an `auth` route needs (403 MISSING_SCOPE without it). Default: `read` for GET,
   * `admin` for anything else, so a route that forgets to say is closed rather than open.
   */
  scope?: TokenScope;
  params?: z.ZodObject;
  query?: z.ZodObject;
  body?: z.ZodType;
  /** For the document only: bodies a route validates itself, by media type (CloudEvents). */
  documentedBodies?: Record<string, z.ZodType>;
  /** Success answers; the error answers that apply are added from `errors`. */
  responses: Record<number, ResponseContract>;
  /** Honours `Idempotency-Key` (src/api/idempotency.ts); addRoute then needs `idempotency`. */
  idempotent?: boolean;
  /** Error statuses the route can answer besides 401 (auth), 500 and 503. */
  errors?: number[];
}

/** The validated parts of a request to `C`. */
export interface ValidatedRequest<C extends RouteContract> {
  params: C['params'] extends z.ZodObject ? z.output<C['params']> : undefined;
  query: C['query'] extends z.ZodObject ? z.output<C['query']> : undefined;
  body: C['body'] extends z.ZodType ? z.output<C['body']> : undefined;
  raw: FastifyRequest;
}

/**
 * Registers `contract` on `app` with `handler`. The handler's result is sent as JSON with the
 * route's first success status, unless the handler sent the reply itself.
 */
export function addRoute<C extends RouteContract>(
  app: FastifyInstance,
  contract: C,
  handler: (request: ValidatedRequest<C>, reply: FastifyReply) => Promise<unknown>,
  options: {
    idempotency?: IdempotencyDeps;
    /** A key of the route's own when the request has no Idempotency-Key header. */
    keyOf?: (request: FastifyRequest) => string | undefined;
  } = {},
): void {
  const status = Number(Object.keys(contract.responses)[0] ?? 200);
  const idempotency = contract.idempotent === true ? options.idempotency : undefined;
  if (contract.idempotent === true && idempotency === undefined) {
    throw new Error(`${contract.url} honours Idempotency-Key: pass its store`);
  }
  const schema: Record<string, z.ZodType> = {};
  if (contract.params) schema.params = contract.params;
  if (contract.query) schema.querystring = contract.query;
  if (contract.body) schema.body = contract.body;
  const scope = requiredScope(contract);
  app.route({
    method: contract.method,
    url: contract.url,
    schema,
    // After the scope's own onRequest hook authenticated the request, before the body is read.
    ...(scope === undefined
      ? {}
      : { onRequest: async (request, reply) => refuseWithoutScope(request, reply, scope) }),
    handler: async (request, reply) => {
      const validated = {
        params: request.params,
        query: request.query,
        body: request.body,
        raw: request,
      } as ValidatedRequest<C>;
      const result = idempotency
        ? await runIdempotent(
            idempotency,
            { request, reply, body: request.body, status, key: options.keyOf?.(request) },
            () => handler(validated, reply),
          )
        : await handler(validated, reply);
      if (reply.sent) return reply;
      // A handler may pick another documented success status with reply.status() (a purge's 202).
      return reply.status(reply.statusCode === 200 ? status : reply.statusCode).send(result);
    },
  });
}

/** The scope `contract` needs; undefined for open routes. */
export function requiredScope(contract: RouteContract): TokenScope | undefined {
  if (!contract.auth) return undefined;
  return contract.scope ?? (contract.method === 'GET' ? 'read' : 'admin');
}
