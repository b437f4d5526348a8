import { readFile } from 'node:fs/promises';
import { CleanupError } from '../errors.js';
import { parseDuration } from '../purge/duration.js';
import { checkPlanFreshness, parsePlanFile, splitPlanTasks, type PlanFile } from '../purge/plan-file.js';
import type { SkippedTask } from '../purge/plan-purge.js';
import { executeStoredPurge } from '../purge/purge-use-case.js';
import { randomRunSuffix } from '../purge/run-id.js';
import {
  checkRunFlags,
  confirmRun,
  openRunSession,
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
  const max = flags.max ?? plan.max;
  deps.stdout.write(
    `plan ${file}: ${tasks.length} task(s) in project ${plan.project_id}, made ${plan.created_at} by ${plan.created_by}\n`,
  );
  for (const s of skipped) deps.stderr.write(`skipping ${s.instance_id}/${s.task_id}: ${describeSkip(s)}\n`);
  const verify = flags.verify === true;
  const session = openRunSession(deps.config, deps, flags.report !== undefined, {
    kind: 'apply',
    startedBy: deps.createdBy,
    spec: {
      plan: file,
      project_id: plan.project_id,
      region: plan.region,
      filters: plan.filters,
      max,
      verify,
    },
    verify,
  });
  try {
    const question = `Delete the ${tasks.length} task(s) of ${file}?`;
    const outcome = await executeStoredPurge(
      { enqueue: session.enqueue, now: () => now, randomHex: randomRunSuffix },
      {
        tasks,
        skipped,
        max,
        region: plan.region ?? undefined,
        source: 'purge',
        reason: 'purge apply',
        runId: plan.run_id,
        approve: tasks.length > 0 ? () => confirmRun(deps, flags, question) : undefined,
      },
    );
    const header = buildApplyHeader(file, plan, max, outcome);
    switch (outcome.status) {
      case 'guard_stopped':
        deps.stdout.write(
          `guard: the plan has ${tasks.length} task(s), more than --max ${max}: nothing was enqueued\n`,
        );
        return await stopAtGuard(header, tasks.length, flags.report);
      case 'declined':
        return EXIT_CODES.failure;
      case 'planned':
        throw new Error('a stored purge always runs: it is never only planned');
      case 'enqueued': {
        const input = { header, tasks, skipped, wait: flags.wait === true, waitTimeoutMs };
        return await session.finish({ ...input, reportPath: flags.report }, outcome.enqueued);
      }
    }
  } finally {
    await session.close();
  }
}

function buildApplyHeader(
  file: string,
  plan: PlanFile,
  max: number,
  run: { runId: string; startedAt: Date },
): RunHeader {
  return {
    run_id: run.runId,
    mode: 'apply',
    project_id: plan.project_id,
    region: plan.region,
    filters: plan.filters,
    max,
    started_at: run.startedAt.toISOString(),
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
