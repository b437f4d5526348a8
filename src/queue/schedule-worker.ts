/**
 * Runs schedule firings: each `purge-run` job lists the schedule's scope, plans the purge under its
 * guard, enqueues the deletions with a run id, records the last run and logs one summary record.
 * Credentials come from this process (the client registry), never from the job.
 */
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { RedisClient } from './redis-connection.js';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from '../observability/logger.js';
import type { EventPublisher } from '../events/event-publisher.js';
import { buildScheduleRunId } from '../purge/run-id.js';
import type { TaskLister } from '../purge/stream-inventory.js';
import { readCircuitState } from './circuit-breaker.js';
import type { Producer } from './producer.js';
import { createRunLedger, type RunLedger } from '../runs/run-ledger.js';
import { API_PURGE_JOB_NAME, RUN_VERIFY_JOB_NAME } from '../runs/run-jobs.js';
import {
  processApiPurge,
  processRunVerify,
  runRecordedPurge,
  type WorkerRunDeps,
} from '../runs/worker-runs.js';
import {
  SCHEDULE_QUEUE_NAME,
  createSchedules,
  scheduleJobDataSchema,
  type LastRun,
  type ScheduleJobData,
} from './schedules.js';

export interface ScheduleWorkerOptions {
  /** A `worker`-role connection (maxRetriesPerRequest null); the caller owns it. */
  connection: RedisClient;
  prefix: string;
  logger: Logger;
  /** The DCS client to list with, for a region (undefined: the default) and the spec's account. */
  getLister(region: string | undefined, scope?: SpecAccount): TaskLister;
  /** The queue of the spec's account, whose breaker holds its firings back (default `dcs-cleanup`). */
  queueOf?(scope: SpecAccount): string;
  producer: Producer;
  /** Instances listed at once per firing (default 8). */
  listConcurrency?: number;
  /** The run ledger firings and API purges are recorded in (default: one under `prefix`). */
  runs?: RunLedger | undefined;
  /** How often a verification pass looks again for its run's end (default 5 s). */
  verifyPollMs?: number | undefined;
  /** Announces `schedule.failed` (src/events); default: no events. */
  events?: Pick<EventPublisher, 'publishEvent'> | undefined;
}

/** What picks a spec's account: the one it names, else the one listing its project. */
export interface SpecAccount {
  project_id: string;
  account?: string | undefined;
}

export interface ScheduleWorker {
  readonly worker: Worker;
  close(): Promise<void>;
}

/** Starts processing schedule firings; one firing at a time per process. */
export function createScheduleWorker(options: ScheduleWorkerOptions): ScheduleWorker {
  const { logger } = options;
  const schedules = createSchedules({ connection: options.connection, prefix: options.prefix });
  const runDeps: WorkerRunDeps = {
    ledger: options.runs ?? createRunLedger({ connection: options.connection, prefix: options.prefix }),
    getLister: (region, scope) => options.getLister(region, scope),
    producer: options.producer,
    connection: options.connection,
    schedulesQueue: schedules.queue,
    logger,
    listConcurrency: options.listConcurrency,
    verifyPollMs: options.verifyPollMs,
  };

  /** Schedule firings, API purges and verification passes share the queue (and its one-at-a-time). */
  async function processJob(job: Job, token?: string): Promise<unknown> {
    if (job.name === API_PURGE_JOB_NAME) return processApiPurge(runDeps, job);
    if (job.name === RUN_VERIFY_JOB_NAME) return processRunVerify(runDeps, job, token);
    return runFiring(job);
  }

  async function runFiring(job: Job): Promise<LastRun> {
    const parsed = scheduleJobDataSchema.safeParse(job.data);
    if (!parsed.success) {
      logger.error({ job_id: job.id, err: parsed.error.message }, 'invalid schedule firing: skipped');
      throw new UnrecoverableError('invalid schedule firing payload');
    }
    const data: ScheduleJobData = parsed.data;
    const startedAt = new Date();
    // The firing's planned time (a scheduler job's prevMillis), so a re-delivered firing keeps its run id.
    const firedAt = new Date(job.opts.prevMillis ?? job.timestamp);
    const runId = buildScheduleRunId(data.schedule, job.id ?? randomBytes(8).toString('hex'), firedAt);
    const base = { run_id: runId, job_id: job.id ?? '', started_at: startedAt.toISOString() };
    await runDeps.ledger.start({
      runId,
      kind: 'schedule',
      startedBy: `schedule ${data.schedule}`,
      spec: data.spec,
      verify: data.spec.verify === true,
    });
    try {
      // The breaker paused deletions for a credentials or endpoint failure: listing with the same key
      // would only add failed authentications towards Huawei's lockout.
      const queueName = options.queueOf?.(data.spec.scope);
      if ((await readCircuitState(options.connection, options.prefix, queueName)).open) {
        throw new Error(
          'the circuit breaker holds the queue paused (see `dcs-cleanup status`): firing skipped',
        );
      }
      const run = await executeFiring(data, runId, base);
      await schedules.recordLastRun(data.schedule, run);
      const level = run.status === 'guard_stopped' ? 'warn' : 'info';
      logger[level]({ schedule: data.schedule, ...run }, 'schedule run');
      return run;
    } catch (err) {
      const run: LastRun = {
        ...base,
        status: 'failed',
        finished_at: new Date().toISOString(),
        matched: 0,
        enqueued: 0,
        duplicates: 0,
        skipped: 0,
        unfinished: 0,
        error: (err instanceof Error ? err.message : String(err)).slice(0, 500),
      };
      await runDeps.ledger.fail(runId, run.error ?? 'failed');
      await schedules.recordLastRun(data.schedule, run);
      logger.error({ schedule: data.schedule, ...run }, 'schedule run failed');
      await options.events?.publishEvent('schedule.failed', { schedule: data.schedule, ...run });
      throw err;
    }
  }

  async function executeFiring(
    data: ScheduleJobData,
    runId: string,
    base: Pick<LastRun, 'run_id' | 'job_id' | 'started_at'>,
  ): Promise<LastRun> {
    const startedAt = new Date(base.started_at);
    const outcome = await runRecordedPurge(runDeps, {
      runId,
      spec: data.spec,
      verify: data.spec.verify === true,
      source: 'schedule',
      reason: `schedule ${data.schedule}`,
      now: startedAt,
    });
    const { listing } = outcome;
    const stopped = outcome.status === 'guard_stopped';
    const enqueued = outcome.status === 'enqueued' ? outcome.enqueued : { enqueued: 0, duplicates: 0 };
    return {
      ...base,
      status: stopped ? 'guard_stopped' : listing.counts.matched === 0 ? 'nothing_matched' : 'enqueued',
      finished_at: new Date().toISOString(),
      matched: listing.counts.matched,
      enqueued: enqueued.enqueued,
      duplicates: enqueued.duplicates,
      skipped: listing.counts.skipped,
      unfinished: listing.counts.unfinished,
    };
  }

  const worker = new Worker(SCHEDULE_QUEUE_NAME, processJob, {
    connection: options.connection,
    prefix: options.prefix,
    name: `${hostname()}:${process.pid}:schedules`,
    concurrency: 1,
    // A big account takes minutes to list; BullMQ renews the lock while the firing runs.
    lockDuration: 60_000,
  });
  worker.on('error', (err) => logger.error({ err: err.message }, 'schedule worker error'));

  let closing: Promise<void> | undefined;
  return {
    worker,
    close() {
      closing ??= (async () => {
        await worker.close();
        await schedules.close();
      })();
      return closing;
    },
  };
}
