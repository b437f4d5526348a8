/**
 * Runs the worker processes carry out, recorded in the run ledger: a purge listed, planned and
 * enqueued in a worker (a schedule firing, an API purge), and the verification pass of a run.
 * The schedule worker hands its `purge-run`, `api-purge` and `run-verify` jobs here.
 */
import { DelayedError, UnrecoverableError, type Job, type Queue } from 'bullmq';
import type { Logger } from '../observability/logger.js';
import { executePurge, type PurgeOutcome } from '../purge/purge-use-case.js';
import { randomRunSuffix } from '../purge/run-id.js';
import type { PurgeSpec } from '../purge/select-purge.js';
import type { TaskLister } from '../purge/stream-inventory.js';
import { enqueueSelection, type EnqueueSelectionResult } from '../queue/enqueue-selection.js';
import type { Producer } from '../queue/producer.js';
import type { RedisClient } from '../queue/redis-connection.js';
import { removeWaitingJobs } from './cancel-run.js';
import { apiPurgeJobDataSchema, enqueueRunVerify, runVerifyJobDataSchema } from './run-jobs.js';
import type { RunLedger } from './run-ledger.js';
import { FINAL_RUN_STATES } from './run-record.js';
import { verifyRun } from './run-verify.js';

export interface WorkerRunDeps {
  ledger: RunLedger;
  /** The DCS client to list with, for a region and the spec's scope (its project and account). */
  getLister(
    region: string | undefined,
    scope?: { project_id: string; account?: string | undefined },
  ): TaskLister;
  producer: Producer;
  /** A `worker`-role connection. */
  connection: RedisClient;
  /** Where `run-verify` jobs go (the schedules queue). */
  schedulesQueue: Queue;
  logger: Logger;
  listConcurrency?: number | undefined;
  /** How often a verification looks again for its run's end (default 5 s). */
  verifyPollMs?: number | undefined;
}

export interface RecordedPurge {
  runId: string;
  spec: PurgeSpec;
  verify: boolean;
  source: string;
  reason: string;
  concurrency?: number | undefined;
  /** W3C traceparent of the request that started the run: carried into every job it enqueues. */
  traceparent?: string | undefined;
  now: Date;
}

/**
 * The purge use case with the ledger told each step: enqueued (with its counts), failed (the
 * listing threw, or the guard stopped it), or nothing at all when it was cancelled while listing.
 */
export async function runRecordedPurge(
  deps: WorkerRunDeps,
  run: RecordedPurge,
): Promise<PurgeOutcome<EnqueueSelectionResult>> {
  const { ledger, runId } = { ledger: deps.ledger, runId: run.runId };
  let outcome: PurgeOutcome<EnqueueSelectionResult>;
  try {
    outcome = await executePurge(
      {
        lister: deps.getLister(run.spec.scope.region, run.spec.scope),
        enqueue: (tasks, labels) =>
          enqueueSelection(deps.producer, tasks, { ...labels, traceparent: run.traceparent }),
        now: () => run.now,
        randomHex: randomRunSuffix,
      },
      {
        spec: run.spec,
        intent: 'run',
        source: run.source,
        reason: run.reason,
        runId,
        concurrency: run.concurrency ?? deps.listConcurrency,
        // A run cancelled while it listed enqueues nothing.
        approve: async () => (await ledger.get(runId))?.state !== 'cancelled',
      },
    );
  } catch (err) {
    await ledger.fail(runId, err instanceof Error ? err.message : String(err));
    throw err;
  }
  const { listing } = outcome;
  if (outcome.status === 'guard_stopped') {
    const why = `${listing.counts.matched} tasks match, more than max ${run.spec.max}: nothing was enqueued`;
    await ledger.fail(runId, `guard: ${why}`);
  } else if (outcome.status === 'enqueued') {
    const record = await ledger.enqueued(runId, {
      selected: listing.selected.length,
      enqueued: outcome.enqueued.enqueued,
      duplicates: outcome.enqueued.duplicates,
      listing: { ...listing.counts, instances_gone: listing.inventory.instancesGone.length },
    });
    // Cancelled while the enqueue ran: what it added after the cancel's sweep goes too.
    if (record?.state === 'cancelled') {
      await removeWaitingJobs(ledger, { queue: deps.producer.queue, connection: deps.connection }, runId);
    }
    if (run.verify) await enqueueRunVerify(deps.schedulesQueue, runId);
  }
  return outcome;
}

/** An `api-purge` job: the run the API answered 202 for (recorded as `listing` by the API). */
export async function processApiPurge(deps: WorkerRunDeps, job: Job): Promise<unknown> {
  const parsed = apiPurgeJobDataSchema.safeParse(job.data);
  if (!parsed.success) {
    deps.logger.error({ job_id: job.id, err: parsed.error.message }, 'invalid api purge job: skipped');
    throw new UnrecoverableError('invalid api purge payload');
  }
  const data = parsed.data;
  const record = await deps.ledger.get(data.run_id);
  if (record === undefined || record.state !== 'listing') return { run_id: data.run_id, skipped: true };
  const outcome = await runRecordedPurge(deps, {
    runId: data.run_id,
    spec: data.spec,
    verify: data.verify,
    source: data.source,
    reason: data.reason,
    concurrency: data.concurrency,
    traceparent: data.traceparent,
    now: new Date(),
  });
  const summary = { run_id: data.run_id, status: outcome.status, ...outcome.listing.counts };
  deps.logger.info(summary, 'api purge run');
  return summary;
}

/** A `run-verify` job: waits (delayed again) until its run is over, then verifies it. */
export async function processRunVerify(deps: WorkerRunDeps, job: Job, token?: string): Promise<unknown> {
  const parsed = runVerifyJobDataSchema.safeParse(job.data);
  if (!parsed.success) throw new UnrecoverableError('invalid run-verify payload');
  const runId = parsed.data.run_id;
  const record = await deps.ledger.get(runId);
  if (record === undefined || record.state === 'failed') return { run_id: runId, verified: false };
  if (!FINAL_RUN_STATES.has(record.state)) {
    await job.moveToDelayed(Date.now() + (deps.verifyPollMs ?? 5_000), token);
    throw new DelayedError();
  }
  const scope = (record.spec?.scope ?? {}) as { region?: string; project_id?: string; account?: string };
  const lister =
    scope.project_id === undefined
      ? deps.getLister(scope.region)
      : deps.getLister(scope.region, { project_id: scope.project_id, account: scope.account });
  const still = await verifyRun(deps.ledger, lister, runId, {
    ...(deps.listConcurrency === undefined ? {} : { concurrency: deps.listConcurrency }),
  });
  const level = still.length > 0 ? 'warn' : 'info';
  deps.logger[level]({ run_id: runId, still_present: still.length }, 'run verified');
  return { run_id: runId, still_present: still.length };
}
