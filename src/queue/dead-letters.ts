/**
 * The dead-letter queue: a BullMQ queue (`dcs-cleanup-dead`) that no worker consumes. Each record
 * is one job whose data is a DeadLetterRecord. Records are written before the original job is
 * finished, so a crash in between can duplicate a record but never lose one. Sorted sets index them
 * by time, reason and error code (dead-letter-index.ts): filters and retention read only those.
 */
import type { Job, Queue } from 'bullmq';
import { openQueue } from './open-queue.js';
import type { RedisClient } from './redis-connection.js';
import { hostname } from 'node:os';
import { DEAD_LETTER_QUEUE_NAME } from './job-contract.js';
import { enqueueReplay } from './enqueue-replay.js';
import type { Producer } from './producer.js';
import { CleanupError } from '../errors.js';
import { createDeadLetterIndex, type DeadLetterIndex } from './dead-letter-index.js';
import { createDeadLetterPager, toIndexEntry } from './dead-letter-pages.js';
import type {
  DeadLetterFilter,
  DeadLetterPage,
  DeadLetterRecord,
  DeadLetterEntry,
} from './dead-letter-record.js';

export {
  DEAD_LETTER_REASONS,
  type AttemptRecord,
  type DeadLetterEntry,
  type DeadLetterFilter,
  type DeadLetterPage,
  type DeadLetterReason,
  type DeadLetterRecord,
} from './dead-letter-record.js';

export interface ReplayResult {
  replayed: { id: string; job_id: string; duplicate: boolean }[];
  skipped: { id: string; error: string }[];
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

export interface DeadLettersOptions {
  connection: RedisClient;
  prefix: string;
  /** Clock for `dead_lettered_at` (default Date.now). */
  now?: () => number;
}

export function createDeadLetters(options: DeadLettersOptions): DeadLetters {
  const queue = openQueue<DeadLetterRecord>(options.connection, options.prefix, DEAD_LETTER_QUEUE_NAME);
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

  const page = createDeadLetterPager(queue, index, matches);

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
