/**
 * The W3C helpers of src/observability/tracing.ts, with a real SDK tracer (not registered globally)
 * where a recording span is needed, and the API's no-op tracer where none is.
 */
import { describe, expect, it } from 'vitest';
import { ROOT_CONTEXT, SpanStatusCode, trace } from '@opentelemetry/api';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import {
  contextFromTraceparent,
  traceparentOf,
  tracer,
  withSpan,
} from '../../../src/observability/tracing.js';

const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('contextFromTraceparent', () => {
  it('reads the trace id, parent id and sampled flag as a remote parent', () => {
    const parent = trace.getSpanContext(contextFromTraceparent(TRACEPARENT));
    expect(parent).toEqual({
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      traceFlags: 1,
      isRemote: true,
    });
    expect(trace.getSpanContext(contextFromTraceparent(TRACEPARENT.replace(/01$/, '00')))?.traceFlags).toBe(
      0,
    );
  });

  it('gives the base context back for a missing or invalid value', () => {
    for (const bad of [undefined, 42, '', '00-00000000000000000000000000000000-00f067aa0ba902b7-01', 'ff-x'])
      expect(contextFromTraceparent(bad)).toBe(ROOT_CONTEXT);
  });
});

describe('traceparentOf', () => {
  it('names a recording span as the parent, and nothing for a no-op one', () => {
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    const span = provider.getTracer('t').startSpan('s', {}, contextFromTraceparent(TRACEPARENT));
    const written = traceparentOf(span);
    expect(written).toBe(`00-4bf92f3577b34da6a3ce929d0e0e4736-${span.spanContext().spanId}-01`);
    expect(trace.getSpanContext(contextFromTraceparent(written))?.spanId).toBe(span.spanContext().spanId);
    // No SDK registered in this process: the project's tracer is the no-op one.
    expect(
      traceparentOf(tracer().startSpan('noop', {}, contextFromTraceparent(TRACEPARENT))),
    ).toBeUndefined();
    expect(traceparentOf(undefined)).toBeUndefined();
  });
});

describe('withSpan', () => {
  it('ends a recording span with its result, or failed with the error', async () => {
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    const t = provider.getTracer('t');
    const ok = await withSpan(
      t.startSpan('ok'),
      ROOT_CONTEXT,
      () => Promise.resolve(7),
      (s, r) => s.setAttribute('result', r),
    );
    expect(ok).toBe(7);
    await expect(
      withSpan(
        t.startSpan('bad'),
        ROOT_CONTEXT,
        () => Promise.reject(new TypeError('boom')),
        () => {},
      ),
    ).rejects.toThrow('boom');
    const [first, second] = exporter.getFinishedSpans();
    expect(first?.attributes).toEqual({ result: 7 });
    expect(second?.status).toEqual({ code: SpanStatusCode.ERROR, message: 'boom' });
    expect(second?.attributes).toEqual({ 'error.type': 'TypeError' });
  });

  it('only runs the function when the span records nothing', async () => {
    let ended = false;
    const span = tracer().startSpan('noop');
    span.end = () => {
      ended = true;
    };
    expect(
      await withSpan(
        span,
        ROOT_CONTEXT,
        () => Promise.resolve('x'),
        () => {},
      ),
    ).toBe('x');
    expect(ended).toBe(false);
  });
});
