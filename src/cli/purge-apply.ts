import { readFile } from 'node:fs/promises';
import { CleanupError } from '../errors.js';
import { parseDuration } from '../purge/duration.js';
import { checkPlanFreshness, parsePlanFile, splitPlanTasks, type PlanFile } from '../purge/plan-file.js';
import type { SkippedTask } from '../purge/plan-purge.js';
import { buildRunId, randomRunSuffix } from '../purge/run-id.js';
import {
  checkRunFlags,
  confirmRun,
  enqueueAndFollow,
  stopAtGuard,
  type PurgeDeps,
  type RunFlags,
  type RunHeader,
} from './purge-run.js';
import { EXIT_CODES } from './run-command.js';

export interface ApplyFlags extends RunFlags {
  /** Guard; default the plan's own `max`. */
  max?: number;
  maxAge: string;
  allowStale?: boolean;
}

/**
 * `purge apply <plan>`: validates the plan, refuses it when stale, then enqueues exactly its tasks
 * (never one whose status in the plan is not final) under the plan's run id.
 */
export async function runPurgeApply(file: string, flags: ApplyFlags, deps: PurgeDeps): Promise<number> {
  const waitTimeoutMs = checkRunFlags(flags, true, deps.interactive);
  const maxAgeMs = parseDuration(flags.maxAge, '--max-age');
  const plan = parsePlanFile(await readPlanText(file), file);
  const now = deps.now();
  checkPlanFreshness(plan, now, maxAgeMs, flags.allowStale === true);
  const { tasks, skipped } = splitPlanTasks(plan);
  const header = buildApplyHeader(file, plan, flags.max ?? plan.max, now);
  deps.stdout.write(
    `plan ${file}: ${tasks.length} task(s) in project ${plan.project_id}, made ${plan.created_at} by ${plan.created_by}\n`,
  );
  for (const s of skipped) deps.stderr.write(`skipping ${s.instance_id}/${s.task_id}: ${describeSkip(s)}\n`);
  if (tasks.length > header.max) {
    deps.stdout.write(
      `guard: the plan has ${tasks.length} task(s), more than --max ${header.max}: nothing was enqueued\n`,
    );
    return stopAtGuard(header, tasks.length, flags.report);
  }
  const question = `Delete the ${tasks.length} task(s) of ${file}?`;
  if (tasks.length > 0 && !(await confirmRun(deps, flags, question))) return EXIT_CODES.failure;
  return enqueueAndFollow(deps.config, deps, {
    header,
    tasks,
    skipped,
    wait: flags.wait === true,
    waitTimeoutMs,
    reportPath: flags.report,
  });
}

function buildApplyHeader(file: string, plan: PlanFile, max: number, now: Date): RunHeader {
  return {
    run_id: plan.run_id ?? buildRunId('purge', now, randomRunSuffix()),
    mode: 'apply',
    project_id: plan.project_id,
    region: plan.region,
    filters: plan.filters,
    max,
    started_at: now.toISOString(),
    selection: {
      plan: file,
      plan_created_at: plan.created_at,
      plan_created_by: plan.created_by,
      ...plan.counts,
    },
  };
}

function describeSkip(task: SkippedTask): string {
  return task.reason === 'not_final' ? `status ${task.status} is not final` : task.reason;
}

async function readPlanText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new CleanupError('INVALID_PLAN', `cannot read plan ${file}: ${(err as Error).message}`, {
      field: 'plan',
      cause: err,
    });
  }
}
