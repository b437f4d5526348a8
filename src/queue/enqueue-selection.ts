import type { PlannedTask } from '../purge/plan-purge.js';
import { buildJobId } from './job-contract.js';
import type { Producer } from './producer.js';

export interface EnqueueSelectionOptions {
  runId: string;
  source: string;
  reason?: string;
  /** Region every job carries (the one the tasks were listed in); undefined: the worker's default. */
  region?: string | undefined;
}

export interface EnqueueSelectionResult {
  enqueued: number;
  duplicates: number;
  /** Job ids that existed already (pending, or finished within the dedupe window). */
  duplicateIds: Set<string>;
}

/**
 * Streams a purge's selected tasks into the deletion queue in producer-sized chunks, every job
 * labelled with the run id. The task list is already bounded by the guard, so only the duplicate ids
 * are collected here.
 */
export async function enqueueSelection(
  producer: Producer,
  tasks: Iterable<PlannedTask>,
  options: EnqueueSelectionOptions,
): Promise<EnqueueSelectionResult> {
  const duplicateIds = new Set<string>();
  const region = options.region;
  const inputs = (function* () {
    for (const t of tasks) {
      yield {
        project_id: t.project_id,
        instance_id: t.instance_id,
        task_id: t.task_id,
        ...(region ? { region } : {}),
      };
    }
  })();
  const summary = await producer.enqueueMany(inputs, {
    runId: options.runId,
    source: options.source,
    ...(options.reason === undefined ? {} : { reason: options.reason }),
    collectJobs: false,
    onChunk: (chunk) => {
      for (const job of chunk.jobs) if (job.duplicate) duplicateIds.add(job.job_id);
    },
  });
  return { enqueued: summary.enqueued, duplicates: summary.duplicates, duplicateIds };
}

/** The job ids of a selection, in order. */
export function jobIdsOf(tasks: Iterable<PlannedTask>): string[] {
  return Array.from(tasks, buildJobId);
}
