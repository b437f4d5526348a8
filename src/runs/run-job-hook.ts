/**
 * The one hook between a deletion job's end and its run's counts: the job run (queue/job-run.ts) and the stuck-job
 * sweep call it once a job's outcome is final; a job without a (well-formed) run id is no run's.
 */
import type { RunLedger } from './run-ledger.js';
import { RUN_ID_PATTERN, type RunJobOutcome } from './run-record.js';

export type RunJobEnds = Pick<RunLedger, 'jobEnded'>;

/** Counts the end of `jobId` in the run its payload names, if any. */
export async function countRunJobEnd(
  runs: RunJobEnds,
  data: unknown,
  jobId: string | undefined,
  outcome: RunJobOutcome,
): Promise<void> {
  const runId = (typeof data === 'object' && data !== null ? data : {}) as { run_id?: unknown };
  if (jobId === undefined || typeof runId.run_id !== 'string' || !RUN_ID_PATTERN.test(runId.run_id)) return;
  await runs.jobEnded(runId.run_id, jobId, outcome);
}
