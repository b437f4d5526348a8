/**
 * One job run's DELETE attempts: the first is sent as is (most succeed), then p-retry retries a
 * `retry` verdict a few times with full jitter, re-signing each request, unless the breaker opens
 * or the worker shuts down. Every attempt is recorded for the job's history.
 */
import pRetry, { AbortError } from 'p-retry';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AttemptOutcome } from '../dcs/attempt-outcome.js';
import { retryReasonLabel, type Metrics } from '../observability/metrics.js';
import type { CircuitBreaker } from './circuit-breaker.js';
import type { TaskDeleter } from './credential-gate.js';
import type { AttemptRecord } from './dead-letters.js';
import type { DeleteJobData } from './job-contract.js';
import { fullJitterMs, type RetryPolicy } from './retry-policy.js';
import type { RateGate } from './rate-control/rate-gate.js';

class TransientAttempt extends Error {
  constructor(readonly outcome: AttemptOutcome) {
    super(outcome.verdict.reason);
  }
}

export interface DeleteAttemptsDeps {
  policy: RetryPolicy;
  circuit: CircuitBreaker;
  metrics?: Metrics | undefined;
  /** The account's shared rate limiter; absent when the rate limit is off. */
  rate?: RateGate | undefined;
}

/**
 * Returns the last attempt's outcome, or undefined when the breaker opened before one was sent.
 * `history` receives one record per DELETE sent.
 */
export type AttemptDelete = (
  client: TaskDeleter,
  data: DeleteJobData,
  history: AttemptRecord[],
  signal?: AbortSignal,
) => Promise<AttemptOutcome | undefined>;

export function createDeleteAttempts(deps: DeleteAttemptsDeps): AttemptDelete {
  const { policy, circuit, metrics } = deps;
  const toRecord = (o: AttemptOutcome, at: number): AttemptRecord => ({
    at: new Date(at).toISOString(),
    action: o.verdict.action,
    http_status: o.status ?? null,
    error_code: o.errorCode ?? null,
    request_id: o.requestId ?? null,
    duration_ms: Math.round(o.durationMs),
    ...(o.networkError === undefined ? {} : { network_error: o.networkError }),
  });

  /** One DELETE, recorded in `history`; throws TransientAttempt for a `retry` verdict. */
  async function sendOnce(
    client: TaskDeleter,
    ref: { projectId: string; instanceId: string; taskId: string },
    history: AttemptRecord[],
    signal?: AbortSignal,
  ): Promise<AttemptOutcome> {
    if (circuit.isOpen()) throw new AbortError('circuit open');
    const at = Date.now();
    const outcome = await client.deleteBackgroundTask(ref, { signal });
    history.push(toRecord(outcome, at));
    metrics?.requestDuration.observe({ status: outcome.status ?? 'network' }, outcome.durationMs / 1000);
    if (outcome.verdict.action === 'retry' && !signal?.aborted) throw new TransientAttempt(outcome);
    return outcome;
  }

  async function attempt(
    client: TaskDeleter,
    data: DeleteJobData,
    history: AttemptRecord[],
    signal?: AbortSignal,
  ) {
    const ref = { projectId: data.project_id, instanceId: data.instance_id, taskId: data.task_id };
    const { rate } = deps;
    const send =
      rate === undefined
        ? () => sendOnce(client, ref, history, signal)
        : async () => {
            await rate.acquire(data.priority, signal);
            return sendOnce(client, ref, history, signal);
          };
    try {
      try {
        // Most DELETEs succeed at once, and p-retry costs ~20 us of CPU a call before it even
        // calls: it steps in only after a first try that asks for a retry.
        return await send();
      } catch (first) {
        if (!(first instanceof TransientAttempt)) throw first;
        // p-retry takes that first try as its attempt 1, then waits and retries as it always did.
        return await pRetry((n) => (n === 1 ? Promise.reject(first) : send()), {
          retries: policy.inProcessRetries,
          minTimeout: 0,
          maxTimeout: 0,
          // p-retry has no full jitter: the jittered wait happens here, abortable by shutdown.
          shouldRetry: async ({ error, attemptNumber }) => {
            if (!(error instanceof TransientAttempt)) return false;
            metrics?.retries.inc({ reason: retryReasonLabel(error.outcome) });
            const delay = fullJitterMs(attemptNumber - 1, policy.inProcessBaseMs, policy.inProcessCapMs);
            try {
              await sleep(delay, undefined, { signal });
              return !circuit.isOpen();
            } catch {
              return false;
            }
          },
        });
      }
    } catch (err) {
      if (err instanceof TransientAttempt) return err.outcome;
      if (circuit.isOpen()) return undefined;
      throw err;
    }
  }

  return attempt;
}
