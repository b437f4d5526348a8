/**
 * `POST /v1/events`: CloudEvents 1.0 intake over HTTP, for event buses (Knative, EventBridge, Argo
 * Events, Huawei EventGrid) that speak it. One event type requests deletions:
 * `com.dcs-cleanup.deletion.requested`, whose `data` is a `POST /v1/deletions` body, validated by the
 * same schema and enqueued by the same code (enqueueDeletions); the answer is the same too.
 *
 *   structured mode  Content-Type: application/cloudevents+json, the whole event in the body
 *   binary mode      ce-specversion, ce-id, ce-source, ce-type headers; the body is `data`
 *                    (Content-Type: application/json)
 *
 * A bus delivers at least once: the event's `source` and `id` act as its Idempotency-Key (an explicit
 * header wins), so a redelivered event starts nothing. The CloudEvents `traceparent` extension
 * (attribute or `ce-traceparent`), or else the `traceparent` header, is carried into the jobs.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { findTraceparentProblem } from '../observability/trace-context.js';
import { ApiError, type FieldError } from './api-error.js';
import {
  createDeletionsBodySchema,
  enqueueDeletions,
  deletionContracts,
  type DeletionRouteDeps,
} from './deletion-routes.js';
import { readJobTraceparent } from './request-trace.js';
import { describeApiCaller } from './run-routes.js';
import { addRoute, type RouteContract } from './route-contract.js';
import { toValidationError } from './zod-validation.js';

export const DELETION_REQUESTED_EVENT = 'com.dcs-cleanup.deletion.requested';
export const CLOUDEVENTS_JSON = 'application/cloudevents+json';

const required = (name: string) => z.string({ error: 'required' }).min(1, `${name} must not be empty`);

/** The context attributes of a structured event (data checked apart, against the deletions schema). */
const envelopeSchema = z.looseObject({
  specversion: z.literal('1.0', { error: 'must be "1.0"' }),
  id: required('id').max(256),
  source: required('source').max(1024),
  type: z.literal(DELETION_REQUESTED_EVENT, { error: `must be ${DELETION_REQUESTED_EVENT}` }),
  datacontenttype: z
    .string()
    .regex(/^application\/json\b/i, 'only application/json data is accepted')
    .optional(),
  subject: z.string().optional(),
  time: z.iso.datetime({ offset: true, error: 'must be an RFC 3339 time' }).optional(),
  traceparent: z.string().optional(),
  data: z.unknown(),
  data_base64: z.undefined({ error: 'binary data is not accepted: send JSON `data`' }).optional(),
});

export const eventContracts = {
  create: {
    method: 'POST',
    url: '/v1/events',
    operationId: 'receiveEvent',
    summary: 'CloudEvents 1.0 intake: request deletions',
    description: `Accepts one CloudEvent of type \`${DELETION_REQUESTED_EVENT}\` whose \`data\` is a \`POST /v1/deletions\` body, in structured mode (\`Content-Type: ${CLOUDEVENTS_JSON}\`) or binary mode (\`ce-specversion\`, \`ce-id\`, \`ce-source\`, \`ce-type\` headers, \`application/json\` data). Answers like \`POST /v1/deletions\`. The event's source and id act as its Idempotency-Key. Bad envelopes are 400 naming the attribute (\`type\`, \`ce-id\`, \`data.tasks[0].task_id\`).`,
    tag: 'events',
    auth: true,
    scope: 'enqueue',
    idempotent: true,
    documentedBodies: {
      [CLOUDEVENTS_JSON]: z
        .object({
          specversion: z.literal('1.0'),
          id: z.string().min(1),
          source: z.string().min(1),
          type: z.literal(DELETION_REQUESTED_EVENT),
          datacontenttype: z.string().optional(),
          subject: z.string().optional(),
          time: z.string().optional(),
          traceparent: z
            .string()
            .optional()
            .meta({ description: 'CloudEvents distributed tracing extension.' }),
          data: createDeletionsBodySchema,
        })
        .meta({ description: 'Structured mode: the whole event.' }),
      'application/json': createDeletionsBodySchema.meta({
        description: 'Binary mode: the data, with the ce-specversion, ce-id, ce-source and ce-type headers.',
      }),
    },
    responses: { 202: deletionContracts.create.responses[202] },
    errors: [400, 413, 415],
  },
} as const satisfies Record<string, RouteContract>;

interface ReceivedEvent {
  id: string;
  source: string;
  data: unknown;
  traceparent: string | undefined;
}

/** The attributes of a binary-mode event, from its `ce-*` headers. */
function binaryEnvelope(request: FastifyRequest): Record<string, unknown> {
  const envelope: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (name.startsWith('ce-') && typeof value === 'string') envelope[name.slice(3)] = value;
  }
  envelope.data = request.body;
  return envelope;
}

/** The event in `request`, in either mode; 400 naming each bad attribute as the mode spells it. */
export function readEvent(request: FastifyRequest): ReceivedEvent {
  const structured = (request.headers['content-type'] ?? '').toLowerCase().startsWith(CLOUDEVENTS_JSON);
  if (
    structured &&
    (typeof request.body !== 'object' || request.body === null || Array.isArray(request.body))
  ) {
    throw new ApiError('INVALID_INPUT', 'a structured CloudEvent is a JSON object', [
      { field: 'body', message: 'must be a JSON object' },
    ]);
  }
  const raw = structured ? (request.body as Record<string, unknown>) : binaryEnvelope(request);
  const attribute = (name: string): string => (structured ? name : `ce-${name}`);
  const fields: FieldError[] = [];
  const envelope = envelopeSchema.safeParse(raw, {
    error: (issue) => (issue.input === undefined ? 'required' : undefined),
  });
  if (!envelope.success) {
    for (const issue of envelope.error.issues) {
      const name = String(issue.path[0] ?? 'body');
      fields.push({ field: name === 'data' ? 'data' : attribute(name), message: issue.message });
    }
  }
  const trace = envelope.success ? envelope.data.traceparent : undefined;
  const traceProblem = trace === undefined ? undefined : findTraceparentProblem(trace);
  if (traceProblem !== undefined) fields.push({ field: attribute('traceparent'), message: traceProblem });
  if (fields.length > 0) {
    throw new ApiError('INVALID_INPUT', `invalid CloudEvent: ${fields.length} bad attributes`, fields);
  }
  const event = envelope.data!;
  return {
    id: event.id,
    source: event.source,
    data: event.data,
    traceparent: trace?.slice(0, 55) ?? readJobTraceparent(request),
  };
}

/** `source` and `id` of the event, whichever the mode: its key against redelivery. */
function eventKey(request: FastifyRequest): string | undefined {
  const body = request.body as Record<string, unknown> | null | undefined;
  const pick = (name: string): unknown => request.headers[`ce-${name}`] ?? body?.[name];
  const source = pick('source');
  const id = pick('id');
  return typeof source === 'string' && typeof id === 'string' ? `cloudevent ${source} ${id}` : undefined;
}

export function registerEventRoutes(app: FastifyInstance, deps: DeletionRouteDeps): void {
  const idempotency = { connection: deps.connection, prefix: deps.prefix };
  // Its own scope: the other routes keep accepting application/json only.
  void app.register((scope, _opts, done) => {
    scope.addContentTypeParser(
      CLOUDEVENTS_JSON,
      { parseAs: 'string' },
      scope.getDefaultJsonParser('error', 'ignore'),
    );
    addRoute(
      scope,
      eventContracts.create,
      async ({ raw }) => {
        const event = readEvent(raw);
        const body = createDeletionsBodySchema.safeParse(event.data, {
          error: (issue) => (issue.input === undefined ? 'required' : undefined),
        });
        if (!body.success) {
          const error = toValidationError(body.error, 'data');
          const fields = (error.fields ?? []).map((f) => ({
            field: f.field === 'data' ? 'data' : `data.${f.field}`,
            message: f.message,
          }));
          throw new ApiError('INVALID_INPUT', error.message, fields);
        }
        return enqueueDeletions(deps, body.data, {
          traceparent: event.traceparent,
          startedBy: describeApiCaller(raw.tokenLabel),
        });
      },
      { idempotency, keyOf: eventKey },
    );
    done();
  });
}
