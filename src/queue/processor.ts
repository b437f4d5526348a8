/**
 * The job processor: one deletion, start to end. The job lifecycle:
 *
 *   payload unreadable or invalid .............. dead letter `invalid_job` saying why (the worker never crashes)
 *   started more than policy.maxStarts times ... dead letter `requeue_limit`
 *   breaker open / shutting down ............... back to wait, no attempt spent, nothing sent
 *   DELETE (+ in-process retries) -> verdict:
 *     deleted, already_gone ..................... completed with that outcome
 *     rejected .................................. dead letter `rejected`, completed
 *     retry ..................................... BullMQ retry with full-jitter backoff;
 *                                                 on the last attempt, dead letter `retries_exhausted`
 *     busy ...................................... delayed by the busy floor, no attempt spent
 *     throttled ................................. whole queue rate-limited, job back to wait, no attempt spent
 *     auth_failed, misconfigured ................ breaker opens (queue paused), job back to wait
 *
 * A dead letter is written before its job completes: a crash in between repeats the record, never
 * loses it. Every finished job logs one `outcome` record.
 */
import { DelayedError, Worker, type Job, type Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import pRetry, { AbortError } from 'p-retry';
import { setTimeout as sleep } from 'node:timers/promises';
import { QUEUE_NAME, parseJobData, type DeleteJobData, type DeleteJobResult } from './job-contract.js';
import type { AttemptRecord, DeadLetterReason, DeadLetters } from './dead-letters.js';
import type { CircuitBreaker } from './circuit-breaker.js';
import {
  busyDelayMs,
  fullJitterMs,
  throttleDelayMs,
  backoffDelayMs,
  type RetryPolicy,
} from './retry-policy.js';
import type { AttemptOutcome } from '../dcs/attempt-outcome.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { createCredentialGate, type TaskDeleter } from './credential-gate.js';
import { findUnreadableProblem } from './unreadable-jobs.js';

export interface ProcessorDeps {
  /** The DCS client for a job's region (one per endpoint, cached by the caller). */
  getClient(region: string | undefined): TaskDeleter;
  queue: Queue;
  connection: Redis;
  prefix: string;
  deadLetters: DeadLetters;
  circuit: CircuitBreaker;
  policy: RetryPolicy;
  logger: Logger;
  metrics?: Metrics | undefined;
}

/** Thrown to hand a job back to BullMQ for a backoff retry; the backoff strategy reads `delayMs`. */
export class RetryLaterError extends Error {
  constructor(
    message: string,
    readonly delayMs: number,
  ) {
    super(message);
    this.name = 'RetryLaterError';
  }
}

class TransientAttempt extends Error {
  constructor(readonly outcome: AttemptOutcome) {
    super(outcome.verdict.reason);
  }
}

export type Processor = (job: Job, token?: string, signal?: AbortSignal) => Promise<DeleteJobResult>;

export function createProcessor(deps: ProcessorDeps): Processor {
  const { policy, logger, metrics, circuit } = deps;
  const gate = createCredentialGate();
  circuit.onClose(() => gate.reset());
  const historyKey = (jobId: string): string => `${deps.prefix}:${QUEUE_NAME}:history:${jobId}`;

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
    const send = () => sendOnce(client, ref, history, signal);
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
            metrics?.retries.inc({ reason: error.outcome.verdict.reason });
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

  async function readHistory(job: Job, current: AttemptRecord[]): Promise<AttemptRecord[]> {
    if (job.attemptsMade === 0) return current;
    const earlier = await deps.connection.lrange(historyKey(job.id!), 0, -1);
    return [...earlier.map((s) => JSON.parse(s) as AttemptRecord), ...current];
  }

  async function deadLetter(
    job: Job,
    data: unknown,
    reason: DeadLetterReason,
    history: AttemptRecord[],
    last: AttemptOutcome | undefined,
    started: number,
    why?: string,
  ): Promise<DeleteJobResult> {
    const all = reason === 'invalid_job' ? history : await readHistory(job, history);
    const id = await deps.deadLetters.add(
      {
        job_id: job.id!,
        job_data: reason === 'invalid_job' ? truncatePayload(data) : data,
        reason,
        http_status: last?.status ?? null,
        error_code: last?.errorCode ?? null,
        error_msg: last?.errorMsg ?? why ?? null,
        request_id: last?.requestId ?? null,
        attempts: all.length,
        history: all,
        first_attempt_at: all[0]?.at ?? null,
        last_attempt_at: all.at(-1)?.at ?? null,
      },
      `${job.id!}-${job.attemptsStarted}`,
    );
    return finish(job, data, 'dead_lettered', last, all.length, started, { reason, dead_letter_id: id });
  }

  async function finish(
    job: Job,
    data: unknown,
    outcome: DeleteJobResult['outcome'],
    last: AttemptOutcome | undefined,
    attempts: number,
    started: number,
    extra: { reason?: string; dead_letter_id?: string } = {},
  ): Promise<DeleteJobResult> {
    if (job.attemptsMade > 0) await deps.connection.del(historyKey(job.id!));
    const result: DeleteJobResult = {
      outcome,
      http_status: last?.status ?? null,
      error_code: last?.errorCode ?? null,
      request_id: last?.requestId ?? null,
      attempts,
      duration_ms: Math.round(performance.now() - started),
      ...extra,
    };
    metrics?.deletions.inc({ outcome });
    const d = (typeof data === 'object' && data !== null ? data : {}) as Partial<DeleteJobData>;
    const record = {
      job_id: job.id,
      project_id: d.project_id,
      instance_id: d.instance_id,
      task_id: d.task_id,
      region: d.region,
      run_id: d.run_id,
      ...result,
    };
    if (outcome === 'dead_lettered') logger.error(record, 'job dead-lettered');
    else logger.info(record, outcome === 'deleted' ? 'task deleted' : 'task already gone');
    return result;
  }

  /** Puts the job back in wait without spending an attempt. */
  async function requeue(job: Job, token: string | undefined, why: string): Promise<never> {
    await job.moveToWait(token);
    throw new DelayedError(`requeued: ${why}`);
  }

  return async function processDeleteJob(job, token, signal) {
    const started = performance.now();
    let data: DeleteJobData;
    try {
      const unreadable = findUnreadableProblem(job);
      if (unreadable !== undefined) throw new Error(unreadable);
      data = parseJobData(job.data);
    } catch (err) {
      const why = (err as Error).message;
      logger.warn({ job_id: job.id, err: why }, 'invalid job payload');
      return deadLetter(job, job.data, 'invalid_job', [], undefined, started, why);
    }
    if (job.attemptsStarted > policy.maxStarts) {
      const why = `started ${job.attemptsStarted} times, more than ${policy.maxStarts}`;
      return deadLetter(job, data, 'requeue_limit', [], undefined, started, why);
    }
    // A job handed out while the local view says open: the queue ran, so the view may be stale.
    if (circuit.isOpen() && (await circuit.refresh())) return requeue(job, token, 'circuit open');

    const client = deps.getClient(data.region);
    const failed = await gate.check(client, data.project_id);
    if (failed) return openCircuit(job, token, data, failed);

    const history: AttemptRecord[] = [];
    const outcome = await attempt(client, data, history, signal);
    if (outcome === undefined || signal?.aborted)
      return requeue(job, token, signal?.aborted ? 'shutdown' : 'circuit open');
    const { action, reason } = outcome.verdict;
    switch (action) {
      case 'deleted':
      case 'already_gone': {
        const earlier = job.attemptsMade > 0 ? await readHistory(job, history) : history;
        return finish(job, data, action, outcome, earlier.length, started);
      }
      case 'rejected':
        return deadLetter(job, data, 'rejected', history, outcome, started);
      case 'retry': {
        if (job.attemptsMade + 1 >= (job.opts.attempts ?? 1)) {
          return deadLetter(job, data, 'retries_exhausted', history, outcome, started);
        }
        const key = historyKey(job.id!);
        await deps.connection
          .multi()
          .rpush(key, ...history.map((h) => JSON.stringify(h)))
          .expire(key, 7 * 24 * 3600)
          .exec();
        const delayMs = backoffDelayMs(policy, job.attemptsMade + 1);
        metrics?.retries.inc({ reason });
        logger.warn(
          { job_id: job.id, task_id: data.task_id, reason, delay_ms: delayMs, attempt: job.attemptsMade + 1 },
          'retry scheduled',
        );
        throw new RetryLaterError(`retry: ${reason}`, delayMs);
      }
      case 'busy': {
        const delayMs = busyDelayMs(policy);
        metrics?.retries.inc({ reason: 'busy' });
        logger.warn(
          { job_id: job.id, task_id: data.task_id, reason, delay_ms: delayMs, error_code: outcome.errorCode },
          'retry scheduled',
        );
        await job.moveToDelayed(Date.now() + delayMs, token);
        throw new DelayedError(`busy: ${reason}`);
      }
      case 'throttled': {
        const delayMs = throttleDelayMs(policy, outcome.retryAfterMs);
        metrics?.throttleWaits.inc();
        metrics?.throttleWaitSeconds.inc(delayMs / 1000);
        logger.warn(
          { job_id: job.id, task_id: data.task_id, reason, delay_ms: delayMs, request_id: outcome.requestId },
          'throttled: queue rate-limited',
        );
        // A shorter wait must not cut short a longer one another job set (Retry-After: 60 vs jittered 2 s).
        // Only a pause counts: the limiter key also holds the per-second counter, whose TTL is no pause.
        const pausedForMs = await deps.queue.getRateLimitTtl(Number.MAX_SAFE_INTEGER);
        if (pausedForMs < delayMs) await deps.queue.rateLimit(delayMs);
        throw Worker.RateLimitError();
      }
      case 'auth_failed':
      case 'misconfigured':
        return openCircuit(job, token, data, outcome);
    }
  };

  async function openCircuit(
    job: Job,
    token: string | undefined,
    data: DeleteJobData,
    o: AttemptOutcome,
  ): Promise<never> {
    const first = await circuit.open({
      action: o.verdict.action,
      reason: o.verdict.reason,
      http_status: o.status,
      error_code: o.errorCode,
      request_id: o.requestId,
      project_id: data.project_id,
      region: data.region,
    });
    metrics?.circuitOpen.set(1);
    if (first) {
      logger.fatal(
        {
          job_id: job.id,
          action: o.verdict.action,
          http_status: o.status ?? null,
          error_code: o.errorCode ?? null,
          request_id: o.requestId ?? null,
        },
        o.verdict.action === 'auth_failed'
          ? 'DCS rejected the credentials: queue paused so the AK/SK does not get locked; fix CLOUD_SDK_AK/SK, then the probe (or `dcs-cleanup resume`) resumes it'
          : 'DCS endpoint or path is wrong: queue paused; fix DCS_ENDPOINT/DCS_REGION, then the probe (or `dcs-cleanup resume`) resumes it',
      );
    }
    return requeue(job, token, o.verdict.action);
  }
}

function truncatePayload(data: unknown): unknown {
  let text: string;
  try {
    text = JSON.stringify(data) ?? 'undefined';
  } catch {
    return '[unserialisable payload]';
  }
  return text.length <= 4096 ? data : `${text.slice(0, 4096)}…`;
}
