/**
 * Jobs whose stored `data` is not JSON, written by hand by a foreign client. BullMQ cannot build such
 * a job: left alone it sits in `active` until it has stalled twenty times, then fails with a reason
 * that says nothing about why. The worker builds it with the raw text as its data instead and
 * records why here; the processor dead-letters it as `invalid_job` at once.
 */
import { Job, Worker, type JobJson } from 'bullmq';

const problems = new WeakMap<Job, string>();

/** Why `job` could not be read as stored; undefined for a readable job. */
export function findUnreadableProblem(job: Job): string | undefined {
  return problems.get(job);
}

/** A BullMQ Worker that hands unreadable jobs to its processor instead of failing to fetch them. */
export class TolerantWorker extends Worker {
  protected override createJob(json: JobJson, jobId: string): Job {
    try {
      return super.createJob(json, jobId);
    } catch (err) {
      const job = super.createJob({ ...json, data: JSON.stringify(json.data) }, jobId);
      const why = err instanceof Error ? err.message : String(err);
      problems.set(job, `the stored job data is not JSON (${why})`);
      return job;
    }
  }
}
