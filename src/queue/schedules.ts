/**
 * Scheduled housekeeping: named purges fired by BullMQ job schedulers.
 *
 *   queue        `dcs-cleanup-schedules` (keys `<CLEANUP_PREFIX>:dcs-cleanup-schedules:*`), a queue of
 *                its own so the deletion worker, which dead-letters payloads it does not know, never
 *                sees a firing
 *   scheduler    id = the schedule name; `{ pattern, tz }` or `{ every }`; upserting a name updates it
 *   job          `purge-run` with ScheduleJobData: the name and the purge spec, never credentials
 *   last run     hash `<prefix>:dcs-cleanup-schedules:last-runs`, field = name, value = LastRun JSON
 *
 * BullMQ turns each firing into exactly one job with a deterministic id, and a job is processed by
 * one worker at a time, so several worker processes never run the same firing twice.
 */
import type { JobsOptions, Queue } from 'bullmq';
import { openQueue } from './open-queue.js';
import type { RedisClient } from './redis-connection.js';
import { z } from 'zod';
import { CleanupError } from '../errors.js';
import { parsePurgeSpec, purgeSpecSchema, type PurgeSpec } from '../purge/select-purge.js';

export const SCHEDULE_QUEUE_NAME = 'dcs-cleanup-schedules';
export const SCHEDULE_JOB_NAME = 'purge-run';
export const SCHEDULE_NAME_PATTERN = /^[A-Za-z0-9._-]{1,40}$/;
const SCHEDULE_SCHEMA_VERSION = 1;

/** When a schedule fires: a cron pattern (with an optional IANA time zone) or a fixed interval. */
export type ScheduleTiming = { cron: string; tz?: string | undefined } | { everyMs: number };

export const scheduleJobDataSchema = z.object({
  schema_version: z.literal(SCHEDULE_SCHEMA_VERSION),
  schedule: z.string().regex(SCHEDULE_NAME_PATTERN),
  spec: purgeSpecSchema,
});
export type ScheduleJobData = { schema_version: 1; schedule: string; spec: PurgeSpec };

/** What the last firing of a schedule did. */
export interface LastRun {
  status: 'enqueued' | 'nothing_matched' | 'guard_stopped' | 'failed';
  run_id: string;
  job_id: string;
  started_at: string;
  finished_at: string;
  matched: number;
  enqueued: number;
  duplicates: number;
  skipped: number;
  unfinished: number;
  error?: string;
}

export interface ScheduleInfo {
  name: string;
  cron: string | null;
  tz: string | null;
  every_ms: number | null;
  /** When it fires next (ISO-8601), as BullMQ has it. */
  next_run_at: string | null;
  spec: PurgeSpec | null;
  last_run: LastRun | null;
}

export interface Schedules {
  readonly queue: Queue;
  /** Creates or updates the schedule `name`. INVALID_INPUT for a bad name, cron pattern or zone. */
  upsert(name: string, timing: ScheduleTiming, spec: PurgeSpec): Promise<ScheduleInfo>;
  list(): Promise<ScheduleInfo[]>;
  get(name: string): Promise<ScheduleInfo | undefined>;
  /** True when it existed. Its last-run record goes with it. */
  remove(name: string): Promise<boolean>;
  /** Fires the schedule once now (a worker runs it); NOT_FOUND when there is no such schedule. */
  runNow(name: string): Promise<string>;
  recordLastRun(name: string, run: LastRun): Promise<void>;
  close(): Promise<void>;
}

/** Options of every firing job: one attempt (the next firing is the retry), a short history kept. */
const FIRING_JOB_OPTIONS = {
  attempts: 1,
  removeOnComplete: { count: 100 },
  removeOnFail: { count: 100 },
} satisfies JobsOptions;

export function lastRunsKey(prefix: string): string {
  return `${prefix}:${SCHEDULE_QUEUE_NAME}:last-runs`;
}

/** Opens the schedules queue on `connection` (the caller owns the connection). */
export function createSchedules(options: { connection: RedisClient; prefix: string }): Schedules {
  const { connection, prefix } = options;
  const queue = openQueue<ScheduleJobData>(connection, prefix, SCHEDULE_QUEUE_NAME);
  const key = lastRunsKey(prefix);

  async function readLastRun(name: string): Promise<LastRun | null> {
    const raw = await connection.hget(key, name);
    return raw === null ? null : (JSON.parse(raw) as LastRun);
  }

  async function get(name: string): Promise<ScheduleInfo | undefined> {
    const scheduler = await queue.getJobScheduler(name);
    if (!scheduler) return undefined;
    return toInfo(scheduler, await readLastRun(name));
  }

  return {
    queue,
    async upsert(name, timing, spec) {
      checkName(name);
      const data: ScheduleJobData = {
        schema_version: SCHEDULE_SCHEMA_VERSION,
        schedule: name,
        spec: parsePurgeSpec(spec),
      };
      const repeat =
        'everyMs' in timing ? { every: timing.everyMs } : { pattern: timing.cron, ...tzOption(timing.tz) };
      try {
        await queue.upsertJobScheduler(name, repeat, {
          name: SCHEDULE_JOB_NAME,
          data,
          opts: FIRING_JOB_OPTIONS,
        });
      } catch (err) {
        throw new CleanupError(
          'INVALID_INPUT',
          `--cron ${JSON.stringify('cron' in timing ? timing.cron : '')}: ${(err as Error).message}`,
          {
            field: 'cron',
            cause: err,
          },
        );
      }
      return (await get(name))!;
    },
    async list() {
      const schedulers = await queue.getJobSchedulers(0, -1, true);
      const names = schedulers.map((s) => s.key);
      const raws = names.length === 0 ? [] : await connection.hmget(key, ...names);
      return schedulers.map((s, i) => toInfo(s, raws[i] ? (JSON.parse(raws[i]) as LastRun) : null));
    },
    get,
    async remove(name) {
      const removed = await queue.removeJobScheduler(name);
      await connection.hdel(key, name);
      return removed;
    },
    async runNow(name) {
      const scheduler = await queue.getJobScheduler(name);
      if (!scheduler?.template?.data) {
        throw new CleanupError('NOT_FOUND', `no schedule named ${JSON.stringify(name.slice(0, 40))}`, {
          field: 'name',
        });
      }
      const job = await queue.add(SCHEDULE_JOB_NAME, scheduler.template.data, {
        ...FIRING_JOB_OPTIONS,
        jobId: `manual-${name}-${Date.now()}`,
      });
      return job.id!;
    },
    async recordLastRun(name, run) {
      await connection.hset(key, name, JSON.stringify(run));
    },
    async close() {
      await queue.close();
    },
  };
}

/** INVALID_INPUT unless `name` is 1 to 40 letters, digits, `.`, `_` or `-`. */
export function checkName(name: string): void {
  if (!SCHEDULE_NAME_PATTERN.test(name)) {
    throw new CleanupError(
      'INVALID_INPUT',
      `schedule name ${JSON.stringify(name.slice(0, 60))}: use 1 to 40 letters, digits, ".", "_" or "-"`,
      {
        field: 'name',
      },
    );
  }
}

function tzOption(tz: string | undefined): { tz?: string } {
  if (tz === undefined) return {};
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
  } catch {
    throw new CleanupError(
      'INVALID_INPUT',
      `--tz ${JSON.stringify(tz.slice(0, 60))}: not an IANA time zone such as Asia/Shanghai`,
      {
        field: 'tz',
      },
    );
  }
  return { tz };
}

interface SchedulerJson {
  key: string;
  pattern?: string | null;
  every?: number | null;
  tz?: string | null;
  next?: number | null;
  template?: { data?: unknown };
}

function toInfo(scheduler: SchedulerJson, lastRun: LastRun | null): ScheduleInfo {
  const parsed = scheduleJobDataSchema.safeParse(scheduler.template?.data);
  return {
    name: scheduler.key,
    cron: scheduler.pattern ?? null,
    tz: scheduler.tz ?? null,
    every_ms: scheduler.every === undefined || scheduler.every === null ? null : Number(scheduler.every),
    next_run_at: scheduler.next ? new Date(Number(scheduler.next)).toISOString() : null,
    spec: parsed.success ? parsed.data.spec : null,
    last_run: lastRun,
  };
}
