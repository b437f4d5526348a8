import type { PlannedTask } from '../purge/plan-purge.js';
import { buildJobId, type TaskInput } from './job-contract.js';
import type { Producer } from './producer.js';

export interface EnqueueSelectionOptions {
  runId: string;
  source: string;
  reason?: string;
  /** W3C traceparent of the request that started the run. */
  traceparent?: string | undefined;
  /** Region every job carries (the one the tasks were listed in); undefined: the worker's default. */
  region?: string | undefined;
  /** Account every job names (a purge's `--account`); undefined: each task's project decides. */
  account?: string | undefined;
  /** Collect the ids of the jobs that existed already (a report marks them); default false. */
  keepDuplicateIds?: boolean;
}

export interface EnqueueSelectionResult {
  enqueued: number;
  duplicates: number;
  /** With `keepDuplicateIds`: job ids that existed already (pending, or finished within the dedupe window). */
  duplicateIds: Set<string>;
}

/**
 * Streams a purge's selected tasks into the deletion queue in producer-sized chunks, every job
 * labelled with the run id. `tasks` must be iterable more than once (a PlannedTaskList, an array): the
 * producer checks every task before the first is enqueued, then reads them again one chunk at a time,
 * so nothing per task is kept beyond the caller's own list (and the duplicate ids when asked for).
 */
export async function enqueueSelection(
  producer: Producer,
  tasks: Iterable<PlannedTask>,
  options: EnqueueSelectionOptions,
): Promise<EnqueueSelectionResult> {
  const duplicateIds = new Set<string>();
  const { region, account } = options;
  const toInput = (t: PlannedTask): TaskInput => ({
    project_id: t.project_id,
    instance_id: t.instance_id,
    task_id: t.task_id,
    ...(region ? { region } : {}),
    ...(account ? { account } : {}),
  });
  // Iterable again, so the producer checks every task first, then reads them chunk by chunk.
  const inputs: Iterable<TaskInput> = {
    *[Symbol.iterator]() {
      for (const t of tasks) yield toInput(t);
    },
  };
  const summary = await producer.enqueueMany(inputs, {
    runId: options.runId,
    source: options.source,
    ...(options.reason === undefined ? {} : { reason: options.reason }),
    ...(options.traceparent === undefined ? {} : { traceparent: options.traceparent }),
    collectJobs: false,
    onChunk: (chunk) => {
      if (options.keepDuplicateIds !== true) return;
      for (const job of chunk.jobs) if (job.duplicate) duplicateIds.add(job.job_id);
    },
  });
  return { enqueued: summary.enqueued, duplicates: summary.duplicates, duplicateIds };
}

/** The job ids of a selection, in order, one at a time. */
export function* jobIdsOf(tasks: Iterable<PlannedTask>): Generator<string> {
  for (const task of tasks) yield buildJobId(task);
}
