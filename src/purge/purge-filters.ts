/**
 * What a purge selects. Filters are AND-ed; on top of them one rule no flag can lift: a task that is
 * not final (EXECUTING, WAITING, CREATED or anything DCS may add later) is never selected.
 */
import { CleanupError } from '../errors.js';
import { parseDuration } from './duration.js';

/** The only statuses a purge may delete: DCS refuses the others, and they are someone's running work. */
export const FINAL_STATUSES = ['SUCCESS', 'FAILED'] as const;
export type FinalStatus = (typeof FINAL_STATUSES)[number];

/** Statuses DCS documents as not final; named in the error when someone asks for them. */
const UNFINISHED_STATUSES = ['EXECUTING', 'WAITING', 'CREATED'] as const;

/** The filters as stored in plans and schedules (JSON-safe, snake_case). */
export interface PurgeFilters {
  /** Duration text such as `30d`: only tasks whose age (from `created_at`) is strictly greater. */
  older_than?: string | undefined;
  /** Final statuses to select; default both. */
  statuses: FinalStatus[];
  /** Task names (case-insensitive), e.g. EXTEND, BindEip; empty means any name. */
  names: string[];
  /** Instance ids whose tasks are never selected. */
  exclude_instances: string[];
}

/** The filters as typed on a command line, before validation. */
export interface RawPurgeFilters {
  olderThan?: string | undefined;
  status?: readonly string[] | undefined;
  name?: readonly string[] | undefined;
  excludeInstance?: readonly string[] | undefined;
}

/** The facts about a task a selection looks at. */
export interface TaskFacts {
  instanceId: string;
  name: string;
  status: string;
  createdAt: Date;
}

/**
 * `selected`: delete it. `unfinished`: it passes every filter but is not final, so it is held back
 * (worth telling the operator). `excluded`: a filter leaves it out.
 */
export type TaskVerdict = 'selected' | 'unfinished' | 'excluded';

/**
 * Validates command-line filters. `--status` accepts only SUCCESS and FAILED: asking for an unfinished
 * status is a usage error rather than silently ignored, so nobody believes a running task was purged.
 */
export function parsePurgeFilters(raw: RawPurgeFilters): PurgeFilters {
  const olderThan = raw.olderThan?.trim();
  if (olderThan !== undefined) parseDuration(olderThan, '--older-than');
  return {
    ...(olderThan === undefined ? {} : { older_than: olderThan }),
    statuses: parseStatuses(raw.status ?? []),
    names: unique((raw.name ?? []).map((n) => n.trim()).filter((n) => n !== '')),
    exclude_instances: unique((raw.excludeInstance ?? []).map((i) => i.trim()).filter((i) => i !== '')),
  };
}

function parseStatuses(values: readonly string[]): FinalStatus[] {
  if (values.length === 0) return [...FINAL_STATUSES];
  const out: FinalStatus[] = [];
  for (const value of values) {
    const status = value.trim().toUpperCase();
    if ((UNFINISHED_STATUSES as readonly string[]).includes(status)) {
      throw new CleanupError(
        'INVALID_INPUT',
        `--status ${status}: only final tasks (SUCCESS, FAILED) can be purged; ${UNFINISHED_STATUSES.join(', ')} tasks are never deleted`,
        { field: 'status' },
      );
    }
    if (!(FINAL_STATUSES as readonly string[]).includes(status)) {
      throw new CleanupError(
        'INVALID_INPUT',
        `--status ${JSON.stringify(value.slice(0, 40))}: expected SUCCESS or FAILED`,
        {
          field: 'status',
        },
      );
    }
    if (!out.includes(status as FinalStatus)) out.push(status as FinalStatus);
  }
  return out;
}

/** True for the statuses a purge may ever delete, whatever the filters. */
export function isFinalStatus(status: string): status is FinalStatus {
  return (FINAL_STATUSES as readonly string[]).includes(status.toUpperCase());
}

/**
 * Compiles `filters` against the clock once; the returned function classifies one task.
 * The age cut is strict: a task exactly `older_than` old is not selected yet.
 */
export function buildTaskSelector(filters: PurgeFilters, now: Date): (task: TaskFacts) => TaskVerdict {
  const cutoffMs =
    filters.older_than === undefined
      ? undefined
      : now.getTime() - parseDuration(filters.older_than, 'older_than');
  const names = new Set(filters.names.map((n) => n.toLowerCase()));
  const excluded = new Set(filters.exclude_instances);
  const statuses = new Set<string>(filters.statuses);
  return (task) => {
    if (excluded.has(task.instanceId)) return 'excluded';
    if (names.size > 0 && !names.has(task.name.toLowerCase())) return 'excluded';
    if (cutoffMs !== undefined && !(task.createdAt.getTime() < cutoffMs)) return 'excluded';
    // Checked after the other filters so `unfinished` counts only tasks the operator actually asked for.
    if (!isFinalStatus(task.status)) return 'unfinished';
    return statuses.has(task.status.toUpperCase()) ? 'selected' : 'excluded';
  };
}

/** The newest `created_at` a selected task can have, or undefined when there is no age filter. */
export function buildCreatedBefore(filters: PurgeFilters, now: Date): Date | undefined {
  if (filters.older_than === undefined) return undefined;
  return new Date(now.getTime() - parseDuration(filters.older_than, 'older_than'));
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}
