import { parseTaskInput, type DeleteJobData } from './job-contract.js';
import type { EnqueuedJob, Producer } from './producer.js';

/**
 * Enqueues a dead letter's task again as a fresh job, with a fresh attempt budget. A finished
 * original still holds its job id (dedupe window): it is removed first, so the replay is not a
 * duplicate. The task goes back to its account's queue (the account its data names, else the one
 * listing its project). Throws INVALID_INPUT when the stored payload is not a valid task.
 */
export async function enqueueReplay(
  record: { job_id: string; job_data: unknown },
  producer: Producer,
): Promise<EnqueuedJob> {
  const task = parseTaskInput(record.job_data, 'job_data');
  const data = record.job_data as Partial<DeleteJobData>;
  const original = await producer.queueFor(task).getJob(record.job_id);
  const state = original ? await original.getState() : 'unknown';
  if (original && (state === 'completed' || state === 'failed')) await original.remove();
  return producer.enqueue(task, {
    reason: data.reason ?? 'replay',
    source: 'dlq-replay',
    ...(data.run_id === undefined ? {} : { runId: data.run_id }),
  });
}
