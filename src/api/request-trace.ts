/** The W3C `traceparent` header of a request (src/observability/trace-context.ts), validated. */
import type { FastifyRequest } from 'fastify';
import { findTraceparentProblem } from '../observability/trace-context.js';
import { traceparentOf } from '../observability/tracing.js';
import { ApiError } from './api-error.js';

/** The request's traceparent (version-00 fields), undefined without one; 400 naming `traceparent`. */
export function readTraceparent(request: FastifyRequest): string | undefined {
  const raw = request.headers.traceparent;
  if (raw === undefined) return undefined;
  const problem = typeof raw === 'string' ? findTraceparentProblem(raw.trim()) : 'send one header';
  if (problem !== undefined) {
    throw new ApiError('INVALID_INPUT', 'invalid traceparent header', [
      { field: 'traceparent', message: problem },
    ]);
  }
  return (raw as string).trim().slice(0, 55);
}

/**
 * The traceparent a job enqueued by this request carries: the request's server span when a tracer
 * records it (so the trace links request -> job -> DCS call), else the caller's own; 400 as above.
 */
export function readJobTraceparent(request: FastifyRequest): string | undefined {
  const caller = readTraceparent(request);
  return traceparentOf(request.traceSpan ?? undefined) ?? caller;
}
