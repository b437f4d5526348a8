/**
 * The job contract: what any BullMQ client, in any language, writes to enqueue one deletion.
 *
 *   queue name   `dcs-cleanup` for the default account (keys `<CLEANUP_PREFIX>:dcs-cleanup:*`), and
 *                `dcs-cleanup@<account>` for each other account of CLEANUP_ACCOUNTS_FILE: the queue
 *                names the account whose credentials sign the job (accountQueueName below)
 *   job name     `delete-task`
 *   job id       `buildJobId(task)`: `del_<project>_<instance>_<task>`, one job per task, so a
 *                second enqueue is a duplicate (the older `del-<project>-<instance>-<task>` too)
 *   data         DeleteJobData below (snake_case, schema_version 2, or 1 without `account`); never
 *                credentials. `account`, when set, must be the account of the queue it is written to
 *   options      attempts and backoff `{ type: 'dcs-jitter' }` (DEFAULT_JOB_OPTIONS)
 *   priority     `data.priority` `urgent` | `bulk` (absent: bulk). An urgent job is also added with
 *                BullMQ's `lifo: true` (RPUSH to the head of the wait list): workers take it before
 *                any waiting bulk job, and the rate gate gives it the next send time of its process
 */
import { z } from 'zod';
import { CleanupError } from '../errors.js';
import { regionSchema } from '../config/regions.js';
import { ACCOUNT_NAME_PATTERN, ACCOUNT_NAME_RULE } from '../config/accounts-file.js';
import { ID_CHARS, idSchema } from '../dcs/ids.js';
import { traceparentSchema } from '../observability/trace-context.js';
import { RUN_ID_PATTERN } from '../purge/run-id.js';

export const QUEUE_NAME = 'dcs-cleanup';
export const DEAD_LETTER_QUEUE_NAME = 'dcs-cleanup-dead';
export const JOB_NAME = 'delete-task';
/** Version 2 added `account`; version 1 jobs (no account) are still accepted. */
export const JOB_SCHEMA_VERSION = 2;
/** The queue of an account that is not the default: `dcs-cleanup@<account>`, apart from every other queue. */
export const ACCOUNT_QUEUE_SEPARATOR = '@';

/** The custom BullMQ backoff type the worker implements (capped full jitter). */
export const BACKOFF_TYPE = 'dcs-jitter';

const id = idSchema;
/** A job's free-text label (`reason`, `source`), wherever one is taken in. */
export const labelSchema = z.string().max(200, 'must be at most 200 characters');
const label = labelSchema;

/** A job's lane: `urgent` goes before any waiting `bulk` job (the default). */
export const JOB_PRIORITIES = ['urgent', 'bulk'] as const;
export type JobPriority = (typeof JOB_PRIORITIES)[number];
export const jobPrioritySchema = z.enum(JOB_PRIORITIES, { error: 'must be urgent or bulk' });

/** One task to delete, as producers hand it over. */
export const taskInputSchema = z.object({
  project_id: id,
  instance_id: id,
  task_id: id,
  region: regionSchema.optional(),
  /** The account whose credentials delete it; default: the account listing its project, else the default. */
  account: z.string().regex(ACCOUNT_NAME_PATTERN, ACCOUNT_NAME_RULE).optional(),
  /** The lane (absent: the caller's default, bulk unless said otherwise). */
  priority: jobPrioritySchema.optional(),
});
export type TaskInput = z.infer<typeof taskInputSchema>;

/** The job payload stored in Redis. */
export const deleteJobDataSchema = taskInputSchema.extend({
  schema_version: z.union([z.literal(1), z.literal(JOB_SCHEMA_VERSION)], {
    error: `must be 1 or ${JOB_SCHEMA_VERSION}`,
  }),
  reason: label.optional(),
  source: label.optional(),
  /** The purge or schedule run that enqueued this job, if any. */
  run_id: z.string().regex(RUN_ID_PATTERN).optional(),
  enqueued_at: z.string().optional(),
  /** W3C traceparent of the request that enqueued the job (optional; older jobs have none). */
  traceparent: traceparentSchema.optional(),
});
export type DeleteJobData = z.infer<typeof deleteJobDataSchema>;

/** What a finished job returns (BullMQ `returnvalue`), also the outcome log record's core. */
export interface DeleteJobResult {
  outcome: 'deleted' | 'already_gone' | 'dead_lettered';
  http_status: number | null;
  error_code: string | null;
  request_id: string | null;
  attempts: number;
  duration_ms: number;
  reason?: string;
  dead_letter_id?: string;
  /** The trace id of the job's `traceparent`, when it had one. */
  trace_id?: string;
}

/** The queue of `account`: `dcs-cleanup` for the default account, else `dcs-cleanup@<account>`. */
export function accountQueueName(account: string, defaultAccount: string): string {
  return account === defaultAccount ? QUEUE_NAME : `${QUEUE_NAME}${ACCOUNT_QUEUE_SEPARATOR}${account}`;
}

/**
 * Deterministic job id: the same task always maps to the same job, and distinct tasks never share
 * one, as `_` is outside the id alphabet (and BullMQ refuses `:` in custom ids).
 */
export function buildJobId(task: Pick<TaskInput, 'project_id' | 'instance_id' | 'task_id'>): string {
  return `del_${task.project_id}_${task.instance_id}_${task.task_id}`;
}

/**
 * The id the same task had before (`del-<project>-<instance>-<task>`): ambiguous, as `-` is in the
 * id alphabet. Only looked up, for the dedupe window after an upgrade, and only a job whose data
 * names the same task counts (see the producer).
 */
export function buildLegacyJobId(task: Pick<TaskInput, 'project_id' | 'instance_id' | 'task_id'>): string {
  return `del-${task.project_id}-${task.instance_id}-${task.task_id}`;
}

/** The task of a current job id, undefined for any other id (the inverse of buildJobId). */
export function parseJobId(
  jobId: string,
): Pick<TaskInput, 'project_id' | 'instance_id' | 'task_id'> | undefined {
  const parts = jobId.split('_');
  if (parts.length !== 4 || parts[0] !== 'del' || !JOB_ID_PATTERN.test(jobId)) return undefined;
  const [, project_id, instance_id, task_id] = parts as [string, string, string, string];
  return { project_id, instance_id, task_id };
}

const ID = `[${ID_CHARS}]{1,64}`;
/**
 * Every deletion job id, current or legacy (three ids and two dashes: 5 to 194 characters after
 * `del-`, checked without backtracking): what a route accepts as a job id.
 */
export const JOB_ID_PATTERN = new RegExp(`^(del_${ID}_${ID}_${ID}|del-[${ID_CHARS}]{5,194})$`);
/** Every dead letter id: `dl-` and a hint made from the job id (`src/queue/dead-letters.ts`). */
export const DEAD_LETTER_ID_PATTERN = /^dl-[A-Za-z0-9._:-]{1,297}$/;

/** Validates one task; INVALID_INPUT naming `where.field` (e.g. `tasks[3].task_id`, `line 7: task_id`). */
export function parseTaskInput(value: unknown, where = ''): TaskInput {
  const result = taskInputSchema.safeParse(value);
  if (result.success) return result.data;
  throw toInputError(result.error, where);
}

/** Validates a raw queue payload; INVALID_JOB naming every bad field. */
export function parseJobData(value: unknown): DeleteJobData {
  const result = deleteJobDataSchema.safeParse(value);
  if (result.success) return result.data;
  const fields = result.error.issues.map((i) => `${i.path.join('.') || '(payload)'}: ${i.message}`);
  throw new CleanupError('INVALID_JOB', `invalid job payload: ${fields.join('; ')}`, {
    field: result.error.issues.map((i) => i.path.join('.')).join(','),
  });
}

function toInputError(error: z.ZodError, where: string): CleanupError {
  const prefix = where === '' ? '' : where.endsWith(':') ? `${where} ` : `${where}.`;
  const parts = error.issues.map((i) => `${prefix}${i.path.join('.') || '(value)'}: ${i.message}`);
  return new CleanupError('INVALID_INPUT', parts.join('; '), {
    field: error.issues.map((i) => `${prefix}${i.path.join('.')}`).join(','),
  });
}
