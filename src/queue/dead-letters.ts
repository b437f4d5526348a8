/**
 * The dead-letter queue: a BullMQ queue (`dcs-cleanup-dead`) that no worker consumes. Each record
 * is one job whose data is a DeadLetterRecord. Records are written before the original job is
 * finished, so a crash in between can duplicate a record but never lose one. Sorted sets index them
 * by time, reason and error code (dead-letter-index.ts): filters and retention read only those.
 */
import { Queue, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { hostname } from 'node:os';
import { DEAD_LETTER_QUEUE_NAME } from './job-contract.js';
import { enqueueReplay } from './enqueue-replay.js';
import type { Producer } from './producer.js';
import { CleanupError } from '../errors.js';
import { createDeadLetterIndex, type DeadLetterIndex, type IndexEntry } from './dead-letter-index.js';

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

/** One page of a listing; `next` resumes it where it stopped (absent when nothing is left). */
export interface DeadLetterPage {
  entries: DeadLetterEntry[];
  next?: number;
}

export interface DeadLetters {
  readonly queue: Queue;
  readonly index: DeadLetterIndex;
  add(record: Omit<DeadLetterRecord, 'worker_host' | 'dead_lettered_at'>, idHint: string): Promise<string>;
  list(filter?: DeadLetterFilter, limit?: number): Promise<DeadLetterEntry[]>;
  /**
   * Up to `limit` matching records, oldest first, from `cursor` on. A filtered page reads its index
   * and at most MAX_SCAN_PER_PAGE records, whatever the total: `next` continues a sparse match.
   */
  page(filter: DeadLetterFilter, limit: number, cursor?: number): Promise<DeadLetterPage>;
  /** Removes these records (and their index entries); resolves how many existed. */
  drop(ids: string[]): Promise<number>;
  /** Indexes the records written before the indexes existed, once; resolves how many it indexed. */
  backfillIndex(): Promise<number>;
  get(id: string): Promise<DeadLetterEntry | undefined>;
  count(): Promise<number>;
  /** Re-enqueues the records as fresh jobs, removing each record only once its job is in Redis. */
  replay(ids: string[] | 'all', producer: Producer, filter?: DeadLetterFilter): Promise<ReplayResult>;
  /** Removes records dead-lettered more than `olderThanMs` ago (all when undefined). */
  purge(olderThanMs?: number): Promise<number>;
  close(): Promise<void>;
}

const PAGE = 500;
/** Most index entries one filtered page reads before it answers with a `next` cursor. */
export const MAX_SCAN_PER_PAGE = 5_000;

const toIndexEntry = (id: string, r: DeadLetterRecord): IndexEntry => ({
  id,
  reason: r.reason,
  errorCode: r.error_code,
  atMs: Date.parse(r.dead_lettered_at) || 0,
});

export interface DeadLettersOptions {
  connection: Redis;
  prefix: string;
  /** Clock for `dead_lettered_at` (default Date.now). */
  now?: () => number;
}

export function createDeadLetters(options: DeadLettersOptions): DeadLetters {
  const queue = new Queue<DeadLetterRecord>(DEAD_LETTER_QUEUE_NAME, {
    connection: options.connection,
    prefix: options.prefix,
  });
  // Connection errors fail the calls that need Redis; unheard, BullMQ prints each with its stack.
  queue.on('error', () => undefined);
  const host = hostname();
  const index = createDeadLetterIndex(options.connection, queue);

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
    const enqueued = await enqueueReplay(job.data, producer);
    await job.remove();
    await index.remove([toIndexEntry(job.id!, job.data)]);
    return { id: job.id!, job_id: enqueued.job_id, duplicate: enqueued.duplicate };
  }

  /** The records at ranks [offset, offset + count) of an index; ids without a record are dropped from it. */
  async function readIndexed(key: string, offset: number, count: number) {
    const ids = await index.range(key, offset, count);
    const jobs = await Promise.all(
      ids.map((id) => queue.getJob(id) as Promise<Job<DeadLetterRecord> | undefined>),
    );
    const dangling = ids.filter((_, i) => jobs[i] === undefined);
    // Their reason and code are unknown: remove them from the set read and the time set.
    if (dangling.length > 0) {
      await options.connection.zrem(key, ...dangling);
      await index.remove(dangling.map((id) => ({ id, reason: '', errorCode: null })));
    }
    return { ids, jobs };
  }

  async function drop(ids: string[]): Promise<number> {
    const jobs = await Promise.all(
      ids.map((id) => queue.getJob(id) as Promise<Job<DeadLetterRecord> | undefined>),
    );
    const found = jobs.filter((j): j is Job<DeadLetterRecord> => j !== undefined);
    await Promise.all(found.map((job) => job.remove()));
    await index.remove([
      ...found.map((job) => toIndexEntry(job.id!, job.data)),
      ...ids.filter((_, i) => jobs[i] === undefined).map((id) => ({ id, reason: '', errorCode: null })),
    ]);
    return found.length;
  }

  async function page(filter: DeadLetterFilter, limit: number, cursor = 0): Promise<DeadLetterPage> {
    if (filter.reason === undefined && filter.errorCode === undefined) {
      // Unfiltered: the records themselves, in order (complete even before the index backfill).
      const jobs = await queue.getJobs(['wait', 'delayed'], cursor, cursor + limit - 1, true);
      const entries = jobs.filter(Boolean).map((job) => ({ id: job.id!, ...job.data }));
      return jobs.length < limit ? { entries } : { entries, next: cursor + jobs.length };
    }
    const key = index.keyFor(filter);
    if (key === undefined) return { entries: [] };
    const entries: DeadLetterEntry[] = [];
    let offset = cursor;
    while (offset - cursor < MAX_SCAN_PER_PAGE) {
      const { ids, jobs } = await readIndexed(key, offset, Math.min(PAGE, MAX_SCAN_PER_PAGE));
      for (const job of jobs) {
        offset++;
        if (job && matches(job.data, filter)) entries.push({ id: job.id!, ...job.data });
        if (entries.length >= limit) return { entries, next: offset };
      }
      if (ids.length < PAGE) return { entries };
    }
    return { entries, next: offset };
  }

  return {
    queue,
    index,
    async add(record, idHint) {
      const full: DeadLetterRecord = {
        ...record,
        worker_host: host,
        dead_lettered_at: new Date(options.now?.() ?? Date.now()).toISOString(),
      };
      const jobId = `dl-${idHint}`;
      await index.add([toIndexEntry(jobId, full)]);
      const job = await queue.add('dead-letter', full, { jobId, removeOnComplete: true });
      return job.id!;
    },
    async list(filter = {}, limit = Number.POSITIVE_INFINITY) {
      const out: DeadLetterEntry[] = [];
      for (let cursor: number | undefined = 0; cursor !== undefined && out.length < limit;) {
        const next: DeadLetterPage = await page(filter, Math.min(limit - out.length, PAGE), cursor);
        out.push(...next.entries);
        cursor = next.next;
      }
      return out;
    },
    page,
    drop,
    async backfillIndex() {
      if (await index.isComplete()) return 0;
      let indexed = 0;
      for (let start = 0; ; start += PAGE) {
        const jobs = await queue.getJobs(['wait', 'delayed'], start, start + PAGE - 1, true);
        const present = jobs.filter((j): j is Job<DeadLetterRecord> => j !== undefined && j !== null);
        await index.add(present.map((job) => toIndexEntry(job.id!, job.data)));
        indexed += present.length;
        if (jobs.length < PAGE) break;
      }
      await index.markComplete();
      return indexed;
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
      const doomed: string[] = [];
      for await (const job of all())
        if (Date.parse(job.data.dead_lettered_at) <= cutoff) doomed.push(job.id!);
      let removed = 0;
      for (let i = 0; i < doomed.length; i += PAGE) removed += await drop(doomed.slice(i, i + PAGE));
      return removed;
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
