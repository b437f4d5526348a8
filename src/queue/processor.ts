/**
 * The job processor: one deletion, start to end. The job lifecycle:
 *
 *   payload unreadable or invalid .............. dead letter `invalid_job` saying why (the worker never crashes)
 *   account unknown, or another queue's ........ dead letter `invalid_job` naming the account
 *   started more than policy.maxStarts times ... dead letter `requeue_limit`
 *   breaker open / shutting down ............... back to wait, no attempt spent, nothing sent
 *   DELETE (+ in-process retries) -> verdict:
 *     deleted, already_gone ..................... completed with that outcome
 *     rejected .................................. dead letter `rejected`, completed
 *     retry ..................................... BullMQ retry with full-jitter backoff (JobRun.retryLater);
 *                                                 on the last attempt, dead letter `retries_exhausted`
 *     busy ...................................... delayed by the busy floor, no attempt spent
 *     throttled ................................. rate gate told (auto: rate cut), job back to wait, no attempt
 *                                                 spent; without a gate (limit off) the whole queue is rate-limited
 *     auth_failed, misconfigured ................ the trusted pair accepted: dead letter `rejected` (the job's
 *                                                 project or region is wrong); else breaker opens (queue
 *                                                 paused), job back to wait (see circuit-probe.ts)
 *     forbidden ................................. breaker opens: the credential lacks a permission
 *
 * The job's own state (data, start, attempts) and its three endings live in its JobRun (job-run.ts).
 */
import { DelayedError, Worker, type Job, type Queue } from 'bullmq';
import type { RedisClient } from './redis-connection.js';
import type { DeleteJobData, DeleteJobResult } from './job-contract.js';
import type { DeadLetters } from './dead-letters.js';
import type { CircuitBreaker } from './circuit-breaker.js';
import { busyDelayMs, type RetryPolicy } from './retry-policy.js';
import { createDeleteAttempts } from './delete-attempts.js';
import { JobRun } from './job-run.js';
import type { AttemptOutcome } from '../dcs/attempt-outcome.js';
import { throttleDelayMs } from '../dcs/retry-loop.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { createCredentialGate, type TaskDeleter } from './credential-gate.js';
import type { TrustedCheck } from './circuit-probe.js';
import { isCleanupError } from '../errors.js';
import type { RunJobEnds } from '../runs/run-job-hook.js';
import { createRunLedger } from '../runs/run-ledger.js';
import type { RateGate } from './rate-control/rate-gate.js';
import { traceJobs } from './job-span.js';

export interface ProcessorDeps {
  /** The DCS client for a job's region (one per endpoint, cached by the caller). */
  getClient(region: string | undefined): TaskDeleter;
  queue: Queue;
  connection: RedisClient;
  prefix: string;
  deadLetters: DeadLetters;
  circuit: CircuitBreaker;
  policy: RetryPolicy;
  logger: Logger;
  metrics?: Metrics | undefined;
  /** Why a job may not run on this account's queue (it names another account), or undefined. */
  accountProblem?: ((data: DeleteJobData) => string | undefined) | undefined;
  /** The configured project and region: a refusal they do not share is about the job, not the key. */
  trusted?: TrustedCheck | undefined;
  /** Where a labelled job's end is counted (default: the run ledger under `prefix`). */
  runs?: RunJobEnds | undefined;
  /** The account's shared rate limiter (a 429 slows it, not the whole queue); absent when the limit is off. */
  rate?: RateGate | undefined;
}

const FATAL_MESSAGES: Partial<Record<string, string>> = {
  auth_failed:
    'DCS rejected the credentials: queue paused so the AK/SK does not get locked; fix CLOUD_SDK_AK/SK, then the probe (or `dcs-cleanup resume`) resumes it',
  misconfigured:
    'DCS endpoint or path is wrong: queue paused; fix DCS_ENDPOINT/DCS_REGION, then the probe (or `dcs-cleanup resume`) resumes it',
  forbidden:
    'DCS refused a permission the credentials lack (403): queue paused; grant it (IAM dcs:instance:deleteBackgroundTask, account not read-only), then the probe (or `dcs-cleanup resume`) resumes it',
};

export type Processor = (job: Job, token?: string, signal?: AbortSignal) => Promise<DeleteJobResult>;

export function createProcessor(deps: ProcessorDeps): Processor {
  const { policy, logger, metrics, circuit } = deps;
  const gate = createCredentialGate();
  circuit.onClose(() => gate.reset());
  const attempt = createDeleteAttempts({ policy, circuit, metrics, rate: deps.rate });
  const runDeps = {
    ...deps,
    runs: deps.runs ?? createRunLedger({ connection: deps.connection, prefix: deps.prefix }),
  };

  /** Puts the job back in wait without spending an attempt. */
  async function requeue(job: Job, token: string | undefined, why: string): Promise<never> {
    await job.moveToWait(token);
    throw new DelayedError(`requeued: ${why}`);
  }

  return traceJobs(async function processDeleteJob(job, token, signal) {
    const run = new JobRun(runDeps, job);
    const data = run.data;
    if (data === undefined) {
      logger.warn({ job_id: job.id, err: run.problem }, 'invalid job payload');
      return run.deadLetter('invalid_job', { why: run.problem });
    }
    const wrongAccount = deps.accountProblem?.(data);
    if (wrongAccount !== undefined) {
      logger.warn({ job_id: job.id, err: wrongAccount }, 'invalid job payload');
      return run.deadLetter('invalid_job', { why: wrongAccount });
    }
    if (job.attemptsStarted > policy.maxStarts) {
      const why = `started ${job.attemptsStarted} times, more than ${policy.maxStarts}`;
      return run.deadLetter('requeue_limit', { why });
    }
    // A job handed out while the local view says open: the queue ran, so the view may be stale.
    if (circuit.isOpen() && (await circuit.refresh())) return requeue(job, token, 'circuit open');

    const client = deps.getClient(data.region);
    let outcome: AttemptOutcome | undefined;
    try {
      const failed = await gate.check(client, data.project_id);
      if (failed) return await refuse(run, token, data, failed);
      outcome = await attempt(client, data, run, signal);
    } catch (err) {
      if (!isCleanupError(err, 'CREDENTIALS_UNAVAILABLE')) throw err;
      return delayWithoutCredentials(job, token, data, err.message);
    }
    if (outcome === undefined || signal?.aborted)
      return requeue(job, token, signal?.aborted ? 'shutdown' : 'circuit open');
    const { action, reason } = outcome.verdict;
    switch (action) {
      case 'deleted':
      case 'already_gone':
        return run.complete(action);
      case 'rejected':
        return run.deadLetter('rejected');
      case 'retry':
        return run.retryLater();
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
        if (deps.rate !== undefined) {
          const perSecond = await deps.rate.throttled(outcome.retryAfterMs);
          logger.warn(
            {
              job_id: job.id,
              task_id: data.task_id,
              reason,
              rate_per_second: perSecond,
              request_id: outcome.requestId,
            },
            'throttled: rate slowed, job requeued',
          );
          return requeue(job, token, 'throttled');
        }
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
        return refuse(run, token, data, outcome);
      case 'forbidden':
        return openCircuit(job, token, data, outcome);
    }
  });

  /** A refusal of this job's project or region alone dead-letters it; any other pauses the queue. */
  async function refuse(
    run: JobRun,
    token: string | undefined,
    data: DeleteJobData,
    o: AttemptOutcome,
  ): Promise<DeleteJobResult> {
    const { trusted } = deps;
    if (trusted !== undefined && !trusted.isTrusted(data.project_id, data.region)) {
      const proof = await trusted.probe();
      if (proof.ok) {
        const { projectId, region } = trusted.pair;
        const why = `${o.verdict.action} (${o.errorCode ?? `HTTP ${o.status ?? 'none'}`}) for project ${data.project_id} in ${data.region ?? region}, while the configured project ${projectId} in ${region} is accepted: this job's project or region is wrong`;
        return run.deadLetter('rejected', { why, last: o });
      }
    }
    return openCircuit(run.job, token, data, o);
  }

  /** No credentials (metadata service or IAM down, file unreadable): later, no attempt spent. */
  async function delayWithoutCredentials(
    job: Job,
    token: string | undefined,
    data: DeleteJobData,
    why: string,
  ): Promise<never> {
    const delayMs = busyDelayMs(policy);
    metrics?.retries.inc({ reason: 'credentials_unavailable' });
    logger.warn(
      {
        job_id: job.id,
        task_id: data.task_id,
        reason: 'credentials_unavailable',
        delay_ms: delayMs,
        err: why,
      },
      'retry scheduled',
    );
    await job.moveToDelayed(Date.now() + delayMs, token);
    throw new DelayedError('credentials unavailable');
  }

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
      instance_id: data.instance_id,
      task_id: data.task_id,
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
        FATAL_MESSAGES[o.verdict.action] ?? FATAL_MESSAGES.misconfigured!,
      );
    }
    return requeue(job, token, o.verdict.action);
  }
}
