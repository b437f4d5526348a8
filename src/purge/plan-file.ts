/**
 * The reviewed plan: what `purge --out plan.json` writes and `purge apply plan.json` enqueues, exactly.
 * Version 1; a reader refuses any other version instead of guessing. Apply re-checks what matters for
 * safety (ids, final status, age of the plan) and nothing else: the plan is the decision.
 */
import { regionSchema } from '../config/regions.js';
import { z } from 'zod';
import { idSchema } from '../dcs/ids.js';
import { CleanupError } from '../errors.js';
import { RUN_ID_PATTERN } from './run-id.js';
import { FINAL_STATUSES, isFinalStatus, type PurgeFilters } from './purge-filters.js';
import type { PlannedTask, PurgeSelection, SkippedTask } from './plan-purge.js';

export const PLAN_VERSION = 1;

const id = idSchema;
const isoDateTime = z.iso.datetime({ offset: true });

const plannedTaskSchema = z.object({
  project_id: id,
  instance_id: id,
  task_id: id,
  name: z.string().max(200),
  status: z.string().max(40),
  created_at: isoDateTime,
});

const planSchema = z
  .object({
    version: z.literal(PLAN_VERSION, {
      error: `must be ${PLAN_VERSION} (this dcs-cleanup reads version 1 plans)`,
    }),
    run_id: z.string().regex(RUN_ID_PATTERN).optional(),
    created_at: isoDateTime,
    created_by: z.string().max(200),
    project_id: id,
    region: regionSchema.nullable(),
    filters: z.object({
      older_than: z.string().max(40).optional(),
      statuses: z.array(z.enum(FINAL_STATUSES)),
      names: z.array(z.string().max(200)),
      exclude_instances: z.array(z.string().max(64)),
      instances: z.array(id).optional(),
      all_instances: z.boolean().optional(),
    }),
    max: z.number().int().min(1),
    selected: z.array(plannedTaskSchema),
    counts: z.record(z.string(), z.number().int().min(0)),
  })
  // A dry run of the HTTP API lists at most API_PURGE_PLAN_LIMIT tasks: applying that would enqueue a part.
  .refine((p) => p.counts.selected === undefined || p.selected.length >= p.counts.selected, {
    path: ['selected'],
    message:
      'lists fewer tasks than counts.selected (a truncated plan from the HTTP API): make the whole plan with `dcs-cleanup purge --dry-run --out plan.json`',
  });

/** A plan file as read back (validated). */
export type PlanFile = z.infer<typeof planSchema>;

export interface PlanMetadata {
  runId: string;
  createdAt: Date;
  createdBy: string;
  projectId: string;
  region: string | undefined;
  filters: PurgeFilters;
  scope: { instances?: string[] | undefined; all_instances: boolean };
}

/** A plan whose tasks are an iterator, made one at a time as the file is written. */
export type StreamedPlanFile = Omit<PlanFile, 'selected'> & { selected: Iterator<PlannedTask> };

/** The plan file for a selection that passed the guard. */
export function buildPlanFile(selection: PurgeSelection, meta: PlanMetadata): PlanFile {
  return buildPlan(selection, meta, [...selection.selected]);
}

/**
 * The same plan with its tasks as an iterator, for a writer that takes one (the CLI's writeJsonFile):
 * a plan of a million tasks is then never a million objects at once.
 */
export function buildStreamedPlanFile(selection: PurgeSelection, meta: PlanMetadata): StreamedPlanFile {
  return buildPlan(selection, meta, selection.selected[Symbol.iterator]());
}

function buildPlan<S>(
  selection: PurgeSelection,
  meta: PlanMetadata,
  selected: S,
): Omit<PlanFile, 'selected'> & { selected: S } {
  return {
    version: PLAN_VERSION,
    run_id: meta.runId,
    created_at: meta.createdAt.toISOString(),
    created_by: meta.createdBy,
    project_id: meta.projectId,
    region: meta.region ?? null,
    filters: {
      ...meta.filters,
      ...(meta.scope.instances === undefined ? {} : { instances: meta.scope.instances }),
      all_instances: meta.scope.all_instances,
    },
    max: selection.guard.max,
    selected,
    counts: { ...selection.counts, selected: selection.selected.length },
  };
}

/** Parses and validates a plan file's text; INVALID_PLAN naming every bad field (`selected[3].task_id`). */
export function parsePlanFile(text: string, source = 'plan'): PlanFile {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new CleanupError('INVALID_PLAN', `${source}: not JSON (${(err as Error).message})`, { cause: err });
  }
  const result = planSchema.safeParse(json);
  if (result.success) return result.data;
  const issues = result.error.issues;
  const lines = issues.slice(0, 10).map((i) => `${formatPath(i.path)}: ${i.message}`);
  if (issues.length > 10) lines.push(`... and ${issues.length - 10} more`);
  throw new CleanupError('INVALID_PLAN', `${source} is not a valid purge plan:\n  ${lines.join('\n  ')}`, {
    field: issues.map((i) => formatPath(i.path)).join(','),
  });
}

/** INVALID_PLAN when the plan is older than `maxAgeMs` (unless `allowStale`) or from the future. */
export function checkPlanFreshness(plan: PlanFile, now: Date, maxAgeMs: number, allowStale: boolean): void {
  const ageMs = now.getTime() - Date.parse(plan.created_at);
  // A few minutes of clock skew between the planning and the applying machine are normal.
  if (ageMs < -5 * 60_000) {
    throw new CleanupError('INVALID_PLAN', `plan created_at ${plan.created_at} is in the future`, {
      field: 'created_at',
    });
  }
  if (ageMs > maxAgeMs && !allowStale) {
    const hours = (ageMs / 3_600_000).toFixed(1);
    throw new CleanupError(
      'INVALID_PLAN',
      `plan is ${hours} h old (created ${plan.created_at}), older than --max-age: review a fresh plan, or pass --allow-stale`,
      { field: 'created_at' },
    );
  }
}

/**
 * Splits a plan's tasks into those apply may enqueue and those it must not: a task whose status in
 * the plan is not final is never enqueued, even in a hand-edited plan.
 */
export function splitPlanTasks(plan: PlanFile): { tasks: PlannedTask[]; skipped: SkippedTask[] } {
  const tasks: PlannedTask[] = [];
  const skipped: SkippedTask[] = [];
  const seen = new Set<string>();
  for (const task of plan.selected) {
    const key = `${task.instance_id}/${task.task_id}`;
    if (!isFinalStatus(task.status)) skipped.push({ ...task, reason: 'not_final' });
    else if (task.project_id !== plan.project_id) skipped.push({ ...task, reason: 'other_project' });
    else if (seen.has(key)) continue;
    else tasks.push(task);
    seen.add(key);
  }
  return { tasks, skipped };
}

function formatPath(path: PropertyKey[]): string {
  if (path.length === 0) return '(plan)';
  return path.reduce<string>(
    (out, part) =>
      typeof part === 'number' ? `${out}[${part}]` : out === '' ? String(part) : `${out}.${String(part)}`,
    '',
  );
}
