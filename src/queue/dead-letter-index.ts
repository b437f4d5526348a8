/**
 * Sorted-set indexes over the dead letters, so that a filtered listing reads only what matches and
 * retention finds the oldest without reading the rest: one set by time, one per reason and one per
 * error code, each member a dead letter id scored by its dead-lettering time (ms).
 *
 * Written before the record and removed after it: a crash in between leaves an entry without a
 * record, which readers skip and drop, never a record no index can find. Records written before the
 * indexes existed are added once by `backfill` (the worker's retention tick runs it).
 */
import type { Queue } from 'bullmq';
import type { RedisClient } from './redis-connection.js';

/** What the indexes know of one record. */
export interface IndexEntry {
  id: string;
  reason: string;
  errorCode: string | null;
  atMs: number;
}

/** Error codes become part of a key name: only plain ones are indexed (DCS and gateway codes are). */
const INDEXABLE_CODE = /^[A-Za-z0-9._-]{1,64}$/;

export interface DeadLetterIndex {
  add(entries: IndexEntry[]): Promise<void>;
  remove(entries: Omit<IndexEntry, 'atMs'>[]): Promise<void>;
  /** The set listing the records of a filter (by code when both are given), or undefined when none can match. */
  keyFor(filter: { reason?: string | undefined; errorCode?: string | undefined }): string | undefined;
  /** Ids at ranks [offset, offset + count) of `key`, oldest first. */
  range(key: string, offset: number, count: number): Promise<string[]>;
  /** Up to `count` of the oldest ids, only those dead-lettered at or before `beforeMs` when given. */
  oldest(count: number, beforeMs?: number): Promise<string[]>;
  size(): Promise<number>;
  /** Whether records older than the indexes were added (see backfill). */
  isComplete(): Promise<boolean>;
  markComplete(): Promise<void>;
}

export function createDeadLetterIndex(connection: RedisClient, queue: Queue): DeadLetterIndex {
  const timeKey = queue.toKey('index:time');
  const reasonKey = (reason: string): string => queue.toKey(`index:reason:${reason}`);
  const codeKey = (code: string | null): string | undefined =>
    code !== null && INDEXABLE_CODE.test(code) ? queue.toKey(`index:code:${code}`) : undefined;
  const completeKey = queue.toKey('index:complete');

  return {
    async add(entries) {
      if (entries.length === 0) return;
      const multi = connection.multi();
      for (const e of entries) {
        multi.zadd(timeKey, e.atMs, e.id).zadd(reasonKey(e.reason), e.atMs, e.id);
        const code = codeKey(e.errorCode);
        if (code !== undefined) multi.zadd(code, e.atMs, e.id);
      }
      await multi.exec();
    },
    async remove(entries) {
      if (entries.length === 0) return;
      const multi = connection.multi();
      for (const e of entries) {
        multi.zrem(timeKey, e.id).zrem(reasonKey(e.reason), e.id);
        const code = codeKey(e.errorCode);
        if (code !== undefined) multi.zrem(code, e.id);
      }
      await multi.exec();
    },
    keyFor(filter) {
      if (filter.errorCode !== undefined) return codeKey(filter.errorCode);
      return filter.reason === undefined ? timeKey : reasonKey(filter.reason);
    },
    range: (key, offset, count) => connection.zrange(key, offset, offset + count - 1),
    oldest: (count, beforeMs) =>
      beforeMs === undefined
        ? connection.zrange(timeKey, 0, count - 1)
        : connection.zrangebyscore(timeKey, '-inf', beforeMs, 'LIMIT', 0, count),
    size: () => connection.zcard(timeKey),
    isComplete: async () => (await connection.exists(completeKey)) === 1,
    markComplete: async () => {
      await connection.set(completeKey, '1');
    },
  };
}
