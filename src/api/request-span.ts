/**
 * The API request's OpenTelemetry server span (src/observability/tracing.ts): `HTTP <method> <route>`,
 * parent the caller's `traceparent` (or the span an HTTP instrumentation already started), attributes
 * http.request.method, http.route, http.response.status_code and dcs_cleanup.token_label (the token's
 * label, never the token). Routes that enqueue name this span as the jobs' parent (readJobTraceparent).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  SpanKind,
  SpanStatusCode,
  context,
  contextFromTraceparent,
  trace,
  tracer,
  type Span,
} from '../observability/tracing.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The request's server span; null before onRequest, and unused when it records nothing. */
    traceSpan: Span | null;
  }
}

export function registerRequestSpans(app: FastifyInstance): void {
  app.decorateRequest('traceSpan', null);
  app.addHook('onRequest', (request, _reply, done) => {
    const active = context.active();
    const header = request.headers.traceparent;
    const parent =
      trace.getSpan(active) !== undefined
        ? active
        : contextFromTraceparent(typeof header === 'string' ? header.trim() : undefined);
    const span = tracer().startSpan(`HTTP ${request.method}`, { kind: SpanKind.SERVER }, parent);
    if (span.isRecording()) {
      span.setAttribute('http.request.method', request.method);
      request.traceSpan = span;
    }
    done();
  });
  app.addHook('onResponse', (request, reply, done) => {
    const span = request.traceSpan;
    if (span === null) return done();
    nameAfterRoute(span, request);
    span.setAttribute('http.response.status_code', reply.statusCode);
    if (request.tokenLabel !== null) span.setAttribute('dcs_cleanup.token_label', request.tokenLabel);
    if (reply.statusCode >= 500) {
      span.setAttribute('error.type', String(reply.statusCode));
      span.setStatus({ code: SpanStatusCode.ERROR });
    }
    span.end();
    request.traceSpan = null;
    done();
  });
  app.addHook('onRequestAbort', (request, done) => {
    const span = request.traceSpan;
    if (span === null) return done();
    nameAfterRoute(span, request);
    span.setAttribute('error.type', 'aborted');
    span.setStatus({ code: SpanStatusCode.ERROR, message: 'client aborted' });
    span.end();
    request.traceSpan = null;
    done();
  });
}

/** `HTTP POST /v1/deletions`: the route template, never the path with its ids. */
function nameAfterRoute(span: Span, request: FastifyRequest): void {
  const route = request.routeOptions.url;
  if (route === undefined) return;
  span.updateName(`HTTP ${request.method} ${route}`);
  span.setAttribute('http.route', route);
}
