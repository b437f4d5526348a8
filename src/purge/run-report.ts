/**
 * A purge run's outcome, task by task and in totals, and the exit status it stands for.
 *
 * Outcomes of a selected task:
 *   deleted, already_gone ... the goal is met
 *   dead_lettered ........... the job ended in the dead letters (see `dcs-cleanup dlq list`)
 *   skipped ................. selected but never enqueued: an id the job contract refuses, or (in an
 *                             applied plan) a status that is not final
 *   unknown ................. the job vanished before its result could be read
 *   pending ................. enqueued, not followed to its end (no --wait, or the wait timed out)
 */
import type { PlannedTask, SkippedTask } from './plan-purge.js';

export type TaskOutcome = 'deleted' | 'already_gone' | 'dead_lettered' | 'skipped' | 'unknown' | 'pending';

/** One task's line in a report. */
export interface TaskReport extends PlannedTask {
  job_id: string | null;
  outcome: TaskOutcome;
  /** The job existed already (an earlier run or enqueue): its result is followed all the same. */
  duplicate?: boolean;
  reason?: string;
  http_status?: number | null;
  error_code?: string | null;
  request_id?: string | null;
  attempts?: number;
  dead_letter_id?: string;
}

export type OutcomeCounts = Record<TaskOutcome, number>;

/** Which of the shared exit statuses a run ends with (keys of the CLI's EXIT_CODES). */
export type RunExit = 'ok' | 'failure' | 'deadLettered' | 'guardStopped';

/** Counts tasks by outcome. */
export function countOutcomes(tasks: Iterable<Pick<TaskReport, 'outcome'>>): OutcomeCounts {
  const counts: OutcomeCounts = {
    deleted: 0,
    already_gone: 0,
    dead_lettered: 0,
    skipped: 0,
    unknown: 0,
    pending: 0,
  };
  for (const task of tasks) counts[task.outcome] += 1;
  return counts;
}

/**
 * The exit status, most serious first: the guard stopped it; some ended dead-lettered; some did
 * not end as deleted or gone (skipped, unknown, still pending after a wait); otherwise ok.
 * `waited` says whether pending tasks count: without --wait, enqueued is success.
 */
export function decideRunExit(input: {
  guardStopped: boolean;
  counts: OutcomeCounts;
  waited: boolean;
}): RunExit {
  const { counts } = input;
  if (input.guardStopped) return 'guardStopped';
  if (counts.dead_lettered > 0) return 'deadLettered';
  if (counts.skipped > 0 || counts.unknown > 0 || (input.waited && counts.pending > 0)) return 'failure';
  return 'ok';
}

/** The report line of a task that was never enqueued. */
export function reportSkipped(task: SkippedTask): TaskReport {
  const { reason, ...planned } = task;
  return { ...planned, job_id: null, outcome: 'skipped', reason };
}

/** `1h 02m 03s` / `2m 03s` / `4.2s`, for summaries. */
export function formatElapsed(ms: number): string {
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = `${String(m).padStart(2, '0')}m ${String(s % 60).padStart(2, '0')}s`;
  return h > 0 ? `${h}h ${rest}` : rest;
}

/** Everything a report says about the run besides the tasks. */
export interface RunHeader {
  run_id: string;
  mode: 'purge' | 'apply';
  project_id: string;
  region: string | null;
  filters: unknown;
  max: number;
  started_at: string;
  /** Listing counts (purge) or plan counts (apply). */
  selection: Record<string, unknown>;
}

/** The closing line of a run. */
export function describeSummary(
  runId: string,
  selected: number,
  c: OutcomeCounts,
  durationMs: number,
  waited: boolean,
): string {
  const parts = [
    `selected ${selected}`,
    `deleted ${c.deleted}`,
    `already gone ${c.already_gone}`,
    `dead-lettered ${c.dead_lettered}`,
    `skipped ${c.skipped}`,
  ];
  if (c.unknown > 0) parts.push(`unknown ${c.unknown}`);
  if (c.pending > 0) parts.push(`${waited ? 'still open' : 'queued'} ${c.pending}`);
  return `run ${runId}: ${parts.join(', ')}; took ${formatElapsed(durationMs)}`;
}
