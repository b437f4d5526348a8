/**
 * OpenTelemetry spans (src/observability/tracing.ts) with an SDK registered in this process as a user
 * registers one: an in-memory exporter, AsyncLocalStorage context and the W3C propagator. The API and
 * a worker run against the emulator with real signed requests over loopback and a real Redis (own
 * prefix); a caller's traceparent must come out as one trace: API request -> job -> DCS DELETE.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { context, propagation, trace, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';
import { createHarness, type Harness } from '../support/pipeline-harness.js';
import { captureLogger } from '../support/log-capture.js';
import { REDIS_URL } from '../support/redis-prefix.js';
import { waitFor } from '../support/wait-for.js';
import { createAppApi } from '../support/app-api.js';
import { createApp, type App } from '../../src/app.js';
import { configSchema } from '../../src/config/config.js';
import { DEMO_CREDENTIALS } from '../../src/emulator/emulator.js';

const TOKEN = 'tracing-token-0123456789abcdef';
const CALLER_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER_SPAN = '00f067aa0ba902b7';
const TRACEPARENT = `00-${CALLER_TRACE}-${CALLER_SPAN}-01`;

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
let h: Harness;
let apiApp: App;
let api: FastifyInstance;

beforeAll(async () => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  h = await createHarness('tracing', { seed: { instances: 1, tasksPerInstance: 0 } });
  const logs = captureLogger('info');
  apiApp = createApp(configSchema.parse({ REDIS_URL, CLEANUP_PREFIX: h.prefix }), {
    role: 'api',
    logger: logs.logger,
  });
  api = createAppApi(apiApp, { logger: logs.logger, auth: { token: TOKEN } });
  await api.ready();
  await h.startWorker();
});

afterAll(async () => {
  await api?.close();
  await apiApp?.close();
  await h?.close();
  await provider.shutdown();
  trace.disable();
  context.disable();
  propagation.disable();
});

const spansNamed = (name: string, traceId: string): ReadableSpan[] =>
  exporter.getFinishedSpans().filter((s) => s.name === name && s.spanContext().traceId === traceId);

describe('tracing', () => {
  it("links the caller's trace: API request -> job -> DCS DELETE, with their attributes", async () => {
    const [task] = h.emulator.addTasks(h.instanceId, [{ status: 'SUCCESS' }]);
    const res = await api.inject({
      method: 'POST',
      url: '/v1/deletions',
      headers: { authorization: `Bearer ${TOKEN}`, traceparent: TRACEPARENT },
      payload: { tasks: [{ project_id: h.projectId, instance_id: h.instanceId, task_id: task!.id }] },
    });
    expect(res.statusCode).toBe(202);
    const jobId = res.json<{ jobs: { job_id: string }[] }>().jobs[0]!.job_id;
    const [job] = await waitFor(() => {
      const found = spansNamed('delete-task process', CALLER_TRACE);
      return found.length > 0 ? found : undefined;
    }, 'the job span');

    const [request] = spansNamed('HTTP POST /v1/deletions', CALLER_TRACE);
    expect(request).toBeDefined();
    expect(request!.kind).toBe(SpanKind.SERVER);
    expect(request!.parentSpanContext?.spanId).toBe(CALLER_SPAN);
    expect(request!.attributes).toMatchObject({
      'http.request.method': 'POST',
      'http.route': '/v1/deletions',
      'http.response.status_code': 202,
      'dcs_cleanup.token_label': 'default',
    });
    // The job carries the request's span as its parent, not the caller's.
    const stored = await h.queue.getJob(jobId);
    expect(stored?.data.traceparent).toBe(`00-${CALLER_TRACE}-${request!.spanContext().spanId}-01`);

    expect(job!.kind).toBe(SpanKind.CONSUMER);
    expect(job!.parentSpanContext?.spanId).toBe(request!.spanContext().spanId);
    expect(job!.attributes).toMatchObject({
      'messaging.system': 'bullmq',
      'messaging.message.id': jobId,
      'dcs_cleanup.task_id': task!.id,
      'dcs_cleanup.outcome': 'deleted',
    });
    expect(typeof job!.attributes['dcs_cleanup.run_id']).toBe('string');

    const calls = spansNamed('DCS DELETE', CALLER_TRACE);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.kind).toBe(SpanKind.CLIENT);
    expect(calls[0]!.parentSpanContext?.spanId).toBe(job!.spanContext().spanId);
    expect(calls[0]!.attributes).toMatchObject({
      'http.request.method': 'DELETE',
      'http.response.status_code': 200,
      'dcs_cleanup.action': 'deleted',
    });
    expect(typeof calls[0]!.attributes['dcs.request_id']).toBe('string');
  });

  it('names the DCS error code of a refused DELETE, a dead letter is an error, and a job without traceparent starts its own trace', async () => {
    const jobId = (
      await h.producer.enqueue({
        project_id: h.projectId,
        instance_id: h.instanceId,
        task_id: 'no-such-task-01',
      })
    ).job_id;
    const job = await waitFor(
      () =>
        exporter
          .getFinishedSpans()
          .find((s) => s.name === 'delete-task process' && s.attributes['messaging.message.id'] === jobId),
      'the job span',
    );
    expect(job.parentSpanContext).toBeUndefined();
    const [call] = spansNamed('DCS DELETE', job.spanContext().traceId);
    expect(call?.parentSpanContext?.spanId).toBe(job.spanContext().spanId);
    // The emulator refuses an id no task has the shape of: 400 with a DCS error code, dead-lettered.
    expect(call?.attributes).toMatchObject({
      'http.response.status_code': 400,
      'dcs_cleanup.action': 'rejected',
    });
    expect(call?.attributes['dcs.error_code']).toMatch(/^\w+$/);
    expect(call?.status.code).toBe(SpanStatusCode.ERROR);
    expect(job.attributes['dcs_cleanup.outcome']).toBe('dead_lettered');
    expect(job.status).toMatchObject({ code: SpanStatusCode.ERROR, message: 'dead-lettered: rejected' });
  });

  it('puts no secret in any span attribute', () => {
    const spans = exporter.getFinishedSpans();
    expect(spans.length).toBeGreaterThanOrEqual(5);
    const text = JSON.stringify(spans.map((s) => [s.name, s.attributes, s.status]));
    for (const secret of [TOKEN, DEMO_CREDENTIALS.ak, DEMO_CREDENTIALS.sk])
      expect(text).not.toContain(secret);
    expect(text).not.toMatch(/Signature=|Authorization|X-Sdk-Date/i);
  });
});
