/**
 * The run ledger: every purge, plan apply, scheduled firing and API batch as a record in Redis,
 * kept RUNS_RETENTION_DAYS and at most RUNS_MAX_COUNT runs, whatever BullMQ keeps of the jobs.
 *
 *   <prefix>:runs:index            sorted set: run id, scored by its start (ms)
 *   <prefix>:runs:run:<id>         hash: the record (run-record.ts), expires with the retention
 *   <prefix>:runs:run:<id>:ended   set: job ids whose end was counted (so a re-reported end counts
 *                                  once); dropped when every enqueued job ended
 *   <prefix>:runs:run:<id>:gone    set: job ids deleted or already gone, for a verifying run only;
 *                                  dropped by the verification
 *
 * Counts are exact: each job run (queue/job-run.ts) reports each job's end (jobEnded), and the last end moves the
 * run to `finished`. Whoever ends a run (a job end, a cancel, a failure) tells the `onRunEnded`
 * listeners of its process (webhooks hook in there).
 */
import type { RedisClient } from '../queue/redis-connection.js';
import { ENQUEUED_SCRIPT, JOB_END_SCRIPT, STOP_SCRIPT, TRIM_SCRIPT } from './run-scripts.js';
import {
  MAX_LISTED_STILL_PRESENT,
  readRunHash,
  type RunJobOutcome,
  type RunKind,
  type RunRecord,
  type RunState,
} from './run-record.js';

export interface RunRetention {
  /** Runs started longer ago than this are dropped (RUNS_RETENTION_DAYS). */
  days: number;
  /** At most this many runs are kept, the oldest go first (RUNS_MAX_COUNT). */
  maxCount: number;
}

export const DEFAULT_RUN_RETENTION: RunRetention = { days: 30, maxCount: 10_000 };

/** Told when a run reaches `finished`, `cancelled` or `failed` (once per run, in the process that ended it). */
export type RunEndedListener = (record: RunRecord) => void;

export interface StartRun {
  runId: string;
  kind: RunKind;
  startedBy: string;
  spec?: Record<string, unknown> | null | undefined;
  verify?: boolean | undefined;
  /** `listing` (default) while the scope is listed. */
  state?: Extract<RunState, 'listing'> | undefined;
}

export interface EnqueuedCounts {
  selected: number;
  enqueued: number;
  duplicates: number;
  /** What the listing saw (matched, skipped, unfinished...), kept in the report. */
  listing?: Record<string, unknown> | undefined;
}

export interface RunLedger {
  /** Records a new run; an id seen before (a plan applied again) is started again, its counts kept. */
  start(run: StartRun): Promise<void>;
  /** The run's jobs are in the queue; ends it at once when they all ended already (or none). */
  enqueued(runId: string, counts: EnqueuedCounts): Promise<RunRecord | undefined>;
  /** A job carrying the run id ended. Counted once per job id. */
  jobEnded(runId: string, jobId: string, outcome: RunJobOutcome): Promise<void>;
  /** Marks a run that is not over `failed`, with why. */
  fail(runId: string, error: string): Promise<void>;
  /** Marks a run that is not over `cancelled`; false when it was over already (or unknown). */
  markCancelled(runId: string): Promise<{ cancelled: boolean; state: RunState | undefined }>;
  /** The job ids of a verifying run that ended deleted or already gone. */
  goneJobIds(runId: string): Promise<string[]>;
  /** Stores a verification's result and drops the gone set. */
  recordVerification(runId: string, stillPresent: readonly object[]): Promise<void>;
  get(runId: string): Promise<RunRecord | undefined>;
  /** The newest runs first. */
  list(limit: number): Promise<RunRecord[]>;
  onRunEnded(listener: RunEndedListener): () => void;
}

export interface RunLedgerOptions {
  connection: RedisClient;
  prefix: string;
  retention?: RunRetention | undefined;
  now?: () => Date;
}

type ScriptAnswer = [number, string];

export function runsIndexKey(prefix: string): string {
  return `${prefix}:runs:index`;
}

export function runKey(prefix: string, runId: string): string {
  return `${prefix}:runs:run:${runId}`;
}

export function createRunLedger(options: RunLedgerOptions): RunLedger {
  const { connection, prefix } = options;
  const retention = options.retention ?? DEFAULT_RUN_RETENTION;
  const ttlSec = Math.max(1, retention.days) * 86_400;
  const now = options.now ?? (() => new Date());
  const listeners = new Set<RunEndedListener>();
  const keys = (runId: string): [string, string, string] => {
    const hash = runKey(prefix, runId);
    return [hash, `${hash}:ended`, `${hash}:gone`];
  };

  async function get(runId: string): Promise<RunRecord | undefined> {
    return readRunHash(await connection.hgetall(runKey(prefix, runId)));
  }

  async function announce(answer: ScriptAnswer, runId: string): Promise<void> {
    if (answer[0] !== 2 || listeners.size === 0) return;
    const record = await get(runId);
    if (record === undefined) return;
    for (const listener of listeners) {
      try {
        listener(record);
      } catch {
        // A listener's failure is its own: it never fails the job or the run that ended.
      }
    }
  }

  async function stop(runId: string, to: 'cancelled' | 'failed', error: string): Promise<ScriptAnswer> {
    const answer = (await connection.eval(
      STOP_SCRIPT,
      1,
      runKey(prefix, runId),
      to,
      now().toISOString(),
      error,
    )) as ScriptAnswer;
    await announce(answer, runId);
    return answer;
  }

  return {
    async start(run) {
      const at = now();
      const hash = runKey(prefix, run.runId);
      // An id seen before (a plan applied again, a re-delivered firing) keeps its counts and start:
      // the jobs of the earlier attempt carry the same run id and still end in it.
      await connection
        .multi()
        .hset(hash, {
          run_id: run.runId,
          kind: run.kind,
          started_by: run.startedBy.slice(0, 200),
          ...(run.spec ? { spec: JSON.stringify(run.spec) } : {}),
          verify: run.verify ? '1' : '0',
          state: run.state ?? 'listing',
        })
        .hsetnx(hash, 'created_at', at.toISOString())
        .hdel(hash, 'finished_at', 'error')
        .expire(hash, ttlSec)
        .zadd(runsIndexKey(prefix), 'NX', at.getTime(), run.runId)
        .eval(
          TRIM_SCRIPT,
          1,
          runsIndexKey(prefix),
          `${prefix}:runs:run:`,
          at.getTime() - retention.days * 86_400_000,
          retention.maxCount,
        )
        .exec();
    },
    async enqueued(runId, counts) {
      const report = JSON.stringify({ listing: counts.listing ?? null });
      const answer = (await connection.eval(
        ENQUEUED_SCRIPT,
        3,
        ...keys(runId),
        counts.selected,
        counts.enqueued,
        counts.duplicates,
        now().toISOString(),
        report,
      )) as ScriptAnswer;
      await announce(answer, runId);
      return get(runId);
    },
    async jobEnded(runId, jobId, outcome) {
      const answer = (await connection.eval(
        JOB_END_SCRIPT,
        3,
        ...keys(runId),
        jobId,
        outcome,
        now().toISOString(),
        ttlSec,
      )) as ScriptAnswer;
      await announce(answer, runId);
    },
    async fail(runId, error) {
      await stop(runId, 'failed', error.slice(0, 500) || 'failed');
    },
    async markCancelled(runId) {
      const [code, state] = await stop(runId, 'cancelled', '');
      return { cancelled: code === 2, state: state === '' ? undefined : (state as RunState) };
    },
    async goneJobIds(runId) {
      return connection.smembers(keys(runId)[2]);
    },
    async recordVerification(runId, stillPresent) {
      const [hash, , gone] = keys(runId);
      const raw = await connection.hget(hash, 'report');
      const report = { ...(raw ? (JSON.parse(raw) as object) : {}) };
      const verification = {
        verified_at: now().toISOString(),
        still_present: stillPresent.slice(0, MAX_LISTED_STILL_PRESENT),
      };
      await connection
        .multi()
        .hset(
          hash,
          'still_present',
          stillPresent.length,
          'report',
          JSON.stringify({ ...report, verification }),
        )
        .del(gone)
        .exec();
    },
    get,
    async list(limit) {
      const ids = await connection.zrevrange(runsIndexKey(prefix), 0, Math.max(1, limit) - 1);
      if (ids.length === 0) return [];
      const pipeline = connection.pipeline();
      for (const id of ids) pipeline.hgetall(runKey(prefix, id));
      const hashes = (await pipeline.exec()) ?? [];
      return hashes
        .map(([, hash]) => readRunHash((hash ?? {}) as Record<string, string>))
        .filter((r): r is RunRecord => r !== undefined);
    },
    onRunEnded(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
