/**
 * The planner: turns a stream of listed tasks into the selection a purge may enqueue, under the
 * blast-radius guard.
 *
 * Guard strategy: one listing pass, keeping at most `max` selected tasks in memory. Once more than
 * `max` match, the planner stops keeping tasks but keeps counting, so the report can say how many
 * matched; the caller then enqueues nothing. A count-first pass followed by a second listing would
 * keep memory flat even for a huge `max`, but it doubles the list calls and the second pass can see
 * tasks the first did not count. Memory here is bounded by `max`, never by the inventory, and the
 * kept tasks are stored compactly (PlannedTaskList: about 80 bytes a task).
 */
import { buildTaskSelector, type PurgeFilters } from './purge-filters.js';
import { PlannedTaskList, type ListedTask, type PlannedTask } from './planned-task-list.js';

export {
  PlannedTaskList,
  type ListedTask,
  type PlannedTask,
  type PlannedTasks,
} from './planned-task-list.js';

/** The default and the largest `--max`. */
export const DEFAULT_MAX_DELETIONS = 1_000;
export const MAX_MAX_DELETIONS = 1_000_000;

/** A selected task the job contract cannot carry (an id DCS sent that our ids refuse). */
export interface SkippedTask extends PlannedTask {
  reason: string;
}

export interface SelectionCounts {
  /** Tasks the listing returned (after the list call's own time window). */
  listed: number;
  /** Tasks every filter selects, the guard's measure; includes those past `max` and skipped ones. */
  matched: number;
  /** Tasks every filter selects but that are not final: never deleted. */
  unfinished: number;
  /** Selected but not deletable as a job (see SkippedTask). */
  skipped: number;
}

export interface PurgeSelection {
  /** At most `max` tasks, in listing order (held compactly); empty when the guard stopped the run. */
  selected: PlannedTaskList;
  skipped: SkippedTask[];
  counts: SelectionCounts;
  /** Matched tasks per instance id, so a stopped run can say where they are. */
  matchedByInstance: Record<string, number>;
  guard: { max: number; stopped: boolean };
}

export interface PlanOptions {
  filters: PurgeFilters;
  max: number;
  now: Date;
  /** Whether an id can travel in a job; tasks failing it are skipped (default: any id). */
  isValidId?: (id: string) => boolean;
}

/** Consumes `tasks` to the end and returns what the purge would delete. */
export async function planPurge(
  tasks: AsyncIterable<ListedTask> | Iterable<ListedTask>,
  options: PlanOptions,
): Promise<PurgeSelection> {
  const select = buildTaskSelector(options.filters, options.now);
  const isValidId = options.isValidId ?? (() => true);
  const result: PurgeSelection = {
    selected: new PlannedTaskList(),
    skipped: [],
    counts: { listed: 0, matched: 0, unfinished: 0, skipped: 0 },
    matchedByInstance: {},
    guard: { max: options.max, stopped: false },
  };
  for await (const task of tasks) {
    result.counts.listed += 1;
    const verdict = select(task);
    if (verdict === 'unfinished') result.counts.unfinished += 1;
    if (verdict !== 'selected') continue;
    result.counts.matched += 1;
    result.matchedByInstance[task.instanceId] = (result.matchedByInstance[task.instanceId] ?? 0) + 1;
    const invalid = !isValidId(task.projectId) || !isValidId(task.instanceId) || !isValidId(task.id);
    if (invalid) {
      result.counts.skipped += 1;
      if (result.skipped.length < options.max)
        result.skipped.push({ ...toPlannedTask(task), reason: 'invalid_id' });
    } else if (result.selected.length < options.max) {
      result.selected.push(task);
    }
  }
  result.guard.stopped = result.counts.matched > options.max;
  // Past the guard the kept tasks are an arbitrary prefix: drop them so nobody enqueues a part.
  if (result.guard.stopped) result.selected = new PlannedTaskList();
  return result;
}

/** The plan-file form of a listed task. */
export function toPlannedTask(task: ListedTask): PlannedTask {
  return {
    project_id: task.projectId,
    instance_id: task.instanceId,
    task_id: task.id,
    name: task.name,
    status: task.status,
    created_at: task.createdAt.toISOString(),
  };
}

/** Matched tasks per instance, largest first, as `instance: count` lines for a report. */
export function describeMatches(selection: PurgeSelection, limit = 20): string[] {
  const entries = Object.entries(selection.matchedByInstance).sort((a, b) => b[1] - a[1]);
  const lines = entries.slice(0, limit).map(([instance, n]) => `${instance}: ${n}`);
  if (entries.length > limit) lines.push(`... and ${entries.length - limit} more instance(s)`);
  return lines;
}
