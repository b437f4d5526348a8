/**
 * Follows the jobs of one purge run to their end by polling their ids (the ids are deterministic:
 * `buildJobId`), in batches, only the ones still open. The processor is untouched: a finished job's
 * BullMQ `returnvalue` is its DeleteJobResult. Jobs that were duplicates of earlier runs are followed
 * the same way, since their result is this run's result too.
 *
 *   returnvalue.outcome .................. that outcome (deleted, already_gone, dead_lettered)
 *   finished without a returnvalue ....... failed in BullMQ itself: the worker sweeps it to the dead
 *                                          letters, so dead_lettered
 *   job no longer exists ................. unknown (removed by hand, or swept after stalling)
 *   anything else ........................ still open
 */
import { Job, type Queue } from 'bullmq';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildLegacyJobId, parseJobId, type DeleteJobResult, type TaskInput } from './job-contract.js';

export type JobEndOutcome = DeleteJobResult['outcome'] | 'unknown';

export interface JobEnd {
  outcome: JobEndOutcome;
  /** The processor's result, when the job completed normally. */
  result?: DeleteJobResult;
  /** Why, for `unknown` and BullMQ failures. */
  note?: string;
}

export interface RunProgress {
  total: number;
  deleted: number;
  already_gone: number;
  dead_lettered: number;
  unknown: number;
  open: number;
  /** The queue is paused (circuit breaker or by hand): nothing moves until it resumes. */
  paused: boolean;
  elapsedMs: number;
}

export interface FollowRunOptions {
  queue: Queue;
  /** The other account queues a run's jobs may be in (one queue per account). */
  otherQueues?: readonly Queue[];
  jobIds: Iterable<string>;
  /** Default 500 ms. */
  pollMs?: number;
  /** Give up after this long; the rest is reported open. Default: never. */
  timeoutMs?: number;
  /** Ids looked up per round trip batch, default 500. */
  batchSize?: number;
  onProgress?: (progress: RunProgress) => void;
}

export interface FollowRunResult {
  ends: Map<string, JobEnd>;
  /** Ids still open when following stopped (timeout). */
  open: string[];
  progress: RunProgress;
}

const OUTCOMES = new Set<string>(['deleted', 'already_gone', 'dead_lettered']);

/** Consecutive failed polls (Redis away) tolerated before following gives up. */
const MAX_FAILED_POLLS = 20;

/** Polls until every job has ended or `timeoutMs` passed. */
export async function followRun(options: FollowRunOptions): Promise<FollowRunResult> {
  const started = Date.now();
  const pollMs = options.pollMs ?? 500;
  let open = [...new Set(options.jobIds)];
  const total = open.length;
  const ends = new Map<string, JobEnd>();
  let paused = false;
  for (let failedPolls = 0; ;) {
    try {
      const queues = [options.queue, ...(options.otherQueues ?? [])];
      open = await pollOnce(queues, open, options.batchSize ?? 500, ends);
      paused = (await Promise.all(queues.map((q) => q.isPaused()))).some(Boolean);
      failedPolls = 0;
    } catch (err) {
      // A Redis restart during a long wait should not end the run's follow-up; a dead Redis should.
      if (++failedPolls >= MAX_FAILED_POLLS) throw err;
    }
    const progress = buildProgress(total, ends, open.length, paused, Date.now() - started);
    options.onProgress?.(progress);
    const timedOut = options.timeoutMs !== undefined && Date.now() - started >= options.timeoutMs;
    if (open.length === 0 || timedOut) return { ends, open, progress };
    await sleep(pollMs);
  }
}

/** Looks up the open jobs in batches, records those that ended, returns those still open. */
async function pollOnce(
  queues: readonly Queue[],
  open: string[],
  batchSize: number,
  ends: Map<string, JobEnd>,
): Promise<string[]> {
  const stillOpen: string[] = [];
  for (let i = 0; i < open.length; i += batchSize) {
    const batch = open.slice(i, i + batchSize);
    // ioredis pipelines concurrent commands on one connection: one batch is about one round trip.
    const [queue, ...others] = queues as [Queue, ...Queue[]];
    const jobs = await Promise.all(
      batch.map(async (id) => {
        const job = (await Job.fromId<unknown, unknown>(queue, id)) ?? (await findLegacyJob(queue, id));
        if (job !== undefined) return job;
        // Another account's job: the first other queue holding it.
        for (const other of others) {
          const found = await Job.fromId<unknown, unknown>(other, id);
          if (found !== undefined) return found;
        }
        return undefined;
      }),
    );
    jobs.forEach((job, j) => {
      const end = readJobEnd(job);
      if (end) ends.set(batch[j]!, end);
      else stillOpen.push(batch[j]!);
    });
  }
  return stillOpen;
}

/**
 * The job holding `jobId`'s task under its old id (`del-<p>-<i>-<t>`, enqueued before the id
 * changed): the producer counted the task as its duplicate. Only a job whose data names that very
 * task: the old ids of two tasks can be equal.
 */
async function findLegacyJob(queue: Queue, jobId: string): Promise<Job | undefined> {
  const task = parseJobId(jobId);
  if (task === undefined) return undefined;
  const job = await Job.fromId<unknown, unknown>(queue, buildLegacyJobId(task));
  const data = (job?.data ?? {}) as Partial<TaskInput>;
  const same =
    data.project_id === task.project_id &&
    data.instance_id === task.instance_id &&
    data.task_id === task.task_id;
  return same ? job : undefined;
}

/** What a looked-up job says about its end; undefined while it is still open. */
export function readJobEnd(job: Job | undefined): JobEnd | undefined {
  if (job === undefined)
    return { outcome: 'unknown', note: 'job no longer exists (removed, or swept to the dead letters)' };
  const value = job.returnvalue as Partial<DeleteJobResult> | null | undefined;
  if (
    value &&
    typeof value === 'object' &&
    typeof value.outcome === 'string' &&
    OUTCOMES.has(value.outcome)
  ) {
    return { outcome: value.outcome, result: value as DeleteJobResult };
  }
  if (job.finishedOn && job.failedReason)
    return { outcome: 'dead_lettered', note: job.failedReason.slice(0, 200) };
  return undefined;
}

function buildProgress(
  total: number,
  ends: Map<string, JobEnd>,
  open: number,
  paused: boolean,
  elapsedMs: number,
): RunProgress {
  const progress: RunProgress = {
    total,
    deleted: 0,
    already_gone: 0,
    dead_lettered: 0,
    unknown: 0,
    open,
    paused,
    elapsedMs,
  };
  for (const end of ends.values()) progress[end.outcome] += 1;
  return progress;
}
