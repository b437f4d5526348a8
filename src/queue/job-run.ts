/**
 * One run of one deletion job: its data, when it started, and the DELETE attempts it made, with those
 * of the job's earlier runs (kept across BullMQ retries in a Redis list with a TTL, only for jobs that
 * failed at least once; this file is the only one that touches that list). A run ends one of three
 * ways, each a method: `complete` (deleted, already gone), `deadLetter` (the dead letter is written
 * before the job completes: a crash in between repeats the record, never loses it) and `retryLater`
 * (back to BullMQ, whose backoff strategy below is the one place that computes the delay). Every
 * finished run logs one `outcome` record and counts it. Words: docs/architecture.md "Outcome vocabulary".
 */
import type { Job } from 'bullmq';
import type { RedisClient } from './redis-connection.js';
import type { AttemptOutcome } from '../dcs/attempt-outcome.js';
import type { Logger } from '../observability/logger.js';
import { retryReasonLabel, type Metrics } from '../observability/metrics.js';
import type { AttemptRecord, DeadLetterReason, DeadLetters } from './dead-letters.js';
import { BACKOFF_TYPE, parseJobData, type DeleteJobData, type DeleteJobResult } from './job-contract.js';
import { findUnreadableProblem } from './unreadable-jobs.js';
import { backoffDelayMs, type RetryPolicy } from './retry-policy.js';
import { countRunJobEnd, type RunJobEnds } from '../runs/run-job-hook.js';
import { traceFields } from '../observability/trace-context.js';

const HISTORY_TTL_SEC = 7 * 24 * 3600;

export interface JobRunDeps {
  connection: RedisClient;
  prefix: string;
  deadLetters: DeadLetters;
  logger: Logger;
  metrics?: Metrics | undefined;
  /** Where the end of a job that belongs to a run is counted (the run ledger). */
  runs: RunJobEnds;
}

/** Thrown to hand a job back to BullMQ for a backoff retry; carries the fields of its `retry scheduled` record. */
export class RetryLaterError extends Error {
  constructor(
    message: string,
    readonly logFields: { job_id: string | undefined; task_id: string; reason: string },
  ) {
    super(message);
    this.name = 'RetryLaterError';
  }
}

/** BullMQ's backoff strategy for the worker: the one computation of a retried job's delay. */
export function createBackoffStrategy(
  policy: RetryPolicy,
  logger: Logger,
): (attemptsMade: number, type?: string, err?: Error) => number {
  return (attemptsMade, type, err) => {
    const announced = err instanceof RetryLaterError;
    if (type !== BACKOFF_TYPE && !announced) return 0;
    const delayMs = backoffDelayMs(policy, attemptsMade);
    if (announced) {
      const { job_id, task_id, reason } = err.logFields;
      logger.warn({ job_id, task_id, reason, delay_ms: delayMs, attempt: attemptsMade }, 'retry scheduled');
    }
    return delayMs;
  };
}

export class JobRun {
  /** The valid payload; undefined when it is unreadable or invalid, and then `problem` says why. */
  readonly data: DeleteJobData | undefined;
  readonly problem: string | undefined;
  private readonly started = performance.now();
  private readonly attempts: AttemptRecord[] = [];
  private last: AttemptOutcome | undefined;

  constructor(
    private readonly deps: JobRunDeps,
    readonly job: Job,
  ) {
    try {
      this.problem = findUnreadableProblem(job);
      if (this.problem === undefined) this.data = parseJobData(job.data);
    } catch (err) {
      this.problem = (err as Error).message;
    }
  }

  /** One DELETE sent at `at` (epoch ms) and what it produced. */
  record(outcome: AttemptOutcome, at: number): void {
    this.last = outcome;
    this.attempts.push(toRecord(outcome, at));
  }

  async complete(outcome: 'deleted' | 'already_gone'): Promise<DeleteJobResult> {
    // Most jobs end at their first run, with nothing earlier to read.
    const count = this.job.attemptsMade === 0 ? this.attempts.length : (await this.allAttempts()).length;
    return this.end(outcome, count, this.last);
  }

  /** `last` defaults to the last attempt recorded (a refused credential check passes its probe's). */
  async deadLetter(
    reason: DeadLetterReason,
    details: { why?: string | undefined; last?: AttemptOutcome } = {},
  ): Promise<DeleteJobResult> {
    const { job } = this;
    const last = details.last ?? this.last;
    const invalid = reason === 'invalid_job';
    const all = invalid ? this.attempts : await this.allAttempts();
    const id = await this.deps.deadLetters.add(
      {
        job_id: job.id!,
        job_data: invalid ? truncatePayload(job.data) : (this.data ?? job.data),
        reason,
        http_status: last?.status ?? null,
        error_code: last?.errorCode ?? null,
        error_msg: describeFailure(details.why, last?.errorMsg),
        request_id: last?.requestId ?? null,
        attempts: all.length,
        history: all,
        first_attempt_at: all[0]?.at ?? null,
        last_attempt_at: all.at(-1)?.at ?? null,
      },
      `${job.id!}-${job.attemptsStarted}`,
    );
    return this.end('dead_lettered', all.length, last, { reason, dead_letter_id: id });
  }

  /** Dead-letters `retries_exhausted` on the job's last attempt; otherwise throws RetryLaterError to BullMQ. */
  async retryLater(): Promise<DeleteJobResult> {
    const { job, last } = this;
    if (job.attemptsMade + 1 >= (job.opts.attempts ?? 1)) return this.deadLetter('retries_exhausted');
    if (this.attempts.length > 0) {
      const key = this.historyKey();
      await this.deps.connection
        .multi()
        .rpush(key, ...this.attempts.map((h) => JSON.stringify(h)))
        .expire(key, HISTORY_TTL_SEC)
        .exec();
    }
    const reason = last?.verdict.reason ?? 'unknown';
    if (last !== undefined) this.deps.metrics?.retries.inc({ reason: retryReasonLabel(last) });
    throw new RetryLaterError(`retry: ${reason}`, {
      job_id: job.id,
      task_id: this.data?.task_id ?? '',
      reason,
    });
  }

  private historyKey(): string {
    // Under the job's own queue (one per account): the same task queued for two accounts keeps two histories.
    return `${this.deps.prefix}:${this.job.queueName}:history:${this.job.id!}`;
  }

  /** This run's attempts, after those of the job's earlier runs. */
  private async allAttempts(): Promise<AttemptRecord[]> {
    if (this.job.attemptsMade === 0) return this.attempts;
    const earlier = await this.deps.connection.lrange(this.historyKey(), 0, -1);
    return [...earlier.map((s) => JSON.parse(s) as AttemptRecord), ...this.attempts];
  }

  /** The outcome record, its count, and BullMQ's return value. */
  private async end(
    outcome: DeleteJobResult['outcome'],
    count: number,
    last: AttemptOutcome | undefined,
    extra: { reason?: string; dead_letter_id?: string } = {},
  ): Promise<DeleteJobResult> {
    const { job, deps } = this;
    if (job.attemptsMade > 0) await deps.connection.del(this.historyKey());
    const payload: unknown = this.data ?? job.data;
    const d = (typeof payload === 'object' && payload !== null ? payload : {}) as Partial<DeleteJobData>;
    const trace = traceFields(typeof d.traceparent === 'string' ? d.traceparent : undefined);
    const result: DeleteJobResult = {
      outcome,
      http_status: last?.status ?? null,
      error_code: last?.errorCode ?? null,
      request_id: last?.requestId ?? null,
      attempts: count,
      duration_ms: Math.round(performance.now() - this.started),
      ...extra,
      ...(trace.trace_id === undefined ? {} : { trace_id: trace.trace_id }),
    };
    await countRunJobEnd(deps.runs, payload, job.id, outcome);
    deps.metrics?.deletions.inc({ outcome });
    const record = {
      job_id: job.id,
      project_id: d.project_id,
      instance_id: d.instance_id,
      task_id: d.task_id,
      region: d.region,
      run_id: d.run_id,
      ...result,
      ...trace,
    };
    if (outcome === 'dead_lettered') deps.logger.error(record, 'job dead-lettered');
    else deps.logger.info(record, outcome === 'deleted' ? 'task deleted' : 'task already gone');
    return result;
  }
}

/** An attempt as stored in a job's history and its dead letter. */
function toRecord(o: AttemptOutcome, at: number): AttemptRecord {
  return {
    at: new Date(at).toISOString(),
    action: o.verdict.action,
    http_status: o.status ?? null,
    error_code: o.errorCode ?? null,
    request_id: o.requestId ?? null,
    duration_ms: Math.round(o.durationMs),
    ...(o.networkError === undefined ? {} : { network_error: o.networkError }),
  };
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

/** Our own why first (when there is one), then what DCS said. */
function describeFailure(why: string | undefined, dcsMessage: string | undefined): string | null {
  if (why !== undefined && dcsMessage !== undefined) return `${why} (DCS: ${dcsMessage})`;
  return why ?? dcsMessage ?? null;
}
