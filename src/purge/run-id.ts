/** Run ids: what ties a purge's jobs, log records and report together. Every scheme is here. */
import { createHash, randomBytes } from 'node:crypto';

/** What any run id may be (its own or one handed in): the job contract and plan files check it. */
export const RUN_ID_PATTERN = /^[A-Za-z0-9._-]{1,80}$/;

/** `yyyyMMddTHHmmssZ` in UTC, e.g. `20261127T101500Z`. */
export function formatCompactTime(date: Date): string {
  return `${date.toISOString().replace(/[-:]/g, '').slice(0, 15)}Z`;
}

/**
 * A run id such as `purge-20261127T101500Z-ab12cd`: sortable by time, unique by its random suffix.
 * `randomHex` is passed in (6 hex characters) so the function stays pure.
 */
export function buildRunId(kind: string, at: Date, randomHex: string): string {
  return `${kind}-${formatCompactTime(at)}-${randomHex.toLowerCase().slice(0, 6)}`;
}

/** Six random hex characters, the suffix of a new run id. */
export function randomRunSuffix(): string {
  return randomBytes(3).toString('hex');
}

/**
 * `sched-<name>-<time>-<hash of the job id>`: stable for one firing (a retried or re-delivered firing
 * keeps its run id) and distinct between firings, even two manual ones in the same second.
 */
export function buildScheduleRunId(schedule: string, jobId: string, at: Date): string {
  const hash = createHash('sha256').update(jobId).digest('hex');
  return buildRunId(`sched-${schedule}`, at, hash);
}
