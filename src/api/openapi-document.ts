/**
 * The OpenAPI 3.1 document, built from the route contracts and their zod schemas (the same ones the
 * server validates with). docs/openapi.json is this document; a test fails when the two drift, and
 * `npm run openapi` writes it again.
 */
import { z } from 'zod';
import { errorBodySchema } from './api-error.js';
import { requiredScope, type RouteContract } from './route-contract.js';

type JsonSchema = Record<string, unknown>;

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid request: `fields` lists every bad field (`tasks[3].task_id`).',
  401: 'Missing or wrong token.',
  403: 'The token lacks the scope the route needs (`MISSING_SCOPE`).',
  404: 'No such resource.',
  409: 'The purge matched more tasks than `max` allows: nothing was enqueued (`PURGE_GUARD`); or a request with the same Idempotency-Key still runs (`IDEMPOTENCY_KEY_IN_USE`).',
  413: 'The body is larger than the body limit.',
  415: 'The body is not `application/json`.',
  422: 'The record cannot be replayed, or (`IDEMPOTENCY_KEY_REUSED`) the Idempotency-Key was used with another body.',
  500: 'Unexpected error (logged by the server; no detail is answered).',
  501: 'Not available in this build.',
  502: 'DCS refused or failed the listing a purge needs.',
  503: 'Redis is unavailable, or (readiness) the circuit breaker paused the queue.',
};

/** Converts a zod schema to an embeddable JSON Schema (2020-12, the dialect of OpenAPI 3.1). */
export function toJsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, {
    target: 'draft-2020-12',
    io,
  }) as JsonSchema;
  return rest;
}

function buildParameters(contract: RouteContract): JsonSchema[] {
  const out: JsonSchema[] = [];
  const parts = [
    ['path', contract.params],
    ['query', contract.query],
  ] as const;
  for (const [where, schema] of parts) {
    if (!schema) continue;
    const json = toJsonSchema(schema, 'input') as {
      properties?: Record<string, JsonSchema>;
      required?: string[];
    };
    for (const [name, property] of Object.entries(json.properties ?? {})) {
      const { description, ...propertySchema } = property;
      out.push({
        name,
        in: where,
        required: where === 'path' || (json.required ?? []).includes(name),
        ...(description === undefined ? {} : { description }),
        schema: propertySchema,
      });
    }
  }
  if (contract.idempotent === true) {
    out.push({
      name: 'Idempotency-Key',
      in: 'header',
      required: false,
      description:
        'Makes a retried request safe: the same key and body within 24 h answer the first answer (header `Idempotent-Replayed: true`) and start nothing; another body is 422 `IDEMPOTENCY_KEY_REUSED`; while the first still runs, 409 `IDEMPOTENCY_KEY_IN_USE`. Scoped per token.',
      schema: { type: 'string', minLength: 1, maxLength: 255 },
    });
  }
  return out;
}

function buildResponses(contract: RouteContract): JsonSchema {
  const responses: JsonSchema = {};
  for (const [status, response] of Object.entries(contract.responses)) {
    const media = response.contentType ?? 'application/json';
    responses[status] = {
      description: response.description,
      content: { [media]: { schema: response.schema ? toJsonSchema(response.schema, 'output') : {} } },
    };
  }
  const errors = new Set([
    ...(contract.errors ?? []),
    ...(contract.auth ? [401, 403] : []),
    ...(contract.idempotent === true ? [409, 422] : []),
    500,
    503,
  ]);
  for (const status of [...errors].sort()) {
    responses[status] = {
      description: ERROR_DESCRIPTIONS[status] ?? 'Error.',
      content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
    };
  }
  return responses;
}

function requestBody(contract: RouteContract): { requestBody: JsonSchema } | undefined {
  const bodies = contract.body ? { 'application/json': contract.body } : contract.documentedBodies;
  if (bodies === undefined) return undefined;
  const content: JsonSchema = {};
  for (const [media, schema] of Object.entries(bodies))
    content[media] = { schema: toJsonSchema(schema, 'input') };
  return { requestBody: { required: true, content } };
}

function buildOperation(contract: RouteContract): JsonSchema {
  const parameters = buildParameters(contract);
  const scope = requiredScope(contract);
  return {
    operationId: contract.operationId,
    summary: contract.summary,
    ...(contract.description === undefined ? {} : { description: contract.description }),
    ...(scope === undefined ? {} : { 'x-required-scope': scope }),
    tags: [contract.tag],
    security: contract.auth ? [{ bearerAuth: [] }] : [],
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(requestBody(contract) ?? {}),
    responses: buildResponses(contract),
  };
}

/** The whole document for `contracts`, paths in the order given. */
export function buildOpenApiDocument(contracts: readonly RouteContract[]): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const contract of contracts) {
    const path = contract.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    paths[path] ??= {};
    paths[path][contract.method.toLowerCase()] = buildOperation(contract);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'dcs-cleanup API',
      version: '1.0.0',
      description:
        'Enqueue Huawei Cloud DCS background-task deletions, follow jobs, replay dead letters and plan purges. ' +
        'Every /v1 route needs `Authorization: Bearer <token>`: CLEANUP_API_TOKEN (every scope) or a token of ' +
        'CLEANUP_API_TOKENS_FILE with the scope the operation names in `x-required-scope` (read, enqueue, purge, admin). ' +
        'Bull Board (not described here) is served at /admin/queues to tokens with the admin scope. See docs/api.md.',
    },
    tags: [...new Set(contracts.map((c) => c.tag))].map((name) => ({ name })),
    paths,
    components: {
      securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer' } },
      schemas: { Error: toJsonSchema(errorBodySchema, 'output') },
    },
  };
}
