/**
 * The job's OpenTelemetry span (src/observability/tracing.ts): `delete-task process`, a consumer span
 * whose parent is the job's `traceparent`, so a trace runs API request -> job -> DCS call. Attributes:
 * the job id, queue, run id, account, task id, attempt and the outcome (or how the run ended early:
 * `requeued`, `retry_later`, `rate_limited`). No SDK registered: the processor runs as is.
 */
import { DelayedError, RateLimitError, type Job } from 'bullmq';
import {
  SpanKind,
  SpanStatusCode,
  contextFromTraceparent,
  recordFailure,
  tracer,
  withSpan,
  type Span,
} from '../observability/tracing.js';
import type { DeleteJobResult } from './job-contract.js';
import { RetryLaterError } from './job-run.js';

type Processor = (job: Job, token?: string, signal?: AbortSignal) => Promise<DeleteJobResult>;

export const JOB_SPAN_NAME = 'delete-task process';

/** `processor` with a span around each run of a job. */
export function traceJobs(processor: Processor): Processor {
  return (job, token, signal) => {
    const data = (typeof job.data === 'object' && job.data !== null ? job.data : {}) as Record<
      string,
      unknown
    >;
    const parent = contextFromTraceparent(data.traceparent);
    const span = tracer().startSpan(JOB_SPAN_NAME, { kind: SpanKind.CONSUMER }, parent);
    if (!span.isRecording()) return processor(job, token, signal);
    span.setAttributes({
      'messaging.system': 'bullmq',
      'messaging.operation.type': 'process',
      'messaging.destination.name': job.queueName,
      'messaging.message.id': job.id ?? '',
      'dcs_cleanup.attempt': job.attemptsStarted,
    });
    for (const [field, attribute] of LABELS) {
      const value = data[field];
      if (typeof value === 'string' && value.length <= 200) span.setAttribute(attribute, value);
    }
    return withSpan(
      span,
      parent,
      () => processor(job, token, signal),
      (s, result) => {
        s.setAttribute('dcs_cleanup.outcome', result.outcome);
        if (result.outcome === 'dead_lettered')
          s.setStatus({
            code: SpanStatusCode.ERROR,
            message: `dead-lettered: ${result.reason ?? 'unknown'}`,
          });
      },
      endedEarly,
    );
  };
}

const LABELS = [
  ['run_id', 'dcs_cleanup.run_id'],
  ['account', 'dcs_cleanup.account'],
  ['task_id', 'dcs_cleanup.task_id'],
] as const;

/** A requeue or a later retry is how a run ends, not a failure of the span. */
function endedEarly(span: Span, err: unknown): void {
  if (err instanceof DelayedError) span.setAttribute('dcs_cleanup.outcome', 'requeued');
  else if (err instanceof RetryLaterError) span.setAttribute('dcs_cleanup.outcome', 'retry_later');
  else if (err instanceof RateLimitError) span.setAttribute('dcs_cleanup.outcome', 'rate_limited');
  else recordFailure(span, err);
}
