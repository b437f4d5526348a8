/**
 * The dead-letter queue: a BullMQ queue (`dcs-cleanup-dead`) that no worker consumes. Each record
 * is one job whose data is a DeadLetterRecord. Records are written before the original job is
 * finished, so a crash in between can duplicate a record but never lose one.
 */
import { Queue, type Job } from 'bullmq';
import type { RedisClient } from './redis-connection.js';
import { hostname } from 'node:os';
import { DEAD_LETTER_QUEUE_NAME, parseTaskInput, type DeleteJobData } from './job-contract.js';
import type { Producer } from './producer.js';
import { CleanupError } from '../errors.js';

export const DEAD_LETTER_REASONS = [
  'rejected',
  'retries_exhausted',
  'invalid_job',
  'requeue_limit',
  'stalled',
] as const;
export type DeadLetterReason = (typeof DEAD_LETTER_REASONS)[number];

export interface AttemptRecord {
  at: string;
  action: string;
  http_status: number | null;
  error_code: string | null;
  request_id: string | null;
  duration_ms: number;
  network_error?: string;
}

export interface DeadLetterRecord {
  job_id: string;
  /** The original payload (for `invalid_job`, as found, cut to 4 KiB of JSON). */
  job_data: unknown;
  reason: DeadLetterReason;
  http_status: number | null;
  error_code: string | null;
  error_msg: string | null;
  request_id: string | null;
  attempts: number;
  history: AttemptRecord[];
  first_attempt_at: string | null;
  last_attempt_at: string | null;
  worker_host: string;
  dead_lettered_at: string;
}

export interface DeadLetterEntry extends DeadLetterRecord {
  id: string;
}

export interface DeadLetterFilter {
  reason?: string;
  errorCode?: string;
}

export interface ReplayResult {
  replayed: { id: string; job_id: string; duplicate: boolean }[];
  skipped: { id: string; error: string }[];
}

export interface DeadLetters {
  readonly queue: Queue;
  add(record: Omit<DeadLetterRecord, 'worker_host' | 'dead_lettered_at'>, idHint: string): Promise<string>;
  list(filter?: DeadLetterFilter, limit?: number): Promise<DeadLetterEntry[]>;
  get(id: string): Promise<DeadLetterEntry | undefined>;
  count(): Promise<number>;
  /** Re-enqueues the records as fresh jobs, removing each record only once its job is in Redis. */
  replay(ids: string[] | 'all', producer: Producer, filter?: DeadLetterFilter): Promise<ReplayResult>;
  /** Removes records dead-lettered more than `olderThanMs` ago (all when undefined). */
  purge(olderThanMs?: number): Promise<number>;
  close(): Promise<void>;
}

const PAGE = 500;

export function createDeadLetters(options: { connection: RedisClient; prefix: string }): DeadLetters {
  const queue = new Queue<DeadLetterRecord>(DEAD_LETTER_QUEUE_NAME, {
    connection: options.connection,
    prefix: options.prefix,
  });
  // Connection errors fail the calls that need Redis; unheard, BullMQ prints each with its stack.
  queue.on('error', () => undefined);
  const host = hostname();

  async function* all(): AsyncGenerator<Job<DeadLetterRecord>> {
    for (let start = 0; ; start += PAGE) {
      const jobs = await queue.getJobs(['wait', 'delayed'], start, start + PAGE - 1, true);
      for (const job of jobs) if (job) yield job;
      if (jobs.length < PAGE) return;
    }
  }

  const matches = (r: DeadLetterRecord, f: DeadLetterFilter = {}): boolean =>
    (f.reason === undefined || r.reason === f.reason) &&
    (f.errorCode === undefined || r.error_code === f.errorCode);

  async function replayOne(
    job: Job<DeadLetterRecord>,
    producer: Producer,
  ): Promise<ReplayResult['replayed'][number]> {
    const task = parseTaskInput(job.data.job_data, 'job_data');
    const data = job.data.job_data as Partial<DeleteJobData>;
    // A finished original still holds its job id (dedupe window): remove it so the replay is a fresh job.
    const original = await producer.queue.getJob(job.data.job_id);
    const state = original ? await original.getState() : 'unknown';
    if (original && (state === 'completed' || state === 'failed')) await original.remove();
    const enqueued = await producer.enqueue(task, {
      reason: data.reason ?? 'replay',
      source: 'dlq-replay',
      ...(data.run_id === undefined ? {} : { runId: data.run_id }),
    });
    await job.remove();
    return { id: job.id!, job_id: enqueued.job_id, duplicate: enqueued.duplicate };
  }

  return {
    queue,
    async add(record, idHint) {
      const full: DeadLetterRecord = {
        ...record,
        worker_host: host,
        dead_lettered_at: new Date().toISOString(),
      };
      const job = await queue.add('dead-letter', full, { jobId: `dl-${idHint}`, removeOnComplete: true });
      return job.id!;
    },
    async list(filter, limit = Number.POSITIVE_INFINITY) {
      const out: DeadLetterEntry[] = [];
      for await (const job of all()) {
        if (out.length >= limit) break;
        if (matches(job.data, filter)) out.push({ id: job.id!, ...job.data });
      }
      return out;
    },
    async get(id) {
      const job = await queue.getJob(id);
      return job ? { id: job.id!, ...job.data } : undefined;
    },
    count: () => queue.getJobCountByTypes('wait', 'delayed'),
    async replay(ids, producer, filter) {
      const result: ReplayResult = { replayed: [], skipped: [] };
      const jobs: Job<DeadLetterRecord>[] = [];
      if (ids === 'all') {
        for await (const job of all()) if (matches(job.data, filter)) jobs.push(job);
      } else {
        for (const id of ids) {
          const job = await queue.getJob(id);
          if (job) jobs.push(job);
          else result.skipped.push({ id, error: 'no such dead letter' });
        }
      }
      for (const job of jobs) {
        try {
          result.replayed.push(await replayOne(job, producer));
        } catch (err) {
          result.skipped.push({ id: job.id!, error: err instanceof Error ? err.message : String(err) });
        }
      }
      return result;
    },
    async purge(olderThanMs) {
      const cutoff = olderThanMs === undefined ? Number.POSITIVE_INFINITY : Date.now() - olderThanMs;
      const doomed: Job<DeadLetterRecord>[] = [];
      for await (const job of all()) if (Date.parse(job.data.dead_lettered_at) <= cutoff) doomed.push(job);
      for (const job of doomed) await job.remove();
      return doomed.length;
    },
    async close() {
      await queue.close();
    },
  };
}

/** Raises NOT_FOUND for a dead letter id that does not exist. */
export function notFound(id: string): CleanupError {
  return new CleanupError('NOT_FOUND', `no dead letter with id ${JSON.stringify(id)}`, { field: 'id' });
}
