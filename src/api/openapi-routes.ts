/** `GET /openapi.json`: the document built from every route contract (docs/openapi.json is a copy). */
import type { FastifyInstance } from 'fastify';
import { deadLetterContracts } from './dead-letter-routes.js';
import { deletionContracts } from './deletion-routes.js';
import { eventContracts } from './event-routes.js';
import { healthContracts } from './health-routes.js';
import { metricsContracts } from './metrics-routes.js';
import { buildOpenApiDocument } from './openapi-document.js';
import { runContracts } from './run-routes.js';
import { purgeContracts } from './purge-routes.js';
import { addRoute, type RouteContract } from './route-contract.js';

export const openApiContracts = {
  document: {
    method: 'GET',
    url: '/openapi.json',
    operationId: 'getOpenApiDocument',
    summary: 'This OpenAPI document',
    tag: 'meta',
    auth: false,
    responses: { 200: { description: 'OpenAPI 3.1 document.' } },
  },
} as const satisfies Record<string, RouteContract>;

/** Every route the API serves (Bull Board aside), in the order the document lists them. */
export const API_CONTRACTS: readonly RouteContract[] = [
  ...Object.values(deletionContracts),
  ...Object.values(deadLetterContracts),
  ...Object.values(purgeContracts),
  ...Object.values(runContracts),
  ...Object.values(eventContracts),
  ...Object.values(healthContracts),
  ...Object.values(metricsContracts),
  ...Object.values(openApiContracts),
];

/** The API's OpenAPI document. */
export function buildApiDocument(): Record<string, unknown> {
  return buildOpenApiDocument(API_CONTRACTS);
}

export function registerOpenApiRoutes(app: FastifyInstance): void {
  const document = buildApiDocument();
  addRoute(app, openApiContracts.document, () => Promise.resolve(document));
}

/** The document as docs/openapi.json holds it: two-space JSON and a final newline. */
export function formatApiDocument(): string {
  return `${JSON.stringify(buildApiDocument(), null, 2)}\n`;
}
