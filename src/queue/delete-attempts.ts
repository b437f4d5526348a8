/**
 * One job run's DELETE attempts, in the one retry loop (src/dcs/retry-loop.ts): the first is sent as
 * is (most succeed), then a `retry` verdict is tried again up to `inProcessRetries` times with the
 * policy's full-jitter waits, re-signing each request, unless the breaker opens or the worker shuts
 * down. Every DELETE sent is recorded on the job run.
 */
import type { AttemptOutcome } from '../dcs/attempt-outcome.js';
import { quickRetryDelayMs, retryInProcess, type RetryLoopOptions } from '../dcs/retry-loop.js';
import { retryReasonLabel, type Metrics } from '../observability/metrics.js';
import type { CircuitBreaker } from './circuit-breaker.js';
import type { TaskDeleter } from './credential-gate.js';
import type { DeleteJobData } from './job-contract.js';
import type { JobRun } from './job-run.js';
import type { RetryPolicy } from './retry-policy.js';
import { traceIdOf } from '../observability/trace-context.js';
import type { RateGate } from './rate-control/rate-gate.js';

export interface DeleteAttemptsDeps {
  policy: RetryPolicy;
  circuit: CircuitBreaker;
  metrics?: Metrics | undefined;
  /** The account's shared rate limiter; absent when the rate limit is off. */
  rate?: RateGate | undefined;
}

/** Returns the last attempt's outcome, or undefined when the breaker opened before one was sent. */
export type AttemptDelete = (
  client: TaskDeleter,
  data: DeleteJobData,
  run: Pick<JobRun, 'record'>,
  signal?: AbortSignal,
) => Promise<AttemptOutcome | undefined>;

export function createDeleteAttempts(deps: DeleteAttemptsDeps): AttemptDelete {
  const { policy, circuit, metrics } = deps;
  const loop: RetryLoopOptions<AttemptOutcome> = {
    retries: policy.inProcessRetries,
    delayMs: (outcome, retry) =>
      outcome.verdict.action === 'retry' ? quickRetryDelayMs(policy, retry) : undefined,
    onRetry: (outcome) => metrics?.retries.inc({ reason: retryReasonLabel(outcome) }),
    proceed: () => !circuit.isOpen(),
  };

  return async function attempt(client, data, run, signal) {
    if (circuit.isOpen()) return undefined;
    const ref = { projectId: data.project_id, instanceId: data.instance_id, taskId: data.task_id };
    const traceId = data.traceparent === undefined ? undefined : traceIdOf(data.traceparent);
    const { rate } = deps;
    const send = async (): Promise<AttemptOutcome> => {
      // The account's shared limiter spaces the sends (urgent jobs take the next slot first).
      if (rate !== undefined) await rate.acquire(data.priority, signal);
      const at = Date.now();
      const outcome = await client.deleteBackgroundTask(ref, { signal, traceId });
      run.record(outcome, at);
      metrics?.requestDuration.observe({ status: outcome.status ?? 'network' }, outcome.durationMs / 1000);
      return outcome;
    };
    try {
      return await retryInProcess(send, loop, signal);
    } catch (err) {
      if (circuit.isOpen()) return undefined;
      throw err;
    }
  };
}
