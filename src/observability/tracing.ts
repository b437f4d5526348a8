/**
 * OpenTelemetry spans through `@opentelemetry/api` alone: API request (server), job (consumer) and
 * DCS call (client). Nothing here registers an SDK: with none registered (the default) the tracer is
 * the API's no-op one, and every helper returns at its first `isRecording()` check, so the job path
 * does no span work. README "Tracing" says how to register one (OTEL_* variables).
 *
 * The job data's `traceparent` is W3C Trace Context by contract (src/observability/trace-context.ts),
 * so it is read and written here in that format whatever propagators the SDK was given.
 */
import { createRequire } from 'node:module';
import {
  ROOT_CONTEXT,
  SpanStatusCode,
  TraceFlags,
  context,
  trace,
  type Context,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import { findTraceparentProblem } from './trace-context.js';

export { SpanKind, SpanStatusCode, context, trace, type Span } from '@opentelemetry/api';

const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };

/** The project's tracer: the global provider's at each call, so an SDK registered later is used. */
export function tracer(): Tracer {
  return trace.getTracer('dcs-cleanup', version);
}

/**
 * The context whose remote parent is `traceparent` (W3C, version 00 fields), on top of `base`;
 * `base` itself when the value is absent or invalid.
 */
export function contextFromTraceparent(traceparent: unknown, base: Context = ROOT_CONTEXT): Context {
  if (typeof traceparent !== 'string' || findTraceparentProblem(traceparent) !== undefined) return base;
  return trace.setSpanContext(base, {
    traceId: traceparent.slice(3, 35),
    spanId: traceparent.slice(36, 52),
    traceFlags: parseInt(traceparent.slice(53, 55), 16) & TraceFlags.SAMPLED,
    isRemote: true,
  });
}

/** The W3C traceparent naming `span` as the parent, or undefined when it records nothing. */
export function traceparentOf(span: Span | undefined): string | undefined {
  if (span === undefined || !span.isRecording()) return undefined;
  const { traceId, spanId, traceFlags } = span.spanContext();
  return `00-${traceId}-${spanId}-${(traceFlags & 0xff).toString(16).padStart(2, '0')}`;
}

/** Marks `span` failed by `err` (its message only: error messages never hold secrets). */
export function recordFailure(span: Span, err: unknown): void {
  const message = err instanceof Error ? err.message : String(err);
  span.setStatus({ code: SpanStatusCode.ERROR, message });
  span.setAttribute('error.type', err instanceof Error ? err.name : 'unknown');
}

/**
 * Runs `fn` inside `span` (its context active, so child spans find it) and ends the span after;
 * without a recording span, just `fn`. `onResult` and `onError` set the closing attributes.
 */
export async function withSpan<T>(
  span: Span,
  parent: Context,
  fn: () => Promise<T>,
  onResult: (span: Span, result: T) => void,
  onError: (span: Span, err: unknown) => void = recordFailure,
): Promise<T> {
  if (!span.isRecording()) return fn();
  try {
    const result = await context.with(trace.setSpan(parent, span), fn);
    onResult(span, result);
    return result;
  } catch (err) {
    onError(span, err);
    throw err;
  } finally {
    span.end();
  }
}
