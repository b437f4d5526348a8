/** Run ids: what ties a purge's jobs, log records and report together. */

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
