import { Job, type Queue } from 'bullmq';
import type { RedisClient } from './redis-connection.js';
import type { DeadLetters } from './dead-letters.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { createRunLedger } from '../runs/run-ledger.js';
import { countRunJobEnd, type RunJobEnds } from '../runs/run-job-hook.js';

export interface StuckJobSweepDeps {
  connection: RedisClient;
  queue: Queue;
  deadLetters: DeadLetters;
  logger: Logger;
  metrics?: Metrics | undefined;
  /** Where a labelled job's end is counted (default: the run ledger under the queue's prefix). */
  runs?: RunJobEnds | undefined;
}

/** Jobs moved per sweep. */
const PAGE = 100;
/** Longest stored field kept in the dead letter of a job that cannot be read. */
const MAX_RAW_FIELD_CHARS = 2_048;

/**
 * Moves jobs that would otherwise sit forever into the dead letters, one by one:
 * - `failed` jobs: nothing the processor throws fails a job for good, so these came from BullMQ
 *   itself (stalled too often, a foreign producer's attempts): dead letter `stalled`;
 * - jobs BullMQ cannot read (a foreign client wrote options that are not JSON): a worker cannot even
 *   fetch them, so they sit in `active` until their lock expires, go back to wait, and are fetched
 *   again, for ever. Found in `active` or `failed`: dead letter `invalid_job`, then removed.
 * One unreadable job never keeps the others from being swept.
 */
export function createStuckJobSweep(deps: StuckJobSweepDeps): () => Promise<void> {
  const { connection, queue, deadLetters, logger } = deps;
  const runs = deps.runs ?? createRunLedger({ connection, prefix: queue.opts.prefix ?? 'bull' });

  async function sweepReadable(job: Job): Promise<void> {
    await deadLetters.add(
      {
        job_id: job.id!,
        job_data: job.data,
        reason: 'stalled',
        http_status: null,
        error_code: null,
        error_msg: job.failedReason?.slice(0, 512) ?? null,
        request_id: null,
        attempts: job.attemptsMade,
        history: [],
        first_attempt_at: job.processedOn ? new Date(job.processedOn).toISOString() : null,
        last_attempt_at: job.finishedOn ? new Date(job.finishedOn).toISOString() : null,
      },
      `${job.id!}-failed-${job.attemptsStarted}`,
    );
    await job.remove();
    await countRunJobEnd(runs, job.data, job.id, 'dead_lettered');
    deps.metrics?.deletions.inc({ outcome: 'dead_lettered' });
    logger.error(
      { outcome: 'dead_lettered', job_id: job.id, reason: 'stalled', failed_reason: job.failedReason },
      'job dead-lettered',
    );
  }

  async function sweepUnreadable(id: string, problem: string): Promise<void> {
    const raw = await connection.hgetall(queue.toKey(id));
    const fields = Object.fromEntries(
      ['name', 'data', 'opts']
        .filter((k) => raw[k] !== undefined)
        .map((k) => [k, raw[k]!.slice(0, MAX_RAW_FIELD_CHARS)]),
    );
    const why = `the stored job is not readable (${problem})`;
    await deadLetters.add(
      {
        job_id: id,
        job_data: fields,
        reason: 'invalid_job',
        http_status: null,
        error_code: null,
        error_msg: why.slice(0, 512),
        request_id: null,
        attempts: 0,
        history: [],
        first_attempt_at: null,
        last_attempt_at: null,
      },
      `${id}-unreadable`,
    );
    // Nobody holds it: the worker that took it could not build it, so its lock is only a leftover.
    await connection.del(`${queue.toKey(id)}:lock`);
    await queue.remove(id);
    deps.metrics?.deletions.inc({ outcome: 'dead_lettered' });
    logger.error(
      { outcome: 'dead_lettered', job_id: id, reason: 'invalid_job', err: why },
      'job dead-lettered',
    );
  }

  /** The job, undefined when it is gone, or why it cannot be read. */
  async function read(id: string): Promise<Job | undefined | { problem: string }> {
    try {
      return await Job.fromId(queue, id);
    } catch (err) {
      return { problem: err instanceof Error ? err.message : String(err) };
    }
  }

  return async function sweep() {
    for (const id of await connection.lrange(queue.toKey('active'), 0, PAGE - 1)) {
      const job = await read(id);
      if (job !== undefined && 'problem' in job) await sweepUnreadable(id, job.problem);
    }
    for (const id of await connection.zrange(queue.toKey('failed'), 0, PAGE - 1)) {
      const job = await read(id);
      if (job === undefined) continue;
      if ('problem' in job) await sweepUnreadable(id, job.problem);
      else await sweepReadable(job);
    }
  };
}
