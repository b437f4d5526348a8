/**
 * Runs the worker processes carry out for someone else, as jobs on the schedules queue (so the
 * deletion worker never sees them, and the schedule worker's one-at-a-time listing covers them):
 *
 *   `api-purge`    POST /v1/purges with `dry_run: false`: list, plan under the guard, enqueue, under
 *                  the run id the API answered (job id = run id, so a run is listed once)
 *   `run-verify`   a verifying run's pass once its jobs ended: re-delayed until the run is over
 *                  (job id `verify-<run id>`)
 *
 * Payloads carry the spec and labels, never credentials.
 */
import type { Queue, JobsOptions } from 'bullmq';
import { z } from 'zod';
import { purgeSpecSchema, type PurgeSpec } from '../purge/select-purge.js';
import { RUN_ID_PATTERN } from './run-record.js';

export const API_PURGE_JOB_NAME = 'api-purge';
export const RUN_VERIFY_JOB_NAME = 'run-verify';

const runId = z.string().regex(RUN_ID_PATTERN);

export const apiPurgeJobDataSchema = z.object({
  schema_version: z.literal(1),
  run_id: runId,
  spec: purgeSpecSchema,
  verify: z.boolean(),
  reason: z.string().max(200),
  source: z.string().max(200),
  concurrency: z.number().int().min(1).max(64).optional(),
  traceparent: z.string().max(100).optional(),
});
export type ApiPurgeJobData = { schema_version: 1; spec: PurgeSpec } & Omit<
  z.infer<typeof apiPurgeJobDataSchema>,
  'schema_version' | 'spec'
>;

export const runVerifyJobDataSchema = z.object({ schema_version: z.literal(1), run_id: runId });

/** One attempt (a failure marks the run failed), a short history kept. */
const RUN_JOB_OPTIONS = {
  attempts: 1,
  removeOnComplete: { count: 100 },
  removeOnFail: { count: 100 },
} satisfies JobsOptions;

/** Hands an API purge to the worker processes. */
export async function enqueueApiPurge(queue: Queue, data: ApiPurgeJobData): Promise<void> {
  await queue.add(API_PURGE_JOB_NAME, data, { ...RUN_JOB_OPTIONS, jobId: data.run_id });
}

/** Asks for the verification pass of `run`, which waits for the run's end. */
export async function enqueueRunVerify(queue: Queue, run: string, delayMs = 0): Promise<void> {
  await queue.add(
    RUN_VERIFY_JOB_NAME,
    { schema_version: 1, run_id: run },
    { ...RUN_JOB_OPTIONS, jobId: `verify-${run}`, delay: delayMs },
  );
}
