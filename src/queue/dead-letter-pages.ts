/**
 * Listing dead letters a page at a time. Unfiltered, the records are read in order. Filtered, the
 * filter's index is read (by code when both are given, the reason checked on each record), at most
 * MAX_SCAN_PER_PAGE entries per page, so a request costs what it reads, not what Redis holds.
 */
import type { Job, Queue } from 'bullmq';
import type { DeadLetterIndex, IndexEntry } from './dead-letter-index.js';
import type {
  DeadLetterEntry,
  DeadLetterFilter,
  DeadLetterPage,
  DeadLetterRecord,
} from './dead-letter-record.js';

/** Most index entries one filtered page reads before it answers with a `next` cursor. */
export const MAX_SCAN_PER_PAGE = 5_000;
const BATCH = 500;

/** What the indexes keep of a record. */
export const toIndexEntry = (id: string, r: DeadLetterRecord): IndexEntry => ({
  id,
  reason: r.reason,
  errorCode: r.error_code,
  atMs: Date.parse(r.dead_lettered_at) || 0,
});

export type DeadLetterPager = (
  filter: DeadLetterFilter,
  limit: number,
  cursor?: number,
) => Promise<DeadLetterPage>;

export function createDeadLetterPager(
  queue: Queue,
  index: DeadLetterIndex,
  matches: (record: DeadLetterRecord, filter: DeadLetterFilter) => boolean,
): DeadLetterPager {
  /**
   * The records at ranks [offset, offset + count) of an index, undefined where an entry has no record
   * (a crash between writing the entry and the record): skipped, and left for retention to drop, as
   * removing it here would shift the ranks a cursor counts.
   */
  async function readIndexed(key: string, offset: number, count: number) {
    const ids = await index.range(key, offset, count);
    const jobs = await Promise.all(
      ids.map((id) => queue.getJob(id) as Promise<Job<DeadLetterRecord> | undefined>),
    );
    return { ids, jobs };
  }

  return async function page(filter, limit, cursor = 0) {
    if (filter.reason === undefined && filter.errorCode === undefined) {
      // Unfiltered: the records themselves, in order (complete even before the index backfill).
      const jobs = (await queue.getJobs(
        ['wait', 'delayed'],
        cursor,
        cursor + limit - 1,
        true,
      )) as Job<DeadLetterRecord>[];
      const entries = jobs.filter(Boolean).map((job) => ({ id: job.id!, ...job.data }));
      return jobs.length < limit ? { entries } : { entries, next: cursor + jobs.length };
    }
    const key = index.keyFor(filter);
    if (key === undefined) return { entries: [] };
    const entries: DeadLetterEntry[] = [];
    let offset = cursor;
    while (offset - cursor < MAX_SCAN_PER_PAGE) {
      const { ids, jobs } = await readIndexed(key, offset, BATCH);
      for (const job of jobs) {
        offset++;
        if (job && matches(job.data, filter)) entries.push({ id: job.id!, ...job.data });
        if (entries.length >= limit) return { entries, next: offset };
      }
      if (ids.length < BATCH) return { entries };
    }
    return { entries, next: offset };
  };
}
