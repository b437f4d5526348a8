/**
 * The benchmark's side of Redis: a unique BullMQ prefix per round, jobs added exactly as the project's
 * producer adds them (same job id, data and retention options), completion polling, and cleanup of
 * that prefix only (SCAN + UNLINK; never FLUSHALL or FLUSHDB: the Redis is shared).
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { JOB_NAME, JOB_SCHEMA_VERSION, QUEUE_NAME, buildJobId } from '../../dist/queue/job-contract.js';
import { openQueue } from '../../dist/queue/open-queue.js';
import { DEFAULT_DEDUPE_WINDOW_SEC, buildJobOptions } from '../../dist/queue/producer.js';
import { DEFAULT_RETRY_POLICY } from '../../dist/queue/retry-policy.js';
import { sleep } from './proc.js';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const RUN_TAG = randomBytes(3).toString('hex');
const prefixes = new Set();

/** A prefix no other run (or test) uses, e.g. `bench-3fa2c1-overhead-pipeline-2`. */
export function createPrefix(label) {
  const prefix = `bench-${RUN_TAG}-${label}`;
  prefixes.add(prefix);
  return prefix;
}

export function connectRedis() {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  redis.on('error', () => undefined);
  return redis;
}

/** The job the producer would write for `task`. */
export function buildJob(task, jobOptions, enqueuedAt) {
  return {
    name: JOB_NAME,
    data: { schema_version: JOB_SCHEMA_VERSION, ...task, source: 'bench', enqueued_at: enqueuedAt },
    opts: { ...jobOptions, jobId: buildJobId(task) },
  };
}

/** Adds `tasks` to the queue of `prefix` with addBulk, 1,000 at a time. */
export async function addJobs(connection, prefix, tasks) {
  const queue = openQueue(connection, prefix);
  const options = buildJobOptions(DEFAULT_RETRY_POLICY.attempts, DEFAULT_DEDUPE_WINDOW_SEC);
  const now = new Date().toISOString();
  for (let i = 0; i < tasks.length; i += 1000) {
    await queue.addBulk(tasks.slice(i, i + 1000).map((t) => buildJob(t, options, now)));
  }
  await queue.close();
}

/**
 * Polls until `count` jobs of `prefix` completed; throws when a job failed or `timeoutMs` passed.
 * `onProgress(completed)` is called on every poll.
 */
export async function waitForCompleted(connection, prefix, count, timeoutMs, onProgress) {
  const base = `${prefix}:${QUEUE_NAME}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [[, completed], [, failed], [, delayed]] = await connection
      .multi()
      .zcard(`${base}:completed`)
      .zcard(`${base}:failed`)
      .zcard(`${base}:delayed`)
      .exec();
    await onProgress?.(completed);
    if (completed >= count) return;
    if (failed > 0 || delayed > 0) throw new Error(`${prefix}: ${failed} failed, ${delayed} delayed jobs`);
    if (Date.now() > deadline)
      throw new Error(`${prefix}: ${completed}/${count} completed after ${timeoutMs} ms`);
    await sleep(25);
  }
}

/**
 * The processing window from BullMQ's own timestamps: the first job's processedOn to the last
 * finishedOn (the completed set is scored by finish time). Wall ms, and jobs per second.
 */
export async function readWindow(connection, prefix, count) {
  const base = `${prefix}:${QUEUE_NAME}`;
  const first = await connection.zrange(`${base}:completed`, 0, 0);
  const last = await connection.zrange(`${base}:completed`, -1, -1, 'WITHSCORES');
  const startedMs = Number(await connection.hget(`${base}:${first[0]}`, 'processedOn'));
  const endedMs = Number(last[1]);
  const wallMs = endedMs - startedMs;
  return { startedMs, endedMs, wallMs, jobsPerSecond: (count * 1000) / wallMs };
}

/** Deletes every key under `prefix` (and only those). */
export async function deletePrefix(connection, prefix) {
  let cursor = '0';
  let rounds = 0;
  do {
    const [next, keys] = await connection.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 5000);
    cursor = next;
    if (keys.length > 0) await connection.unlink(...keys);
    rounds++;
  } while (cursor !== '0' && rounds < 1_000_000);
  prefixes.delete(prefix);
}

/** Deletes what is left of every prefix this run created (after an error). */
export async function deleteAllPrefixes(connection) {
  for (const prefix of [...prefixes]) await deletePrefix(connection, prefix);
}
