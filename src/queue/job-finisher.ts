/**
 * How a job ends: the outcome record (one pino record, one metric, the BullMQ return value), the
 * dead letter written before the job completes, and the attempt history a job keeps across
 * BullMQ retries (a Redis list with a TTL, only for jobs that failed at least once).
 */
import type { Job } from 'bullmq';
import type { RedisClient } from './redis-connection.js';
import type { AttemptOutcome } from '../dcs/attempt-outcome.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { AttemptRecord, DeadLetterReason, DeadLetters } from './dead-letters.js';
import { QUEUE_NAME, type DeleteJobData, type DeleteJobResult } from './job-contract.js';
import { createRunLedger } from '../runs/run-ledger.js';
import { countRunJobEnd, type RunJobEnds } from '../runs/run-job-hook.js';
import { traceFields } from '../observability/trace-context.js';

const HISTORY_TTL_SEC = 7 * 24 * 3600;

export interface JobFinisherDeps {
  connection: RedisClient;
  prefix: string;
  deadLetters: DeadLetters;
  logger: Logger;
  metrics?: Metrics | undefined;
  /** Where a labelled job's end is counted (default: the run ledger under `prefix`). */
  runs?: RunJobEnds | undefined;
}

export interface JobFinisher {
  /** This run's records, after those of the job's earlier runs. */
  readHistory: (job: Job, current: AttemptRecord[]) => Promise<AttemptRecord[]>;
  /** Keeps this run's records for the job's next run. */
  saveHistory: (job: Job, current: AttemptRecord[]) => Promise<void>;
  deadLetter: (
    job: Job,
    data: unknown,
    reason: DeadLetterReason,
    history: AttemptRecord[],
    last: AttemptOutcome | undefined,
    started: number,
    why?: string,
  ) => Promise<DeleteJobResult>;
  finish: (
    job: Job,
    data: unknown,
    outcome: DeleteJobResult['outcome'],
    last: AttemptOutcome | undefined,
    attempts: number,
    started: number,
    extra?: { reason?: string; dead_letter_id?: string },
  ) => Promise<DeleteJobResult>;
}

export function createJobFinisher(deps: JobFinisherDeps): JobFinisher {
  const { logger, metrics } = deps;
  const historyKey = (jobId: string): string => `${deps.prefix}:${QUEUE_NAME}:history:${jobId}`;
  const runs = deps.runs ?? createRunLedger({ connection: deps.connection, prefix: deps.prefix });

  async function readHistory(job: Job, current: AttemptRecord[]): Promise<AttemptRecord[]> {
    if (job.attemptsMade === 0) return current;
    const earlier = await deps.connection.lrange(historyKey(job.id!), 0, -1);
    return [...earlier.map((s) => JSON.parse(s) as AttemptRecord), ...current];
  }

  async function saveHistory(job: Job, current: AttemptRecord[]): Promise<void> {
    if (current.length === 0) return;
    const key = historyKey(job.id!);
    await deps.connection
      .multi()
      .rpush(key, ...current.map((h) => JSON.stringify(h)))
      .expire(key, HISTORY_TTL_SEC)
      .exec();
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
        error_msg: describeFailure(why, last?.errorMsg),
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
    const d = (typeof data === 'object' && data !== null ? data : {}) as Partial<DeleteJobData>;
    const trace = traceFields(typeof d.traceparent === 'string' ? d.traceparent : undefined);
    const result: DeleteJobResult = {
      outcome,
      http_status: last?.status ?? null,
      error_code: last?.errorCode ?? null,
      request_id: last?.requestId ?? null,
      attempts,
      duration_ms: Math.round(performance.now() - started),
      ...extra,
      ...(trace.trace_id === undefined ? {} : { trace_id: trace.trace_id }),
    };
    await countRunJobEnd(runs, data, job.id, outcome);
    metrics?.deletions.inc({ outcome });
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
    if (outcome === 'dead_lettered') logger.error(record, 'job dead-lettered');
    else logger.info(record, outcome === 'deleted' ? 'task deleted' : 'task already gone');
    return result;
  }

  return { readHistory, saveHistory, deadLetter, finish };
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
